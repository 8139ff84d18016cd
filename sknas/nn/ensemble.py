"""Several trained networks averaged as one module."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..space.spec import TensorInfo
from .export import activate, head_activation, raw_output

__all__ = ["EnsembleModule"]


class EnsembleModule(nn.Module):
    """A weighted average of networks with the same inputs and heads.

    Parameters
    ----------
    members : sequence of torch.nn.Module
        Trained networks (:class:`~sknas.nn.GraphModule`) taking the same inputs and
        returning the same heads.
    weights : sequence of float
        Weight of each member; they sum to one.
    targets : sequence of TensorInfo
        Each head's target, in output order.

    Notes
    -----
    Classification heads average the members' probabilities and return their log (softmax
    of it gives the average back); multi-label heads average the per-label probabilities and
    return their logit; regression heads average the values. The outputs are thus raw
    outputs of the same kind as a single network's, and every consumer of one (losses aside)
    takes an ensemble unchanged.
    """

    def __init__(
        self,
        members: Sequence[nn.Module],
        weights: Sequence[float],
        targets: Sequence[TensorInfo],
    ) -> None:
        super().__init__()
        if len(members) != len(weights) or not members:
            raise ValueError(
                f"an ensemble needs one weight per member; received {len(members)} member(s) "
                f"and {len(weights)} weight(s)."
            )
        self.members = nn.ModuleList(members)
        self.register_buffer("weights", torch.tensor(list(weights), dtype=torch.float32))
        self.activations = [head_activation(t) for t in targets]

    def forward(self, *args: torch.Tensor, **kwargs: torch.Tensor):
        heads: list[torch.Tensor] = []
        for index, member in enumerate(self.members):
            out = member(*args, **kwargs)
            outputs = out if isinstance(out, tuple) else (out,)
            weight = self.weights[index]
            for head, (activation, value) in enumerate(zip(self.activations, outputs)):
                value = weight * activate(activation, value)
                if index == 0:
                    heads.append(value)
                else:
                    heads[head] = heads[head] + value
        results = [raw_output(a, value) for a, value in zip(self.activations, heads)]
        return results[0] if len(results) == 1 else tuple(results)
