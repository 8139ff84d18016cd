"""A validated DAG of inputs, blocks and heads with stable names; sampling a whole graph.

Within ``sknas.space`` imports run one way: ``spec``, ``registry`` -> ``sampling`` ->
``blocks`` -> ``training`` -> ``graph`` -> ``presets``.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from ..exceptions import GraphError
from .blocks.base import Block, Head, Input, Node
from .sampling import HyperparameterSampler
from .spec import ArchitectureSpec, NodeSpec, TensorInfo
from .training import TrainingSpace

__all__ = ["Graph", "InputInfo", "sample_architecture", "space_signature"]

#: what the data of one input looks like, fixed or depending on the input's sampled config
InputInfo = TensorInfo | Callable[[dict], TensorInfo]


def _as_list(value: Node | Sequence[Node]) -> list[Node]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Graph:
    """The search space: inputs wired through blocks to heads.

    The user's nodes are deep-copied, so sampling never touches the objects the user built.

    Parameters
    ----------
    inputs : Input or list of Input
        The graph inputs, in the order data is given.
    outputs : Node or list of Node
        The head outputs, in the order predictions are returned.
    """

    def __init__(self, inputs: Input | Sequence[Input], outputs: Node | Sequence[Node]) -> None:
        inputs, outputs = copy.deepcopy((_as_list(inputs), _as_list(outputs)))
        for node in inputs:
            if not isinstance(node, Input):
                raise GraphError(
                    f"graph inputs must be sknas inputs (TabularInput, ImageInput, TextInput); "
                    f"received {type(node).__name__}."
                )
        for node in outputs:
            if not isinstance(node, Node) or not isinstance(node.block, Head):
                got = type(node.block).__name__ if isinstance(node, Node) else type(node).__name__
                raise GraphError(
                    f"every graph output must be the output of a head (ClassificationHead or "
                    f"RegressionHead); received the output of {got}."
                )
        self.inputs = inputs
        self.outputs = outputs
        self.order = self._topological_order()
        self.names = self._assign_names()

    def _topological_order(self) -> list[Node]:
        order: list[Node] = []
        state: dict[int, str] = {}

        def visit(node: Node) -> None:
            mark = state.get(id(node))
            if mark == "done":
                return
            if mark == "active":
                raise GraphError(
                    f"the graph has a cycle through {type(node.block).__name__}; blocks must "
                    f"form a directed acyclic graph."
                )
            state[id(node)] = "active"
            if isinstance(node, Input):
                if all(node is not i for i in self.inputs):
                    raise GraphError(
                        f"{type(node).__name__} feeds a head but is not listed in inputs; add "
                        f"it to inputs=[...]."
                    )
            elif node.block is None:
                raise GraphError("a node has no block; build nodes by calling blocks on inputs.")
            else:
                for parent in node.block.inputs_:
                    visit(parent)
            state[id(node)] = "done"
            order.append(node)

        for out in self.outputs:
            visit(out)
        unused = [type(i).__name__ for i in self.inputs if state.get(id(i)) != "done"]
        if unused:
            raise GraphError(
                f"input {unused[0]} reaches no head; connect it to a head or remove it from inputs."
            )
        return order

    def _assign_names(self) -> dict[int, str]:
        names: dict[int, str] = {}
        counts: Counter[str] = Counter()
        for node in list(self.inputs) + [n for n in self.order if not isinstance(n, Input)]:
            owner = node if isinstance(node, Input) else node.block
            if id(node) in names:
                continue
            counts[owner.type_name] += 1
            name = owner.name or f"{owner.type_name}_{counts[owner.type_name]}"
            if name in names.values():
                raise GraphError(f"two blocks are named {name!r}; block names must be unique.")
            names[id(node)] = name
        return names

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(self.names[id(n)] for n in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.names[id(n)] for n in self.outputs)

    @property
    def heads(self) -> list[Head]:
        return [out.block for out in self.outputs]

    def consumers(self, node: Node) -> list[str]:
        """Registry names of the blocks that read ``node``."""
        return [
            n.block.type_name
            for n in self.order
            if n.block is not None and any(p is node for p in n.block.inputs_)
        ]

    def expand(self, hp: HyperparameterSampler, input_infos: Sequence[InputInfo]) -> list[NodeSpec]:
        """Sample every block into concrete node specs, in topological order.

        Parameters
        ----------
        hp : HyperparameterSampler
            The trial's sampler.
        input_infos : sequence of TensorInfo or callable
            For each input, in order: what its data looks like, or a function from the
            input's sampled config (e.g. a text representation) to that.
        """
        if len(input_infos) != len(self.inputs):
            raise GraphError(
                f"the graph has {len(self.inputs)} input(s) but data for {len(input_infos)} "
                f"was given."
            )
        sources = {id(node): info for node, info in zip(self.inputs, input_infos)}
        infos: dict[int, TensorInfo] = {}
        # a hyperblock expands to several nodes; consumers read from its last one
        produced: dict[int, str] = {}
        specs: list[NodeSpec] = []
        for node in self.order:
            name = self.names[id(node)]
            if isinstance(node, Input):
                config = node.sample(hp.scope(name), self.consumers(node))
                source = sources[id(node)]
                infos[id(node)] = source(config) if callable(source) else source
                specs.append(NodeSpec(name, node.type_name, (), config))
                produced[id(node)] = name
                continue
            block: Block = node.block
            parents = block.inputs_
            expanded = block.expand(
                hp.scope(name),
                name,
                tuple(produced[id(p)] for p in parents),
                [infos.get(id(p)) for p in parents],
                self.consumers(node),
            )
            specs.extend(expanded)
            produced[id(node)] = expanded[-1].name
        return specs


def sample_architecture(
    graph: Graph,
    trial: Any,
    input_infos: Sequence[InputInfo],
    training: TrainingSpace,
) -> ArchitectureSpec:
    """Sample one concrete network and its training settings.

    Parameters
    ----------
    graph : Graph
        The validated search space.
    trial : optuna.trial.BaseTrial or compatible
        Source of the searched values.
    input_infos : sequence of TensorInfo or callable
        What each graph input looks like, in the graph's input order (see
        :meth:`Graph.expand`).
    training : TrainingSpace
        The searched training settings.

    Returns
    -------
    ArchitectureSpec
    """
    hp = HyperparameterSampler(trial)
    nodes = graph.expand(hp, input_infos)
    return ArchitectureSpec(
        nodes=tuple(nodes),
        inputs=graph.input_names,
        outputs=graph.output_names,
        training=training.sample(hp.scope("training")),
    )


def space_signature(graph: Graph) -> str:
    """A canonical JSON description of the search space a graph declares.

    One entry per node, keyed by its stable name: its registry name, the names of the nodes
    feeding it and its arguments as the user gave them (hyperparameters by their ``repr``,
    None for a block's default range). Two graphs built the same way give the same string, in
    any process; a study records it, so that a resumed search over another space is refused.

    Parameters
    ----------
    graph : Graph
        The search space.

    Returns
    -------
    str
        A JSON object, keys sorted: ``inputs`` and ``outputs`` (node names, in order) and
        ``nodes`` (name -> ``block``, ``inputs``, ``arguments``).
    """
    nodes: dict[str, Any] = {}
    for node in graph.order:
        owner = node if isinstance(node, Input) else node.block
        parents = () if isinstance(node, Input) else node.block.inputs_
        nodes[graph.names[id(node)]] = {
            "block": owner.type_name,
            "inputs": [graph.names[id(parent)] for parent in parents],
            "arguments": owner.hyperparameters(),
        }
    space = {"inputs": list(graph.input_names), "nodes": nodes, "outputs": list(graph.output_names)}
    return json.dumps(space, sort_keys=True, default=repr)
