"""Hyperblocks: a whole family of sub-networks for one kind of input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...hyperparameters import Choice
from ..registry import register
from ..spec import NodeSpec, TensorInfo
from .base import Block
from .dense import DenseBlock
from .preprocessing import CategoricalEncoding, Normalization

__all__ = ["TabularBlock"]


def chain(
    hp, name: str, inputs: tuple[str, ...], parts: Sequence[tuple[str, Block]]
) -> list[NodeSpec]:
    """Expand ``parts`` one after another under ``name/part``."""
    specs: list[NodeSpec] = []
    for part, block in parts:
        expanded = block.expand(hp.scope(part), f"{name}/{part}", inputs, [None] * len(inputs))
        specs.extend(expanded)
        inputs = (expanded[-1].name,)
    return specs


@register
class TabularBlock(Block):
    """Normalization, categorical encoding and a dense stack for a table.

    Parameters
    ----------
    scaling : {"standard", "quantile"}, hyperparameter or None, default=None
        Numeric scaling; None searches both.
    encoding : {"embedding", "one_hot"}, hyperparameter or None, default=None
        Categorical encoding; None searches both. Unused for tables without categorical columns.
    num_layers, num_units, dropout, use_batchnorm, activation, residual : optional
        Passed to the :class:`DenseBlock`.
    name : str, optional
        Block name.
    """

    type_name = "tabular_block"

    def __init__(
        self,
        *,
        scaling: Any = None,
        encoding: Any = None,
        num_layers: Any = None,
        num_units: Any = None,
        dropout: Any = None,
        use_batchnorm: Any = None,
        activation: Any = None,
        residual: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.scaling = scaling
        self.encoding = encoding
        self.num_layers = num_layers
        self.num_units = num_units
        self.dropout = dropout
        self.use_batchnorm = use_batchnorm
        self.activation = activation
        self.residual = residual

    def expand(
        self, hp, name: str, inputs: tuple[str, ...], input_infos: Sequence[TensorInfo | None]
    ) -> list[NodeSpec]:
        info = input_infos[0]
        has_categorical = info is None or bool(info.meta.get("cardinalities"))
        parts: list[tuple[str, Block]] = [
            (
                "normalization",
                Normalization(method=self.scaling or Choice(["standard", "quantile"])),
            )
        ]
        if has_categorical:
            parts.append(("categorical_encoding", CategoricalEncoding(method=self.encoding)))
        dense = DenseBlock(
            num_layers=self.num_layers,
            num_units=self.num_units,
            dropout=self.dropout,
            use_batchnorm=self.use_batchnorm,
            activation=self.activation,
            residual=self.residual,
        )
        parts.append(("dense_block", dense))
        return chain(hp, name, inputs, parts)
