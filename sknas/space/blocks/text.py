"""Blocks over texts: token and n-gram embeddings, recurrent and transformer layers."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Choice, Int
from ..registry import register
from .base import Block, boolean, one_of, positive_int, probability

__all__ = ["Embedding", "NaiveBayesWeighting", "NgramEmbedding", "RNNBlock", "TransformerBlock"]


@register
class Embedding(Block):
    """Learned token embeddings, turning token ids into a sequence of vectors.

    Parameters
    ----------
    embedding_dim : int, hyperparameter or None, default=None
        Width of each token's vector [32, 64, 128].
    dropout : float, hyperparameter or None, default=None
        Dropout on the vectors [0, 0.25].
    name : str, optional
        Block name.
    """

    type_name = "embedding"
    #: the default range of ``embedding_dim``
    widths: tuple[int, ...] = (32, 64, 128)

    def __init__(
        self, *, embedding_dim: Any = None, dropout: Any = None, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.embedding_dim = embedding_dim
        self.dropout = dropout

    def sample(self, hp):
        return {
            "embedding_dim": hp.get(
                "embedding_dim", self.embedding_dim, Choice(list(self.widths)), positive_int
            ),
            "dropout": hp.get("dropout", self.dropout, Choice([0.0, 0.25]), probability),
        }


@register
class NgramEmbedding(Embedding):
    """The weighted average of a text's hashed n-gram embeddings, one vector per text: the
    representation of fastText (Joulin et al. 2017), a ``torch.nn.EmbeddingBag``.

    Apply it to a TextInput with ``representation="hashed"``; a linear head (or a
    :class:`DenseBlock`) after it makes fastText's classifier.

    Parameters
    ----------
    embedding_dim : int, hyperparameter or None, default=None
        Width of each n-gram's vector [8, 16, 32] (fastText's is 10).
    dropout : float, hyperparameter or None, default=None
        Dropout on the text's vector [0, 0.25].
    name : str, optional
        Block name.
    """

    type_name = "ngram_embedding"
    widths = (8, 16, 32)


@register
class NaiveBayesWeighting(Block):
    """TF-IDF n-grams with each feature scaled by the magnitude of its naive Bayes
    log-count ratio, as NBSVM scales its features (Wang and Manning 2012), for a classifier.

    A feature's ratio compares how often texts of a class contain it with how often the
    others do; with several classes each is compared with the rest and the largest
    magnitude is kept. Each network computes the ratios from the class labels of the rows it
    is fitted on (a trial's training rows, each fold's with ``cv``, every row when the final
    model is refit; a final model that keeps its trial's weights keeps its ratios), so that
    validation labels never reach them, and carries them (exports included).

    Apply it to a TextInput with ``representation="ngram"``, on a path to one
    :class:`ClassificationHead`: with a :class:`DenseBlock` of 0 layers after it, a
    logistic regression on naive Bayes scaled TF-IDF (NBSVM trains a linear SVM on
    binarized features instead).

    Parameters
    ----------
    name : str, optional
        Block name.
    """

    type_name = "nb_weighting"


@register
class RNNBlock(Block):
    """Recurrent layers (GRU or LSTM) over a sequence; returns the whole output sequence.

    Parameters
    ----------
    layer_type : {"gru", "lstm"}, hyperparameter or None, default=None
        [both].
    bidirectional : bool, hyperparameter or None, default=None
        Read the sequence both ways [True, False].
    num_layers : int, hyperparameter or None, default=None
        Stacked layers [1, 2].
    units : int, hyperparameter or None, default=None
        Hidden units per direction [32, 64, 128].
    dropout : float, hyperparameter or None, default=None
        Dropout between stacked layers [0, 0.25].
    name : str, optional
        Block name.
    """

    type_name = "rnn_block"

    def __init__(
        self,
        *,
        layer_type: Any = None,
        bidirectional: Any = None,
        num_layers: Any = None,
        units: Any = None,
        dropout: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.layer_type = layer_type
        self.bidirectional = bidirectional
        self.num_layers = num_layers
        self.units = units
        self.dropout = dropout

    def sample(self, hp):
        return {
            "layer_type": hp.get(
                "layer_type", self.layer_type, Choice(["gru", "lstm"]), one_of("gru", "lstm")
            ),
            "bidirectional": hp.get(
                "bidirectional", self.bidirectional, Choice([True, False]), boolean
            ),
            "num_layers": hp.get("num_layers", self.num_layers, Int(1, 2), positive_int),
            "units": hp.get("units", self.units, Choice([32, 64, 128]), positive_int),
            "dropout": hp.get("dropout", self.dropout, Choice([0.0, 0.25]), probability),
        }


@register
class TransformerBlock(Block):
    """Transformer encoder layers with learned positions over a sequence of vectors.

    Parameters
    ----------
    num_heads : int, hyperparameter or None, default=None
        Attention heads; the input width must be divisible by it [2, 4].
    num_layers : int, hyperparameter or None, default=None
        Encoder layers [1, 2].
    dense_dim : int, hyperparameter or None, default=None
        Width of the feed-forward part [64, 128, 256].
    dropout : float, hyperparameter or None, default=None
        Dropout inside the layers [0, 0.1, 0.25].
    name : str, optional
        Block name.
    """

    type_name = "transformer_block"

    def __init__(
        self,
        *,
        num_heads: Any = None,
        num_layers: Any = None,
        dense_dim: Any = None,
        dropout: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.dense_dim = dense_dim
        self.dropout = dropout

    def sample(self, hp):
        return {
            "num_heads": hp.get("num_heads", self.num_heads, Choice([2, 4]), positive_int),
            "num_layers": hp.get("num_layers", self.num_layers, Int(1, 2), positive_int),
            "dense_dim": hp.get("dense_dim", self.dense_dim, Choice([64, 128, 256]), positive_int),
            "dropout": hp.get("dropout", self.dropout, Choice([0.0, 0.1, 0.25]), probability),
        }
