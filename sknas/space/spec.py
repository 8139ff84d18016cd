"""ArchitectureSpec: a frozen, JSON-round-trippable description of one sampled network."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ArchitectureSpec", "NodeSpec", "TensorInfo"]


@dataclass(frozen=True)
class TensorInfo:
    """What one input or target looks like, as the builder needs to know it.

    Parameters
    ----------
    kind : str
        ``"tabular"``, ``"image"``, ``"text"`` for inputs; ``"classification"`` or
        ``"regression"`` for targets; ``"vector"``, ``"spatial"``, ``"sequence"`` inside a network,
        and ``"members"`` for the ``(k, width)`` output of a TabMBlock's k members.
    shape : tuple of int
        Shape of one sample (no batch axis).
    meta : dict
        Kind-specific facts learned from the data (statistics, cardinalities, classes...).
        Values are plain Python (lists, numbers, strings) so they serialize to JSON.
    """

    kind: str
    shape: tuple[int, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.shape), "meta": self.meta}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorInfo:
        return cls(kind=data["kind"], shape=tuple(data["shape"]), meta=dict(data["meta"]))


@dataclass(frozen=True)
class NodeSpec:
    """One concrete block of a sampled network.

    Parameters
    ----------
    name : str
        Stable hierarchical name, e.g. ``"tabular_block_1/dense_block"``.
    type : str
        Registry name of the block, e.g. ``"dense_block"``.
    inputs : tuple of str
        Names of the nodes feeding this one (empty for an input).
    config : dict
        The sampled, plain-valued arguments of the block.
    """

    name: str
    type: str
    inputs: tuple[str, ...]
    config: dict[str, Any]


@dataclass(frozen=True)
class ArchitectureSpec:
    """A sampled network: its nodes in topological order and its training settings.

    Parameters
    ----------
    nodes : tuple of NodeSpec
        Every node, inputs first, in an order where each node follows its inputs.
    inputs : tuple of str
        Names of the input nodes, in the order the data is given.
    outputs : tuple of str
        Names of the head nodes, in the order predictions are returned.
    training : dict
        Sampled training settings (optimizer, learning rate, weight decay, batch size).
    """

    nodes: tuple[NodeSpec, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    training: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def input_configs(self) -> list[dict[str, Any]]:
        """The sampled configuration of each input (how its data is presented), in order."""
        configs = {n.name: n.config for n in self.nodes}
        return [configs[name] for name in self.inputs]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchitectureSpec:
        nodes = tuple(
            NodeSpec(n["name"], n["type"], tuple(n["inputs"]), dict(n["config"]))
            for n in data["nodes"]
        )
        return cls(nodes, tuple(data["inputs"]), tuple(data["outputs"]), dict(data["training"]))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ArchitectureSpec:
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        lines = [
            f"{n.name} ({n.type}) <- {', '.join(n.inputs) or '-'} {n.config}" for n in self.nodes
        ]
        lines.append(f"training: {self.training}")
        return "\n".join(lines)
