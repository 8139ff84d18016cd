"""Modules over texts: hashed n-gram bags, and over token sequences: embeddings, 1-D
convolutions, RNNs, transformers, pooling.

A sequence travels between these modules as a :class:`~sknas.nn.builder.PaddedSequence`: its
mask comes from the token ids (id 0 pads, at the end of each text) and every module leaves the
padded positions out, so that more or less padding does not change what a network computes.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ...exceptions import GraphError
from ...space.spec import TensorInfo
from ..builder import PaddedSequence, SequenceModule, builds
from .common import vector


def _sequence(info: TensorInfo, block: str) -> tuple[int, int]:
    if info.kind != "sequence":
        hint = (
            " Put an Embedding first (and TextInput(representation='sequence'))."
            if info.kind == "text"
            else ""
        )
        raise GraphError(f"{block} needs a sequence of vectors; received a {info.kind} node.{hint}")
    length, width = info.shape
    return length, width


def _keep(mask: torch.Tensor) -> torch.Tensor:
    """The ``(n, length)`` mask as ``(n, length, 1)``, to broadcast over features."""
    return mask.unsqueeze(-1)


class TokenEmbedding(nn.Module):
    """Token ids ``(n, length)`` to a padded sequence of vectors ``(n, length, dim)``.

    Id 0 pads, at the end of each text; padding embeds to zero vectors. A text of padding
    only (an empty text) counts as one token long: it is read as a single padding token, so
    that no sequence is empty.
    """

    def __init__(self, vocab_size: int, dim: int, dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> PaddedSequence:
        ids = x.long()
        lengths = ids.ne(self.embedding.padding_idx).sum(1, keepdim=True).clamp(min=1)
        mask = torch.arange(ids.shape[1], device=ids.device) < lengths
        return PaddedSequence(self.dropout(self.embedding(ids)), mask)


def _text(info: TensorInfo, representation: str, block: str, needs: str) -> TensorInfo:
    """``info``, when it is texts in ``representation``; a GraphError naming ``block``
    otherwise."""
    if info.kind != "text" or info.meta.get("representation") != representation:
        raise GraphError(
            f"{block} needs {needs}: apply it to a TextInput with "
            f"representation={representation!r}; received a {info.kind} node "
            f"({info.meta.get('representation', 'no')} representation)."
        )
    return info


@builds("embedding")
def build_embedding(config, infos, target):
    info = _text(infos[0], "sequence", "Embedding", "token ids")
    dim = config["embedding_dim"]
    module = TokenEmbedding(info.meta["vocab_size"], dim, config["dropout"])
    return module, TensorInfo("sequence", (info.shape[0], dim))


class NgramBag(nn.Module):
    """Hashed n-gram bags ``(n, 2, k)`` (bucket ids plus one, then weights; id 0 pads) to the
    weighted sum of their embeddings ``(n, dim)``."""

    def __init__(self, buckets: int, dim: int, dropout: float) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(buckets, dim, mode="sum", padding_idx=0)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.bag(x[:, 0].long(), per_sample_weights=x[:, 1]))


@builds("ngram_embedding")
def build_ngram_embedding(config, infos, target):
    info = _text(infos[0], "hashed", "NgramEmbedding", "hashed n-grams")
    dim = config["embedding_dim"]
    return NgramBag(info.meta["buckets"], dim, config["dropout"]), vector(dim)


class LogCountRatio(nn.Module):
    """TF-IDF n-gram vectors ``(n, features)`` with each feature scaled by the magnitude of
    its naive Bayes log-count ratio (the scaling of Wang and Manning's NBSVM, 2012).

    The ratios are a buffer, one per feature, 1 until the training sets them from the
    labels of the rows the network is fitted on (:meth:`set_ratios`, called by
    :class:`sknas.training.FitLabelStatistics` with
    :func:`sknas.training.log_count_ratios`); ``fitted`` (a buffer too, saved with the
    weights) says they were set, so that training on does not change them under weights
    learned with them.

    Parameters
    ----------
    width : int
        Number of TF-IDF features.
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        self.register_buffer("ratio", torch.ones(width))
        self.register_buffer("fitted", torch.tensor(False))

    def set_ratios(self, ratios: Any) -> None:
        """Scale the features by ``ratios`` (one per feature) from now on."""
        self.ratio.copy_(torch.as_tensor(ratios))
        self.fitted.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.ratio


@builds("nb_weighting")
def build_nb_weighting(config, infos, target):
    info = _text(infos[0], "ngram", "NaiveBayesWeighting", "TF-IDF n-grams")
    return LogCountRatio(info.shape[0]), info


class SequenceConv(SequenceModule):
    """1-D convolutions over a padded sequence.

    Padded positions are set to zero after every layer, so that the next convolution reads
    them as its own zero padding; max pooling pools the mask along with the values.

    Parameters
    ----------
    layers : torch.nn.Sequential
        Layers over ``(n, features, length)``.
    """

    def __init__(self, layers: nn.Sequential) -> None:
        super().__init__()
        self.layers = layers

    def forward(self, sequence: PaddedSequence) -> PaddedSequence:
        x, mask = sequence.values.transpose(1, 2), sequence.mask
        for layer in self.layers:
            x = layer(x)
            if isinstance(layer, nn.MaxPool1d):
                mask = layer(mask.unsqueeze(1).to(x.dtype)).squeeze(1) > 0
            x = x.masked_fill(~mask.unsqueeze(1), 0)
        return PaddedSequence(x.transpose(1, 2), mask)


def build_sequence_conv(config, info: TensorInfo):
    """The ConvBlock over a sequence (called by the conv_block builder)."""
    length, c = _sequence(info, "ConvBlock")
    kernel = config["kernel_size"]
    if kernel > length:
        raise GraphError(f"kernel_size={kernel} is longer than the {length}-token sequence.")
    layers: list[nn.Module] = []
    for filters in config["filters"]:
        for _ in range(config["num_layers"]):
            if config["separable"]:
                conv: list[nn.Module] = [
                    nn.Conv1d(c, c, kernel, padding=kernel // 2, groups=c, bias=False),
                    nn.Conv1d(c, filters, 1, bias=False),
                ]
            else:
                conv = [nn.Conv1d(c, filters, kernel, padding=kernel // 2, bias=False)]
            layers += [*conv, nn.BatchNorm1d(filters), nn.ReLU(inplace=True)]
            c = filters
        if config["max_pooling"] and length >= 2:
            layers.append(nn.MaxPool1d(2))
            length //= 2
        if config["dropout"]:
            layers.append(nn.Dropout(config["dropout"]))
    return SequenceConv(nn.Sequential(*layers)), TensorInfo("sequence", (length, c))


def _reversal(mask: torch.Tensor) -> torch.Tensor:
    """Indices ``(n, length, 1)`` that reverse each row's tokens and leave its padding."""
    lengths = mask.sum(1, keepdim=True)
    steps = torch.arange(mask.shape[1], device=mask.device)
    return _keep(torch.where(mask, lengths - 1 - steps, steps))


class Recurrent(SequenceModule):
    """Stacked GRU or LSTM layers that read each sequence up to its last token only.

    The outputs equal those of the same layers over
    :func:`~torch.nn.utils.rnn.pack_padded_sequence` (zero at padded positions), in a form
    that TorchScript and ONNX export: the forward direction runs over the padded batch, whose
    padding comes after every token; the backward direction runs over each sequence reversed
    within its length, so that its padding comes last too. Each layer and direction is its own
    one-layer ``rnn_type``, because a stacked bidirectional module would feed the next layer
    before the reversal could be undone.

    Parameters
    ----------
    rnn_type : type
        :class:`torch.nn.GRU` or :class:`torch.nn.LSTM`.
    width : int
        Features per input position.
    units : int
        Hidden units per direction.
    num_layers : int
        Stacked layers.
    bidirectional : bool
        Also read each sequence backwards, and concatenate both directions.
    dropout : float
        Dropout on the outputs of every layer but the last.
    """

    def __init__(
        self,
        rnn_type: type[nn.RNNBase],
        width: int,
        units: int,
        num_layers: int,
        bidirectional: bool,
        dropout: float,
    ) -> None:
        super().__init__()
        directions = 2 if bidirectional else 1
        self.layers = nn.ModuleList(
            nn.ModuleList(
                rnn_type(width if i == 0 else units * directions, units, batch_first=True)
                for _ in range(directions)
            )
            for i in range(num_layers)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, sequence: PaddedSequence) -> PaddedSequence:
        x, mask = sequence
        reverse = _reversal(mask)
        for i, directions in enumerate(self.layers):
            if i:
                x = self.dropout(x)
            outputs = [directions[0](x)[0]]
            if len(directions) == 2:
                backward = directions[1](x.gather(1, reverse.expand_as(x)))[0]
                outputs.append(backward.gather(1, reverse.expand_as(backward)))
            x = torch.cat(outputs, dim=2)
        return PaddedSequence(x.masked_fill(~_keep(mask), 0), mask)


@builds("rnn_block")
def build_rnn_block(config, infos, target):
    length, width = _sequence(infos[0], "RNNBlock")
    module = Recurrent(
        nn.GRU if config["layer_type"] == "gru" else nn.LSTM,
        width,
        config["units"],
        config["num_layers"],
        config["bidirectional"],
        config["dropout"],
    )
    out = config["units"] * (2 if config["bidirectional"] else 1)
    return module, TensorInfo("sequence", (length, out))


class Transformer(SequenceModule):
    """Learned positions plus pre-norm transformer encoder layers; attention skips padding.

    Padded positions are left out of attention (``src_key_padding_mask``) and set to zero in
    the output. Sequences may be shorter than ``length``; none is all padding (see
    :class:`TokenEmbedding`), so that attention always has a token to attend to.

    Parameters
    ----------
    length : int
        Longest sequence: number of learned positions.
    width : int
        Features per position.
    config : dict
        The TransformerBlock's sampled ``num_heads``, ``dense_dim``, ``dropout`` and
        ``num_layers``.
    """

    def __init__(self, length: int, width: int, config: dict) -> None:
        super().__init__()
        self.positions = nn.Parameter(torch.randn(1, length, width) / math.sqrt(width))
        layer = nn.TransformerEncoderLayer(
            width,
            config["num_heads"],
            config["dense_dim"],
            config["dropout"],
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, config["num_layers"], enable_nested_tensor=False
        )

    def forward(self, sequence: PaddedSequence) -> PaddedSequence:
        x, mask = sequence
        out = self.encoder(x + self.positions[:, : x.shape[1]], src_key_padding_mask=~mask)
        return PaddedSequence(out.masked_fill(~_keep(mask), 0), mask)


@builds("transformer_block")
def build_transformer_block(config, infos, target):
    length, width = _sequence(infos[0], "TransformerBlock")
    if width % config["num_heads"]:
        raise GraphError(
            f"num_heads={config['num_heads']} does not divide the input width {width}; "
            f"choose heads that divide it or another embedding_dim."
        )
    return Transformer(length, width, config), TensorInfo("sequence", (length, width))


class TemporalPooling(SequenceModule):
    """A padded sequence to one vector: flattened, or averaged or maxed over its tokens only.

    Parameters
    ----------
    how : {"flatten", "global_avg", "global_max"}
        Flattening keeps every position (padded ones are zero).
    """

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how

    def forward(self, sequence: PaddedSequence) -> torch.Tensor:
        x, mask = sequence
        if self.how == "flatten":
            return x.flatten(1)
        keep = _keep(mask)
        if self.how == "global_avg":
            return x.masked_fill(~keep, 0).sum(1) / keep.sum(1).to(x.dtype)
        return x.masked_fill(~keep, float("-inf")).amax(1)


@builds("temporal_reduction")
def build_temporal_reduction(config, infos, target):
    length, width = _sequence(infos[0], "TemporalReduction")
    how = config["reduction_type"]
    return TemporalPooling(how), vector(length * width if how == "flatten" else width)
