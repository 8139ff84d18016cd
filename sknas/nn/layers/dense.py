"""Fully connected stacks, heads and merges."""

from __future__ import annotations

import math

import torch
from tabm import ElementwiseAffine, EnsembleView, LinearEnsemble, make_tabm_backbone
from torch import nn

from ...exceptions import GraphError
from ...space.spec import TensorInfo
from ..builder import builds
from ..export import head_activation
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
    # RealMLP's scaling layer: one learned factor per input value, starting at 1 (a network
    # saved before it existed has none)
    if config.get("input_scale", False):
        layers.append(ElementwiseAffine((width,), bias=False, scaling_init="ones"))
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
    # embedding (or one-hot vector) of a column; normal values after numeric embeddings,
    # random signs otherwise (as tabm's TabM.make)
    chunks = info.meta.get("feature_widths", [1] * width)
    if sum(chunks) != width:
        raise GraphError(
            f"TabMBlock received {width} features described as columns of widths {chunks} "
            f"(summing to {sum(chunks)}); the blocks before it lost track of the columns."
        )
    packed = config["architecture"] == "tabm-packed"
    start = "normal" if info.meta.get("embedded") else "random-signs"
    backbone = make_tabm_backbone(
        d_in=width,
        n_blocks=config["num_layers"],
        d_block=config["num_units"],
        dropout=config["dropout"],
        k=config["k"],
        arch_type=config["architecture"],
        start_scaling_init=None if packed else start,
        start_scaling_init_chunks=None if packed else chunks,
    )
    module = nn.Sequential(nn.Flatten(), EnsembleView(k=config["k"]), backbone)
    return module, TensorInfo("members", (config["k"], config["num_units"]))


class MemberOutput(nn.Module):
    """One output layer per member of a :class:`TabMBlock`'s ``(n, k, d)`` output, whose
    shape ``members`` gives.

    In training mode it returns every member's raw output, ``(n, k, outputs)``, which the
    losses train member by member (:func:`sknas.training.net.per_member`); in eval mode the
    raw output of the members' average prediction, ``(n, outputs)``: the log of the average
    probabilities (softmax), the logit of the average per-label probabilities (sigmoid), or
    the average value in the target's units.
    """

    def __init__(self, members: TensorInfo, target: TensorInfo, dropout: float) -> None:
        super().__init__()
        k, d_in = members.shape
        self.activation = head_activation(target)
        regression = target.kind == "regression"
        n_out = len(target.meta["mean"]) if regression else target.shape[0]
        self.body = nn.Sequential(nn.Dropout(dropout), LinearEnsemble(d_in, n_out, k=k))
        # the target's units, for regression heads only (None is no buffer)
        for name in ("mean", "scale"):
            values = target.meta[name] if regression else None
            self.register_buffer(
                name, None if values is None else torch.tensor(values, dtype=torch.float32)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        if self.mean is not None and self.scale is not None:
            out = out * self.scale + self.mean
        if self.training:
            return out
        log_k = math.log(out.shape[1])
        if self.activation == "softmax":
            return torch.logsumexp(torch.log_softmax(out, dim=-1), dim=1) - log_k
        if self.activation == "sigmoid":
            positive = torch.logsumexp(nn.functional.logsigmoid(out), dim=1)
            return positive - torch.logsumexp(nn.functional.logsigmoid(-out), dim=1)
        return out.mean(dim=1)


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
        return MemberOutput(infos[0], target, config["dropout"]), target
    n_out = target.shape[0]
    module = nn.Sequential(
        nn.Flatten(), nn.Dropout(config["dropout"]), nn.Linear(vector_width(infos[0]), n_out)
    )
    return module, target


@builds("regression_head")
def build_regression_head(config, infos, target):
    target = _require_target(target, "regression")
    if infos[0].kind == "members":
        return MemberOutput(infos[0], target, config["dropout"]), target
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
