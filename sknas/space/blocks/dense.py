"""Fully connected blocks."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Bool, Choice, Int
from ..registry import register
from .base import Block, boolean, non_negative_int, one_of, positive_int, probability

__all__ = ["DenseBlock", "TabMBlock"]

ACTIVATIONS = ("relu", "gelu", "silu", "tanh")

#: TabM's architectures (Gorishniy et al. 2025), as the ``tabm`` package names them
TABM_ARCHITECTURES = ("tabm", "tabm-mini", "tabm-packed")


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
    input_scale : bool, hyperparameter or None, default=False
        Multiply each value of the input (each numeric column, embedding dimension or
        one-hot code) by its own learned factor, initialized to 1, before the first layer:
        the scaling layer of RealMLP (Holzmüller et al. 2024), trained here at the network's
        learning rate and weight decay (RealMLP gives it a larger rate). Fixed off by
        default; None searches it [False, True]. Unused without layers.
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
        input_scale: Any = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.num_layers = num_layers
        self.num_units = num_units
        self.dropout = dropout
        self.use_batchnorm = use_batchnorm
        self.activation = activation
        self.residual = residual
        self.input_scale = input_scale

    def sample(self, hp):
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
            "input_scale": bool(num_layers)
            and hp.get("input_scale", self.input_scale, Bool(), boolean),
        }


@register
class TabMBlock(Block):
    """TabM: k multilayer perceptrons trained at once, sharing most of their weights
    (Gorishniy et al. 2025), built with the authors' ``tabm`` package.

    Each of the ``k`` members sees the same rows and makes its own prediction: the block
    outputs one representation per member, every head after it has one output layer per
    member, each member's loss is trained, and the network predicts their average
    (probabilities for classifiers, values for regressors). Its output can only feed heads.
    skorch callbacks that read the predictions of training batches (``on_batch_end``'s
    ``y_pred``) receive each member's, ``(rows, k, outputs)``.

    Each argument is a plain value (fixed), a sknas hyperparameter (searched) or None (the
    default range, given in brackets).

    Parameters
    ----------
    k : int, hyperparameter or None, default=None
        Members [8, 16, 32]; TabM's default is 32.
    num_layers : int, hyperparameter or None, default=None
        Layers of each member [1 to 3].
    num_units : int, hyperparameter or None, default=None
        Width of every layer [64, 128, 256, 512].
    dropout : float, hyperparameter or None, default=None
        Dropout after each layer [0, 0.1, 0.25].
    architecture : {"tabm", "tabm-mini", "tabm-packed"}, hyperparameter or None, default=None
        ``"tabm"``: every layer a BatchEnsemble (shared weights, a scaling per member at its
        input and output); ``"tabm-mini"``: shared layers after one scaling per member;
        ``"tabm-packed"``: k independent networks (k times the parameters; fix it to use it)
        [tabm, tabm-mini].
    name : str, optional
        Block name.
    """

    type_name = "tabm_block"

    def __init__(
        self,
        *,
        k: Any = None,
        num_layers: Any = None,
        num_units: Any = None,
        dropout: Any = None,
        architecture: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.k = k
        self.num_layers = num_layers
        self.num_units = num_units
        self.dropout = dropout
        self.architecture = architecture

    def sample(self, hp):
        return {
            "k": hp.get("k", self.k, Choice([8, 16, 32]), positive_int),
            "num_layers": hp.get("num_layers", self.num_layers, Int(1, 3), positive_int),
            "num_units": hp.get(
                "num_units", self.num_units, Choice([64, 128, 256, 512]), positive_int
            ),
            "dropout": hp.get("dropout", self.dropout, Choice([0.0, 0.1, 0.25]), probability),
            "architecture": hp.get(
                "architecture",
                self.architecture,
                Choice(["tabm", "tabm-mini"]),
                one_of(*TABM_ARCHITECTURES),
            ),
        }
