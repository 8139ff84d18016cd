"""Fully connected stacks, heads and merges."""

from __future__ import annotations

import torch
from torch import nn

from ...exceptions import GraphError
from ..builder import builds
from .common import ACTIVATIONS, vector, vector_width


class DenseLayer(nn.Module):
    """Linear -> (BatchNorm) -> activation -> dropout, with an optional skip connection."""

    def __init__(
        self,
        d_in: int,
        d_out: int,
        activation: str,
        dropout: float,
        batchnorm: bool,
        residual: bool,
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(d_in, d_out),
            nn.BatchNorm1d(d_out) if batchnorm else nn.Identity(),
            ACTIVATIONS[activation](),
            nn.Dropout(dropout),
        )
        self.residual = residual and d_in == d_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


@builds("dense_block")
def build_dense_block(config, infos, target):
    width = vector_width(infos[0])
    layers: list[nn.Module] = [nn.Flatten()]
    for units in config["units"]:
        layers.append(
            DenseLayer(
                width,
                units,
                config["activation"],
                config["dropout"],
                config["use_batchnorm"],
                config["residual"],
            )
        )
        width = units
    return nn.Sequential(*layers), vector(width)


class RegressionOutput(nn.Module):
    """Linear layer whose outputs are mapped back to the target's units."""

    def __init__(self, d_in: int, mean: list[float], scale: list[float], dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(d_in, len(mean)))
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) * self.scale + self.mean


def _require_target(target, task: str):
    if target is None or target.kind != task:
        got = "nothing" if target is None else f"a {target.kind} target"
        raise GraphError(f"a {task} head needs a {task} target; received {got}.")
    return target


@builds("classification_head")
def build_classification_head(config, infos, target):
    target = _require_target(target, "classification")
    n_out = target.shape[0]
    module = nn.Sequential(
        nn.Flatten(), nn.Dropout(config["dropout"]), nn.Linear(vector_width(infos[0]), n_out)
    )
    return module, target


@builds("regression_head")
def build_regression_head(config, infos, target):
    target = _require_target(target, "regression")
    module = RegressionOutput(
        vector_width(infos[0]), target.meta["mean"], target.meta["scale"], config["dropout"]
    )
    return module, target


class MergeLayer(nn.Module):
    """Concatenate flattened branches, or add them after projecting to a common width."""

    def __init__(self, widths: list[int], merge_type: str) -> None:
        super().__init__()
        self.merge_type = merge_type
        self.width = sum(widths) if merge_type == "concatenate" else max(widths)
        self.projections = nn.ModuleList(
            nn.Identity()
            if merge_type == "concatenate" or w == self.width
            else nn.Linear(w, self.width)
            for w in widths
        )

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        parts = [proj(x.flatten(1)) for proj, x in zip(self.projections, xs)]
        return torch.cat(parts, dim=1) if self.merge_type == "concatenate" else sum(parts)


@builds("merge")
def build_merge(config, infos, target):
    if len(infos) < 2:
        raise GraphError(f"Merge needs at least two branches; received {len(infos)}.")
    module = MergeLayer([vector_width(i) for i in infos], config["merge_type"])
    return module, vector(module.width)
