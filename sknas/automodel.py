"""AutoModel: a search over a user-built graph of blocks, with any inputs and heads."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.validation import check_is_fitted

from ._docs import ATTRIBUTES_DOC, PARAMETERS_DOC
from .base import BaseNASEstimator
from .data import (
    ClassificationTarget,
    ImageAdapter,
    MultiLabelTarget,
    RegressionTarget,
    TabularAdapter,
    TextAdapter,
)
from .exceptions import GraphError, InvalidInputError
from .space import Graph
from .space.blocks import (
    Head,
    ImageBlock,
    ImageInput,
    Merge,
    Node,
    TabularBlock,
    TabularInput,
    TextBlock,
    TextInput,
)

__all__ = ["AutoModel"]

HYPERBLOCKS = {ImageInput: ImageBlock, TabularInput: TabularBlock, TextInput: TextBlock}
ADAPTERS = {ImageInput: ImageAdapter, TabularInput: TabularAdapter, TextInput: TextAdapter}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _by_position(value: Any, names: Sequence[str], what: str, item: str) -> list[Any]:
    """One item per name, from a single item, a list in order, or a dict keyed by name.

    With one name, a list is the data itself (texts, rows, labels) unless it wraps exactly one
    array, DataFrame or Series.
    """
    if len(names) == 1 and not isinstance(value, dict):
        wrapped = isinstance(value, (list, tuple)) and len(value) == 1
        return [value[0]] if wrapped and hasattr(value[0], "shape") else [value]
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise InvalidInputError(
                f"{what} is a dict without the key(s) {missing}; expected keys {list(names)}."
            )
        return [value[n] for n in names]
    if not isinstance(value, (list, tuple)) or len(value) != len(names):
        got = len(value) if isinstance(value, (list, tuple)) else type(value).__name__
        raise InvalidInputError(
            f"the model has {len(names)} {item}s {list(names)}; {what} must be a "
            f"list of {len(names)} (or a dict keyed by those names); received {got}."
        )
    return list(value)


class AutoModel(BaseNASEstimator):
    __doc__ = (
        "Neural architecture search over a graph of blocks that you wire yourself.\n\n"
        "    Inputs (``ImageInput``, ``TabularInput``, ``TextInput``) are wired through blocks\n"
        "    to heads (``ClassificationHead``, ``RegressionHead``), functionally:\n"
        "    ``out = sknas.ConvBlock()(node)``. Every block argument is fixed, a sknas\n"
        "    hyperparameter, or None for the block's default range. Heads given without\n"
        "    inputs (``outputs=[sknas.ClassificationHead()]``) get the default hyperblock of\n"
        "    each input.\n\n"
        "    With one input and one head, ``fit``/``predict`` take and return plain arrays, as\n"
        "    the task estimators do. With several, ``X`` is a list in ``inputs`` order (or a\n"
        "    dict keyed by input name), ``y`` a list in ``outputs`` order, and ``predict``\n"
        "    returns a list in head order.\n"
        + """
    Parameters
    ----------
    inputs : Input or list of Input
        The graph inputs, in the order ``X`` gives their data.
    outputs : Node, Head or list of them
        Head outputs (``sknas.ClassificationHead()(node)``), or bare heads to complete
        automatically, in the order ``y`` gives their targets.
    loss_weights : list or dict of float, optional
        Weight of each head's loss (by position, or keyed by head name); None weighs them
        equally."""
        + PARAMETERS_DOC.split("----------", 1)[1]
        + ATTRIBUTES_DOC
        + """
    input_adapters_ : list
        The fitted adapter of each input.
    target_adapters_ : list
        The fitted target handling of each head.

    Notes
    -----
    ``score(X, y)`` is the mean over the heads of each head's default score: accuracy for a
    classification head (subset accuracy for a multi-label one) and R² for a regression head.
    """
    )

    _parameter_constraints: ClassVar[dict] = {
        **BaseNASEstimator._parameter_constraints,
        "inputs": "no_validation",
        "outputs": "no_validation",
        "loss_weights": [list, tuple, dict, None],
    }

    def __init__(
        self,
        *,
        inputs: Any = None,
        outputs: Any = None,
        loss_weights: Any = None,
        max_trials: int | None = None,
        time_budget: float | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        validation_split: float = 0.2,
        objective: Any = None,
        sampler: Any = "tpe",
        pruner: Any = "median",
        storage: Any = None,
        study_name: str | None = None,
        n_jobs: int | None = None,
        callbacks: list | None = None,
        max_model_size: int | None = None,
        refit: bool | str = True,
        ensemble_size: int = 10,
        cv: Any = None,
        device: str = "auto",
        random_state: Any = None,
        verbose: int = 0,
    ) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.loss_weights = loss_weights
        self.max_trials = max_trials
        self.time_budget = time_budget
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.objective = objective
        self.sampler = sampler
        self.pruner = pruner
        self.storage = storage
        self.study_name = study_name
        self.n_jobs = n_jobs
        self.callbacks = callbacks
        self.max_model_size = max_model_size
        self.refit = refit
        self.ensemble_size = ensemble_size
        self.cv = cv
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_clone__(self) -> AutoModel:
        """Clone with ``inputs`` and ``outputs`` copied together.

        scikit-learn's ``clone`` copies each parameter on its own, which would cut the wiring
        between the input nodes and the graph that leads to the heads.
        """
        params = self.get_params(deep=False)
        wiring = copy.deepcopy({"inputs": params.pop("inputs"), "outputs": params.pop("outputs")})
        return type(self)(**wiring, **{k: clone(v, safe=False) for k, v in params.items()})

    # -- the graph --------------------------------------------------------------------------
    def _search_graph(self) -> Graph:
        if self.inputs is None or self.outputs is None:
            raise GraphError(
                "AutoModel needs inputs=... and outputs=...: e.g. inputs=sknas.ImageInput() "
                "and outputs=sknas.ClassificationHead()(sknas.ImageBlock()(inputs))."
            )
        inputs, outputs = copy.deepcopy((_as_list(self.inputs), _as_list(self.outputs)))
        bare = [o for o in outputs if isinstance(o, Head)]
        if bare:
            if len(bare) != len(outputs):
                raise GraphError(
                    "outputs mixes bare heads and wired head outputs; give either heads alone "
                    "(the default hyperblocks are added) or only wired outputs."
                )
            trunks = [HYPERBLOCKS[type(node)]()(node) for node in inputs]
            trunk = trunks[0] if len(trunks) == 1 else Merge()(trunks)
            outputs = [head(trunk) for head in bare]
        for node in inputs:
            if type(node) not in HYPERBLOCKS:
                raise GraphError(
                    f"inputs must be sknas.ImageInput, TabularInput or TextInput nodes; "
                    f"received {type(node).__name__}."
                )
        for out in outputs:
            if not isinstance(out, Node):
                raise GraphError(
                    f"outputs must be head outputs such as sknas.ClassificationHead()(node); "
                    f"received {type(out).__name__}."
                )
        return Graph(inputs, outputs)

    def _make_input_adapters(self, graph: Graph) -> list[Any]:
        return [ADAPTERS[type(node)]() for node in graph.inputs]

    def _make_target_adapters(self, graph: Graph) -> list[Any]:
        adapters: list[Any] = []
        for head in graph.heads:
            if head.task == "regression":
                adapters.append(RegressionTarget())
            elif getattr(head, "multi_label", False):
                adapters.append(MultiLabelTarget())
            else:
                adapters.append(ClassificationTarget())
        return adapters

    def _split_inputs(self, X: Any, names: Sequence[str]) -> list[Any]:
        return _by_position(X, names, "X", "input")

    def _split_targets(self, y: Any, heads: Sequence[str]) -> list[Any]:
        return _by_position(y, heads, "y", "head")

    def _loss_weights(self, graph: Graph) -> list[float] | None:
        if self.loss_weights is None:
            return None
        heads = graph.output_names
        weights = _by_position(self.loss_weights, heads, "loss_weights", "head")
        return [float(w) for w in weights]

    # -- predictions ---------------------------------------------------------------------------
    def _outputs(self, X: Any) -> list[np.ndarray]:
        Xt = self._transform(X)
        with torch.no_grad():
            out = self.model_.forward(Xt, training=False)
        return [o.cpu().numpy() for o in (out if isinstance(out, tuple) else (out,))]

    def _head_proba(self, adapter: Any, out: np.ndarray) -> np.ndarray:
        logits = torch.as_tensor(out, dtype=torch.float64)
        if isinstance(adapter, MultiLabelTarget):
            return torch.sigmoid(logits).numpy()
        return torch.softmax(logits, dim=1).numpy()

    def _unwrap(self, values: list[Any]) -> Any:
        return values[0] if len(values) == 1 else values

    def predict(self, X: Any) -> Any:
        """Predictions of every head, in ``outputs`` order (one array for a single head).

        Classification heads give labels of the type seen in ``fit``; multi-label heads give
        0/1 label sets; regression heads give values in the target's units.
        """
        outputs = self._outputs(X)
        predictions = []
        for adapter, out in zip(self.target_adapters_, outputs):
            if isinstance(adapter, RegressionTarget):
                predictions.append(adapter.inverse_transform(out))
            elif isinstance(adapter, MultiLabelTarget):
                predictions.append(adapter.inverse_transform(self._head_proba(adapter, out)))
            else:
                codes = self._head_proba(adapter, out).argmax(axis=1)
                predictions.append(adapter.inverse_transform(codes))
        return self._unwrap(predictions)

    def predict_proba(self, X: Any) -> Any:
        """Probabilities of the classification heads, in ``outputs`` order.

        One array for a single classification head; a list otherwise. Columns follow each
        head's ``classes_`` (or label index, for multi-label heads).
        """
        outputs = self._outputs(X)
        probas = [
            self._head_proba(adapter, out)
            for adapter, out in zip(self.target_adapters_, outputs)
            if not isinstance(adapter, RegressionTarget)
        ]
        if not probas:
            raise AttributeError("predict_proba needs a classification head; this model has none.")
        return self._unwrap(probas)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean over the heads of accuracy (classification) or R² (regression)."""
        check_is_fitted(self)
        ys = self._split_targets(y, self.best_architecture_.outputs)
        predictions = _as_list(self.predict(X)) if len(ys) > 1 else [self.predict(X)]
        scores = [
            r2_score(t, p, sample_weight=sample_weight)
            if isinstance(adapter, RegressionTarget)
            else accuracy_score(t, p, sample_weight=sample_weight)
            for adapter, t, p in zip(self.target_adapters_, ys, predictions)
        ]
        return float(np.mean(scores))

    @property
    def classes_(self) -> Any:
        """Class labels of the classification heads (one array for a single head)."""
        check_is_fitted(self, "target_adapters_")
        return self._unwrap(
            [a.classes_ for a in self.target_adapters_ if not isinstance(a, RegressionTarget)]
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        heads = [o for o in _as_list(self.outputs) if o is not None]
        if len(heads) == 1:
            head = heads[0] if isinstance(heads[0], Head) else getattr(heads[0], "block", None)
            task = getattr(head, "task", None)
            if task == "classification" and not getattr(head, "multi_label", False):
                tags.estimator_type = "classifier"
                tags.classifier_tags = ClassifierTags()
            elif task == "regression":
                tags.estimator_type = "regressor"
                tags.regressor_tags = RegressorTags()
        tags.input_tags.allow_nan = True
        return tags
