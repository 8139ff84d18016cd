"""Modules over token sequences: embeddings, 1-D convolutions, RNNs, transformers."""

from __future__ import annotations

import math

import torch
from torch import nn

from ...exceptions import GraphError
from ...space.spec import TensorInfo
from ..builder import builds
from .common import Reduce, vector


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


class TokenEmbedding(nn.Module):
    """Token ids ``(n, length)`` to vectors ``(n, length, dim)``; id 0 is padding."""

    def __init__(self, vocab_size: int, dim: int, dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.embedding(x.long()))


@builds("embedding")
def build_embedding(config, infos, target):
    info = infos[0]
    if info.kind != "text" or info.meta.get("representation") != "sequence":
        raise GraphError(
            "Embedding needs token ids: apply it to a TextInput with "
            f"representation='sequence'; received a {info.kind} node "
            f"({info.meta.get('representation', 'no')} representation)."
        )
    dim = config["embedding_dim"]
    module = TokenEmbedding(info.meta["vocab_size"], dim, config["dropout"])
    return module, TensorInfo("sequence", (info.shape[0], dim))


class SequenceConv(nn.Module):
    """1-D convolutions over ``(n, length, features)``."""

    def __init__(self, layers: nn.Module) -> None:
        super().__init__()
        self.layers = layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.transpose(1, 2)).transpose(1, 2)


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


class Recurrent(nn.Module):
    """A GRU or LSTM returning its whole output sequence."""

    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0]


@builds("rnn_block")
def build_rnn_block(config, infos, target):
    length, width = _sequence(infos[0], "RNNBlock")
    cls = nn.GRU if config["layer_type"] == "gru" else nn.LSTM
    layers = config["num_layers"]
    rnn = cls(
        width,
        config["units"],
        num_layers=layers,
        batch_first=True,
        bidirectional=config["bidirectional"],
        dropout=config["dropout"] if layers > 1 else 0.0,
    )
    out = config["units"] * (2 if config["bidirectional"] else 1)
    return Recurrent(rnn), TensorInfo("sequence", (length, out))


class Transformer(nn.Module):
    """Learned positions plus pre-norm transformer encoder layers."""

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x + self.positions)


@builds("transformer_block")
def build_transformer_block(config, infos, target):
    length, width = _sequence(infos[0], "TransformerBlock")
    if width % config["num_heads"]:
        raise GraphError(
            f"num_heads={config['num_heads']} does not divide the input width {width}; "
            f"choose heads that divide it or another embedding_dim."
        )
    return Transformer(length, width, config), TensorInfo("sequence", (length, width))


@builds("temporal_reduction")
def build_temporal_reduction(config, infos, target):
    length, width = _sequence(infos[0], "TemporalReduction")
    how = config["reduction_type"]
    return Reduce(how, sequence=True), vector(length * width if how == "flatten" else width)
