"""The network of a fitted estimator as a plain module: encoded inputs in, predictions out."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..space.spec import TensorInfo

__all__ = ["ExportedModel", "activate", "head_activation", "raw_output"]

#: probabilities are kept this far from 0 and 1 before their log or logit is taken
_EPS = 1e-7


def head_activation(target: TensorInfo) -> str:
    """What turns a head's raw output into its prediction: softmax, sigmoid or nothing."""
    if target.kind != "classification":
        return "identity"
    return "sigmoid" if target.meta.get("multi_label") else "softmax"


def activate(activation: str, value: torch.Tensor) -> torch.Tensor:
    """A head's raw output turned into its prediction by ``activation``
    (:func:`head_activation`)."""
    if activation == "softmax":
        return torch.softmax(value, dim=-1)
    if activation == "sigmoid":
        return torch.sigmoid(value)
    return value


def raw_output(activation: str, prediction: torch.Tensor) -> torch.Tensor:
    """A raw output that ``activation`` turns into ``prediction`` (an average of
    predictions): the log of probabilities, the logit of per-label probabilities, values
    unchanged."""
    if activation == "softmax":
        return torch.log(prediction.clamp_min(_EPS))
    if activation == "sigmoid":
        return torch.logit(prediction, eps=_EPS)
    return prediction


class ExportedModel(nn.Module):
    """A trained network with its heads' output functions applied, in eval mode.

    Parameters
    ----------
    network : torch.nn.Module
        The trained :class:`~sknas.nn.GraphModule`.
    targets : sequence of TensorInfo
        Each head's target, in output order.

    Notes
    -----
    ``forward`` takes the encoded inputs (positionally, in the architecture's input order)
    and returns class probabilities for classification heads (softmax, or one sigmoid per
    label for multi-label heads) and values in the target's units for regression heads: one
    tensor for a single head, a tuple otherwise.
    """

    def __init__(self, network: nn.Module, targets: Sequence[TensorInfo]) -> None:
        super().__init__()
        self.network = network
        self.activations = [head_activation(t) for t in targets]
        self.eval()

    def forward(self, *inputs: torch.Tensor):
        out = self.network(*inputs)
        outputs = out if isinstance(out, tuple) else (out,)
        results = [activate(a, value) for a, value in zip(self.activations, outputs)]
        return results[0] if len(results) == 1 else tuple(results)
