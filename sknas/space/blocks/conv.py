"""Convolutional blocks over images (2-D) and sequences (1-D)."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Bool, Choice, Int
from ..registry import register
from .base import Block, boolean, positive_int, probability

__all__ = ["ConvBlock"]

odd_kernel = (
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0 and v % 2 == 1,
    "an odd int > 0",
)


@register
class ConvBlock(Block):
    """Stacks of convolutions, each stack optionally followed by max pooling.

    Works on images (2-D convolutions) and on token sequences (1-D convolutions).
    Each argument is a plain value (fixed), a sknas hyperparameter (searched) or None (the
    default range, in brackets).

    Parameters
    ----------
    kernel_size : int, hyperparameter or None, default=None
        Odd kernel size [3, 5]; must not exceed the input's size.
    num_blocks : int, hyperparameter or None, default=None
        Number of stacks [1 to 3]; pooling stops once the size is 1.
    num_layers : int, hyperparameter or None, default=None
        Convolutions per stack [1, 2].
    filters : int, hyperparameter or None, default=None
        Filters of every stack; None searches each stack's separately [16, 32, 64, 128].
    max_pooling : bool, hyperparameter or None, default=None
        Halve the size after each stack [True, False].
    separable : bool, hyperparameter or None, default=None
        Depthwise-separable convolutions [False, True].
    dropout : float, hyperparameter or None, default=None
        Dropout after each stack [0, 0.25, 0.5].
    name : str, optional
        Block name.
    """

    type_name = "conv_block"

    def __init__(
        self,
        *,
        kernel_size: Any = None,
        num_blocks: Any = None,
        num_layers: Any = None,
        filters: Any = None,
        max_pooling: Any = None,
        separable: Any = None,
        dropout: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.kernel_size = kernel_size
        self.num_blocks = num_blocks
        self.num_layers = num_layers
        self.filters = filters
        self.max_pooling = max_pooling
        self.separable = separable
        self.dropout = dropout

    def sample(self, hp):
        num_blocks = hp.get("num_blocks", self.num_blocks, Int(1, 3), positive_int)
        widths = Choice([16, 32, 64, 128])
        return {
            "kernel_size": hp.get("kernel_size", self.kernel_size, Choice([3, 5]), odd_kernel),
            "num_layers": hp.get("num_layers", self.num_layers, Int(1, 2), positive_int),
            "filters": [
                hp.get(
                    "filters" if self.filters is not None else f"filters_{i}",
                    self.filters,
                    widths,
                    positive_int,
                )
                for i in range(num_blocks)
            ],
            "max_pooling": hp.get("max_pooling", self.max_pooling, Choice([True, False]), boolean),
            "separable": hp.get("separable", self.separable, Bool(), boolean),
            "dropout": hp.get("dropout", self.dropout, Choice([0.0, 0.25, 0.5]), probability),
        }
