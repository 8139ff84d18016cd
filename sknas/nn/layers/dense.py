"""Fully connected stacks, heads and merges."""

from __future__ import annotations

import torch
from tabm import EnsembleView, LinearEnsemble, make_tabm_backbone
from torch import nn

from ...exceptions import GraphError
from ...space.spec import TensorInfo
from ..builder import builds
from ..export import activate, head_activation, raw_output
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


@builds("tabm_block")
def build_tabm_block(config, infos, target):
    info = infos[0]
    width = vector_width(info)
    # TabM initializes each member's input scaling per feature: one value for the whole
    # embedding (or one-hot vector) of a column
    chunks = info.meta.get("feature_widths")
    if chunks is None or sum(chunks) != width:
        chunks = [1] * width
    packed = config["architecture"] == "tabm-packed"
    embedded = any(w > 1 for w in chunks)
    backbone = make_tabm_backbone(
        d_in=width,
        n_blocks=config["num_layers"],
        d_block=config["num_units"],
        dropout=config["dropout"],
        k=config["k"],
        arch_type=config["architecture"],
        start_scaling_init=None if packed else "normal" if embedded else "random-signs",
        start_scaling_init_chunks=None if packed else chunks,
    )
    module = nn.Sequential(nn.Flatten(), EnsembleView(k=config["k"]), backbone)
    return module, TensorInfo("members", (config["k"], config["num_units"]))


class MemberOutput(nn.Module):
    """One output layer per member of a :class:`TabMBlock`'s ``(n, k, d)`` output.

    In training mode it returns every member's raw output, ``(n * k, outputs)`` with the
    members of a row next to each other, so that a loss trains each member (the losses
    repeat each target ``k`` times); in eval mode it returns the raw output of the members'
    average prediction (probabilities for classifiers, values for regressors).
    """

    def __init__(self, d_in: int, k: int, target: TensorInfo, dropout: float) -> None:
        super().__init__()
        n_out = len(target.meta["mean"]) if target.kind == "regression" else target.shape[0]
        self.body = nn.Sequential(nn.Dropout(dropout), LinearEnsemble(d_in, n_out, k=k))
        self.activation = head_activation(target)
        mean = target.meta.get("mean", [0.0] * n_out)
        scale = target.meta.get("scale", [1.0] * n_out)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x) * self.scale + self.mean
        if self.training:
            return out.flatten(0, 1)
        return raw_output(self.activation, activate(self.activation, out).mean(dim=1))


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
    if infos[0].kind == "members":
        k, width = infos[0].shape
        return MemberOutput(width, k, target, config["dropout"]), target
    n_out = target.shape[0]
    module = nn.Sequential(
        nn.Flatten(), nn.Dropout(config["dropout"]), nn.Linear(vector_width(infos[0]), n_out)
    )
    return module, target


@builds("regression_head")
def build_regression_head(config, infos, target):
    target = _require_target(target, "regression")
    if infos[0].kind == "members":
        k, width = infos[0].shape
        return MemberOutput(width, k, target, config["dropout"]), target
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
