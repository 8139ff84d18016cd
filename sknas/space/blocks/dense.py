"""Fully connected blocks."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Bool, Choice, Int
from ..registry import register
from .base import Block, non_negative_int, one_of, positive_int, probability

__all__ = ["DenseBlock"]

ACTIVATIONS = ("relu", "gelu", "silu", "tanh")


@register
class DenseBlock(Block):
    """A stack of fully connected layers.

    Each argument is a plain value (fixed), a sknas hyperparameter (searched) or None (the
    default range, given in brackets).

    Parameters
    ----------
    num_layers : int, hyperparameter or None, default=None
        Number of layers [1 to 3]. Zero makes the block a plain flatten, so the head is a
        linear model of the block's input.
    num_units : int, hyperparameter or None, default=None
        Units of every layer; None searches each layer's width separately
        [16, 32, 64, 128, 256, 512].
    dropout : float, hyperparameter or None, default=None
        Dropout after each layer [0, 0.1, 0.25, 0.5].
    use_batchnorm : bool, hyperparameter or None, default=None
        Batch normalization before each activation [False, True].
    activation : str, hyperparameter or None, default=None
        One of "relu", "gelu", "silu", "tanh" [relu, gelu, silu].
    residual : bool, hyperparameter or None, default=None
        Add a skip connection around each layer whose width matches its input [False, True].
    name : str, optional
        Block name.
    """

    type_name = "dense_block"

    def __init__(
        self,
        *,
        num_layers: Any = None,
        num_units: Any = None,
        dropout: Any = None,
        use_batchnorm: Any = None,
        activation: Any = None,
        residual: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.num_layers = num_layers
        self.num_units = num_units
        self.dropout = dropout
        self.use_batchnorm = use_batchnorm
        self.activation = activation
        self.residual = residual

    def sample(self, hp):
        boolean = (lambda v: isinstance(v, bool), "a bool")
        num_layers = hp.get("num_layers", self.num_layers, Int(1, 3), non_negative_int)
        widths = Choice([16, 32, 64, 128, 256, 512])
        units = [
            hp.get(
                "num_units" if self.num_units is not None else f"units_{i}",
                self.num_units,
                widths,
                positive_int,
            )
            for i in range(num_layers)
        ]
        return {
            "units": units,
            "dropout": hp.get("dropout", self.dropout, Choice([0.0, 0.1, 0.25, 0.5]), probability),
            "use_batchnorm": hp.get("use_batchnorm", self.use_batchnorm, Bool(), boolean),
            "activation": hp.get(
                "activation",
                self.activation,
                Choice(["relu", "gelu", "silu"]),
                one_of(*ACTIVATIONS),
            ),
            "residual": hp.get("residual", self.residual, Bool(), boolean),
        }
