"""Build a ``torch.nn.Module`` from an ArchitectureSpec, with explicit shape propagation.

Knows nothing of Optuna, skorch or scikit-learn. Each block type has one builder function,
registered with :func:`builds`, that takes the block's sampled config, the
:class:`~sknas.space.TensorInfo` of each input and (for heads) of the target, and returns the
module and the TensorInfo of its output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import nn

from ..exceptions import GraphError
from ..space.spec import ArchitectureSpec, TensorInfo

__all__ = ["GraphModule", "PaddedSequence", "SequenceModule", "builds", "count_parameters"]

Builder = Callable[[dict, list[TensorInfo], "TensorInfo | None"], tuple[nn.Module, TensorInfo]]
BUILDERS: dict[str, Builder] = {}


def builds(type_name: str) -> Callable[[Builder], Builder]:
    """Register the builder function of a block type."""

    def register(func: Builder) -> Builder:
        BUILDERS[type_name] = func
        return func

    return register


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class PaddedSequence(NamedTuple):
    """A batch of padded sequences, as it travels between blocks.

    Attributes
    ----------
    values : torch.Tensor
        ``(n, length, features)``, zero at padded positions.
    mask : torch.Tensor
        ``(n, length)`` bool, True at the positions that hold a token (a prefix of each row).
    """

    values: torch.Tensor
    mask: torch.Tensor


class SequenceModule(nn.Module):
    """A block module that takes sequences whole, as :class:`PaddedSequence`.

    Any other block module that takes a sequence receives its ``values`` only.
    """


def _key(name: str) -> str:
    return name.replace("/", "__")


class GraphModule(nn.Module):
    """Runs the nodes of an ArchitectureSpec in topological order.

    Parameters
    ----------
    spec : ArchitectureSpec
        The sampled network.
    input_infos : sequence of TensorInfo
        What each input looks like, in ``spec.inputs`` order.
    target_infos : sequence of TensorInfo
        What each head predicts, in ``spec.outputs`` order.

    Attributes
    ----------
    label_fitted : list of (str, str, str)
        The modules set from the training labels before each fit (a
        :class:`~sknas.NaiveBayesWeighting`'s ratios, by the training's
        ``FitLabelStatistics``): each one's key in ``blocks``, the input it reads and the
        head whose labels set it.

    Notes
    -----
    ``forward`` takes the inputs positionally (in ``spec.inputs`` order) or by name, and
    returns one tensor for a single head, a tuple in ``spec.outputs`` order otherwise.
    Sequences travel between blocks as :class:`PaddedSequence`, so that the blocks built as
    :class:`SequenceModule` leave padding out.
    """

    def __init__(
        self,
        spec: ArchitectureSpec,
        input_infos: Sequence[TensorInfo],
        target_infos: Sequence[TensorInfo],
    ) -> None:
        super().__init__()
        if len(input_infos) != len(spec.inputs) or len(target_infos) != len(spec.outputs):
            raise GraphError(
                f"the network has {len(spec.inputs)} input(s) and {len(spec.outputs)} head(s); "
                f"received data for {len(input_infos)} input(s) and {len(target_infos)} "
                f"target(s)."
            )
        infos = dict(zip(spec.inputs, input_infos))
        targets = dict(zip(spec.outputs, target_infos))
        self.input_names = list(spec.inputs)
        self.output_names = list(spec.outputs)
        self.plan: list[tuple[str, list[str], bool]] = []
        self.blocks = nn.ModuleDict()
        for node in spec.nodes:
            if node.name in infos:
                continue
            try:
                builder = BUILDERS[node.type]
            except KeyError:
                raise GraphError(f"no module builder for block type {node.type!r}.") from None
            in_infos = [infos[i] for i in node.inputs]
            try:
                module, infos[node.name] = builder(node.config, in_infos, targets.get(node.name))
            except GraphError as exc:
                raise GraphError(f"{node.name}: {exc}") from None
            self.blocks[_key(node.name)] = module
            self.plan.append((node.name, list(node.inputs), isinstance(module, SequenceModule)))
        self.output_infos = [infos[name] for name in spec.outputs]
        self.label_fitted = [
            self._label_source(name, inputs, targets)
            for name, inputs, _ in self.plan
            if hasattr(self.blocks[_key(name)], "set_ratios")
        ]

    def _label_source(
        self, name: str, inputs: list[str], targets: dict[str, TensorInfo]
    ) -> tuple[str, str, str]:
        """For a node set from the training labels (a naive Bayes weighting): its module
        key, the graph input it reads and the classification head whose labels set it; a
        GraphError when it reads another node or feeds other heads."""
        feeds, frontier = set(), {name}
        while frontier:
            frontier = {n for n, ins, _ in self.plan if frontier & set(ins)} - feeds
            feeds |= frontier
        heads = [head for head in self.output_names if head in feeds]
        if inputs[0] not in self.input_names or len(heads) != 1:
            raise GraphError(
                f"{name} (NaiveBayesWeighting) must read a TextInput directly and feed one "
                f"classification head; it reads {inputs[0]!r} and feeds {heads}. Apply it "
                f"to the TextInput, on a path to a single ClassificationHead."
            )
        target = targets[heads[0]]
        if target.kind != "classification":
            raise GraphError(
                f"{name} (NaiveBayesWeighting) feeds {heads[0]!r}, a {target.kind} head; its "
                f"weights come from class labels, so it needs a ClassificationHead."
            )
        return _key(name), inputs[0], heads[0]

    def forward(self, *args: torch.Tensor, **kwargs: torch.Tensor):
        values = dict(zip(self.input_names, args))
        values.update(kwargs)
        for name, inputs, whole in self.plan:
            given = [values[i] for i in inputs]
            if not whole:
                given = [v.values if isinstance(v, PaddedSequence) else v for v in given]
            values[name] = self.blocks[_key(name)](*given)
        outputs = tuple(values[name] for name in self.output_names)
        return outputs[0] if len(outputs) == 1 else outputs
