"""Small shared pieces: activations, flattening, vector widths."""

from __future__ import annotations

import math

import torch
from torch import nn

from ...exceptions import GraphError
from ...space.spec import TensorInfo

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


def vector_width(info: TensorInfo) -> int:
    """Width of ``info`` once flattened to a vector; refuses raw categorical codes and the
    members of a TabMBlock."""
    if info.kind == "members":
        raise GraphError(
            "this block received the output of a TabMBlock, whose k members feed heads only; "
            "connect the TabMBlock to a ClassificationHead or RegressionHead."
        )
    if info.kind == "tabular" and info.meta.get("cardinalities"):
        raise GraphError(
            "this block received a table with categorical columns still as codes; apply "
            "CategoricalEncoding (or use TabularBlock) before it."
        )
    return math.prod(info.shape)


def vector(width: int) -> TensorInfo:
    return TensorInfo("vector", (width,))


class Reduce(nn.Module):
    """Flatten, or average / max over every axis after the channels of ``(n, c, ...)``
    feature maps."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how == "flatten":
            return x.flatten(1)
        flat = x.flatten(2)
        return flat.mean(dim=2) if self.how == "global_avg" else flat.amax(dim=2)
