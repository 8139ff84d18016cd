"""Xception-style networks of separable convolutions, sized for their input."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Choice, Int
from ..registry import register
from .base import Block, positive_int, probability

__all__ = ["XceptionBlock"]


@register
class XceptionBlock(Block):
    """An Xception-style network of depthwise-separable convolutions with residual links,
    sized for its input (no resize).

    Parameters
    ----------
    num_middle_blocks : int, hyperparameter or None, default=None
        Residual separable blocks at the smallest size [1 to 4].
    filters : int, hyperparameter or None, default=None
        Filters of the entry flow; the middle flow uses twice as many [16, 32, 64].
    dropout : float, hyperparameter or None, default=None
        Dropout at the end [0, 0.25].
    name : str, optional
        Block name.
    """

    type_name = "xception_block"

    def __init__(
        self,
        *,
        num_middle_blocks: Any = None,
        filters: Any = None,
        dropout: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.num_middle_blocks = num_middle_blocks
        self.filters = filters
        self.dropout = dropout

    def sample(self, hp):
        return {
            "num_middle_blocks": hp.get(
                "num_middle_blocks", self.num_middle_blocks, Int(1, 4), positive_int
            ),
            "filters": hp.get("filters", self.filters, Choice([16, 32, 64]), positive_int),
            "dropout": hp.get("dropout", self.dropout, Choice([0.0, 0.25]), probability),
        }
