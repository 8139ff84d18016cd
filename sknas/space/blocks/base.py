"""Nodes and blocks: the functional wiring of a search space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ...exceptions import GraphError
from ..sampling import HyperparameterSampler
from ..spec import NodeSpec, TensorInfo

__all__ = ["Block", "Head", "Input", "Node", "boolean", "positive_int", "probability"]

boolean = (lambda v: isinstance(v, bool), "a bool")
positive_int = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "an int > 0")
non_negative_int = (
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "an int >= 0",
)
probability = (
    lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1,
    "a float in [0, 1)",
)


def one_of(*allowed: Any) -> tuple[Any, str]:
    """A check that accepts only the given values."""
    return (lambda v: v in allowed, f"one of {list(allowed)!r}")


class Node:
    """A tensor in the graph: the output of a block."""

    def __init__(self, block: Block | None = None) -> None:
        self.block = block

    def __repr__(self) -> str:
        return f"<Node from {type(self.block).__name__}>"


class Block:
    """A searchable piece of network, applied functionally: ``out = Block()(node)``.

    Parameters
    ----------
    name : str, optional
        Name used for its parameters and modules; by default the registry name and a counter
        in graph order (``dense_block_1``).
    """

    type_name: ClassVar[str] = ""
    #: how many input nodes the block takes (None: one or more)
    arity: ClassVar[int | None] = 1

    def __init__(self, *, name: str | None = None) -> None:
        self.name = name
        self.inputs_: list[Node] = []

    def __call__(self, inputs: Node | Sequence[Node]) -> Node:
        nodes = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        label = type(self).__name__
        if self.inputs_:
            raise GraphError(
                f"{label} was already applied to a node; create a new {label} for each use."
            )
        for node in nodes:
            if not isinstance(node, Node):
                raise GraphError(
                    f"{label} must be applied to graph nodes (an input such as "
                    f"sknas.TabularInput() or the output of another block); received "
                    f"{type(node).__name__}."
                )
        if not nodes or (self.arity is not None and len(nodes) != self.arity):
            raise GraphError(
                f"{label} takes {self.arity or 'one or more'} input node(s); received "
                f"{len(nodes)}. Use sknas.Merge() to join several branches first."
            )
        self.inputs_ = nodes
        return Node(self)

    def hyperparameters(self) -> dict[str, Any]:
        """The user's arguments, as given (plain values, hyperparameters or None)."""
        return {k: v for k, v in vars(self).items() if k not in ("name", "inputs_")}

    def sample(self, hp: HyperparameterSampler) -> dict[str, Any]:
        """Resolve this block's arguments to plain values for one trial."""
        return {}

    def expand(
        self,
        hp: HyperparameterSampler,
        name: str,
        inputs: tuple[str, ...],
        input_infos: Sequence[TensorInfo | None],
        consumers: Sequence[str] = (),
    ) -> list[NodeSpec]:
        """Turn the block into concrete nodes; a hyperblock returns several.

        Parameters
        ----------
        hp : HyperparameterSampler
            Sampler scoped to this block's name.
        name : str
            The block's stable name.
        inputs : tuple of str
            Names of the nodes feeding it.
        input_infos : sequence of TensorInfo or None
            For inputs that are graph inputs, what the data looks like; None otherwise.
        consumers : sequence of str
            Registry names of the blocks that read its output (empty inside a hyperblock).
        """
        return [NodeSpec(name, self.type_name, inputs, self.sample(hp))]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items() if v is not None)
        return f"{type(self).__name__}({args})"


class Input(Node):
    """A graph input. Subclasses name the kind of data it takes.

    Parameters
    ----------
    name : str, optional
        Name of the input; also the key when data is given as a dict.
    """

    type_name: ClassVar[str] = ""
    kind: ClassVar[str] = ""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(None)
        self.name = name

    def hyperparameters(self) -> dict[str, Any]:
        """The user's arguments, as given (plain values, hyperparameters or None)."""
        return {k: v for k, v in vars(self).items() if k not in ("name", "block")}

    def sample(self, hp: HyperparameterSampler, consumers: Sequence[str]) -> dict[str, Any]:
        """Resolve how the data is presented to the network (none for most inputs).

        Parameters
        ----------
        hp : HyperparameterSampler
            Sampler scoped to the input's name.
        consumers : sequence of str
            Registry names of the blocks that read this input.
        """
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Head(Block):
    """A block that produces one prediction target of the model."""

    task: ClassVar[str] = ""
