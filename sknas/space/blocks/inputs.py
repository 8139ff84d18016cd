"""Graph inputs."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Choice
from ..registry import register
from .base import Input, one_of, positive_int

__all__ = ["ImageInput", "TabularInput", "TextInput"]


@register
class TabularInput(Input):
    """A table: numeric, categorical and missing values, as a 2-D array or a DataFrame.

    Parameters
    ----------
    name : str, optional
        Name of the input; also the key when data is given as a dict.
    """

    type_name = "tabular_input"
    kind = "tabular"


@register
class ImageInput(Input):
    """Images: ``(n, h, w)``, ``(n, h, w, c)`` or ``(n, c, h, w)``, uint8 or float.

    Parameters
    ----------
    name : str, optional
        Name of the input; also the key when data is given as a dict.
    """

    type_name = "image_input"
    kind = "image"


#: how a TextInput presents texts to the network
REPRESENTATIONS = ("ngram", "hashed", "sequence")
#: n-gram analyzers of the TF-IDF and hashed text representations
ANALYZERS = ("word", "char_wb", "word+char")


@register
class TextInput(Input):
    """Raw strings: a list, a 1-D array of str, or a pandas Series.

    The text is turned into numbers by a vectorizer fitted on the training texts, chosen per
    trial from these arguments (a plain value, a sknas hyperparameter, or None for the
    default range in brackets).

    Parameters
    ----------
    representation : {"ngram", "hashed", "sequence"}, hyperparameter or None, default=None
        ``"ngram"``: TF-IDF weighted bag of n-grams, for dense layers. ``"hashed"``: each
        text's n-grams hashed into 65,536 buckets per kind, with TF-IDF weights, for an
        :class:`NgramEmbedding` (fastText). ``"sequence"``: token ids, for
        :class:`Embedding` and sequence blocks. None picks "sequence" when the input feeds an
        Embedding, "hashed" when it feeds an NgramEmbedding, "ngram" when it feeds a
        NaiveBayesWeighting, searches the three when it feeds a TextBlock, else "ngram".
    analyzer : {"word", "char_wb", "word+char"}, hyperparameter or None, default=None
        n-grams of words (1 to 2), of characters inside word boundaries (2 to 5 for TF-IDF,
        3 to 5 hashed), or both side by side (for TF-IDF, ``max_tokens`` shared half and
        half) [all three].
    units : {"word", "char", "subword"}, hyperparameter or None, default=None
        Tokens of a sequence: words, characters, or subword units learned from the texts by
        byte-pair encoding (SentencePiece), which spell rare and unseen words out of known
        pieces [word, subword].
    max_tokens : int, hyperparameter or None, default=None
        Vocabulary size: most frequent n-grams or tokens kept [10000, 20000]. Unused by the
        hashed representation.
    sequence_length : int, hyperparameter or None, default=None
        Tokens per text; longer texts are cut, shorter ones padded [64, 128, 256].
    name : str, optional
        Name of the input; also the key when data is given as a dict.
    """

    type_name = "text_input"
    kind = "text"

    def __init__(
        self,
        *,
        representation: Any = None,
        analyzer: Any = None,
        units: Any = None,
        max_tokens: Any = None,
        sequence_length: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.representation = representation
        self.analyzer = analyzer
        self.units = units
        self.max_tokens = max_tokens
        self.sequence_length = sequence_length

    def sample(self, hp, consumers):
        if "embedding" in consumers:
            default: Any = "sequence"
        elif "ngram_embedding" in consumers:
            default = "hashed"
        elif "nb_weighting" in consumers:
            default = "ngram"
        elif "text_block" in consumers:
            default = Choice(list(REPRESENTATIONS))
        else:
            default = "ngram"
        kind = hp.get("representation", self.representation, default, one_of(*REPRESENTATIONS))
        if kind == "hashed":
            analyzer = hp.get(
                "analyzer", self.analyzer, Choice(list(ANALYZERS)), one_of(*ANALYZERS)
            )
            return {"representation": kind, "analyzer": analyzer}
        tokens = hp.get("max_tokens", self.max_tokens, Choice([10000, 20000]), positive_int)
        if kind == "ngram":
            analyzer = hp.get(
                "analyzer", self.analyzer, Choice(list(ANALYZERS)), one_of(*ANALYZERS)
            )
            return {"representation": kind, "analyzer": analyzer, "max_tokens": tokens}
        return {
            "representation": kind,
            "units": hp.get(
                "units", self.units, Choice(["word", "subword"]), one_of("word", "char", "subword")
            ),
            "max_tokens": tokens,
            "sequence_length": hp.get(
                "sequence_length", self.sequence_length, Choice([64, 128, 256]), positive_int
            ),
        }
