"""BaseNASEstimator: the fit template (validate -> adapt -> search -> refit)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .data import ClassificationTarget, RegressionTarget, validation_indices
from .data.base import FixedView
from .exceptions import InvalidInputError
from .search import (
    DataSource,
    Objective,
    SearchInterrupt,
    leaderboard,
    make_pruner,
    make_sampler,
    run_search,
)
from .space import ArchitectureSpec, Graph, TensorInfo, TrainingSpace
from .training import is_multi_task, make_net, resolve_device

__all__ = ["BaseNASEstimator", "NASClassifierMixin", "NASRegressorMixin"]

logger = logging.getLogger("sknas")

FIT_OVERRIDES = ("epochs", "callbacks", "validation_split")


def _concat(a: Any, b: Any) -> Any:
    if isinstance(a, dict):
        return {k: _concat(a[k], b[k]) for k in a}
    if sparse.issparse(a):
        return sparse.vstack([a, b], format="csr")
    return np.concatenate([a, b])


class BaseNASEstimator(BaseEstimator):
    """Shared parameters and the fit template of every sknas estimator.

    Subclasses choose the input adapter and the default search space (per kind of data) and
    the target handling (per task). See the task estimators for the parameter documentation.
    """

    _parameter_constraints: ClassVar[dict] = {
        "max_trials": [Interval(Integral, 1, None, closed="left")],
        "time_budget": [Interval(Real, 0, None, closed="neither"), None],
        "epochs": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "validation_split": [Interval(Real, 0, 1, closed="neither")],
        "objective": [str, callable, None],
        "sampler": "no_validation",
        "pruner": "no_validation",
        "storage": "no_validation",
        "study_name": [str, None],
        "callbacks": [list, tuple, None],
        "max_model_size": [Interval(Integral, 1, None, closed="left"), None],
        "refit": ["boolean"],
        "device": [StrOptions({"auto", "cpu", "cuda"}), str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: epoch cap and early-stopping patience when ``epochs=None``
    auto_max_epochs: ClassVar[int] = 100
    auto_patience: ClassVar[int] = 10

    # -- hooks for the kind of data ------------------------------------------------------
    def _make_input_adapter(self) -> Any:
        raise NotImplementedError

    def _default_graph(self) -> Graph:
        raise NotImplementedError

    def _search_graph(self) -> Graph:
        """The search space of this fit (a fresh copy each time)."""
        return self._default_graph()

    def _make_input_adapters(self, graph: Graph) -> list[Any]:
        return [self._make_input_adapter()]

    def _split_inputs(self, X: Any, names: Sequence[str]) -> list[Any]:
        """The data of each graph input, in order."""
        return [X]

    def _split_targets(self, y: Any, heads: Sequence[str]) -> list[Any]:
        """The target of each head, in order."""
        return [y]

    def _make_target_adapters(self, graph: Graph) -> list[Any]:
        return [self._make_target_adapter()]

    def _first_trials(self, graph: Graph, n_samples: int, device: str) -> list[dict[str, Any]]:
        return []

    def _check_features(self, X: Any, reset: bool) -> None:
        """Record or check the features seen by ``fit`` (tables only)."""

    # -- hooks for the task ---------------------------------------------------------------
    def _make_target_adapter(self) -> Any:
        raise NotImplementedError

    def _class_weight(self, y: np.ndarray) -> np.ndarray | None:
        return None

    def _loss_weights(self, graph: Graph) -> list[float] | None:
        return None

    @staticmethod
    def _first_target(y: Any) -> np.ndarray:
        return next(iter(y.values())) if isinstance(y, dict) else y

    # -- fit --------------------------------------------------------------------------------
    def _fit_settings(self, overrides: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - set(FIT_OVERRIDES))
        if unknown:
            raise TypeError(
                f"fit() got unexpected keyword argument(s) {unknown}; fit accepts "
                f"validation_data and, for this call only, {list(FIT_OVERRIDES)}."
            )
        settings = {name: getattr(self, name) for name in FIT_OVERRIDES}
        settings.update(overrides)
        probe = self.__class__(**{**self.get_params(deep=False), **settings})
        probe._validate_params()
        return settings

    @property
    def input_adapter_(self) -> Any:
        """The fitted adapter of the (first) input."""
        return self.input_adapters_[0]

    @property
    def target_adapter_(self) -> Any:
        """The fitted target handling of the (first) head."""
        return self.target_adapters_[0]

    def _encode_targets(self, ys: list[Any], heads: Sequence[str]) -> Any:
        """One target: its encoded array. Several: a dict keyed by head name."""
        encoded = [a.transform(y) for a, y in zip(self.target_adapters_, ys)]
        return encoded[0] if len(encoded) == 1 else dict(zip(heads, encoded))

    def _stratify(self, yt: Any) -> np.ndarray | None:
        for adapter, codes in zip(
            self.target_adapters_, yt.values() if isinstance(yt, dict) else [yt]
        ):
            if isinstance(adapter, ClassificationTarget):
                return codes
        return None

    def _source(
        self, graph: Graph, X: Any, y: Any, validation_data: Any, size: float, seed: int
    ) -> DataSource:
        """Validate and encode the data, split it, and wrap it for the trials."""
        names, heads = graph.input_names, graph.output_names
        Xs = self._split_inputs(X, names)
        adapters = [a.fit(x) for a, x in zip(self._make_input_adapters(graph), Xs)]
        self.input_adapters_ = adapters
        if len(Xs) == 1:
            self._check_features(Xs[0], reset=True)
        ys = self._split_targets(y, heads)
        self.target_adapters_ = [a.fit(t) for a, t in zip(self._make_target_adapters(graph), ys)]
        check_consistent_length(*Xs, *ys)
        yt = self._encode_targets(ys, heads)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise InvalidInputError(
                    "validation_data must be a pair (X_val, y_val); received "
                    f"{type(validation_data).__name__}."
                )
            X_val = self._split_inputs(validation_data[0], names)
            y_val = self._split_targets(validation_data[1], heads)
            for adapter, x in zip(adapters, X_val):
                adapter.validate(x)
            if len(X_val) == 1:
                self._check_features(X_val[0], reset=False)
            check_consistent_length(*X_val, *y_val)
            try:
                yv = self._encode_targets(y_val, heads)
            except ValueError as exc:
                raise InvalidInputError(f"validation_data targets cannot be used: {exc}") from None
            source = DataSource(adapters, names, Xs, yt, validation=(X_val, yv))
        else:
            n_samples = len(self._first_target(yt))
            train, valid = validation_indices(n_samples, size, seed, self._stratify(yt))
            source = DataSource(adapters, names, Xs, yt, train, valid)
        if all(isinstance(a, FixedView) for a in adapters):
            # encode now, so that bad input fails before any training
            source.data([{} for _ in adapters])
        return source

    def _training_space(self) -> TrainingSpace:
        return TrainingSpace(batch_size=self.batch_size)

    def fit(self, X: Any, y: Any = None, *, validation_data: Any = None, **overrides: Any):
        """Search architectures for ``X`` and ``y`` and keep the best one, refit.

        Parameters
        ----------
        X : array-like
            Training inputs.
        y : array-like
            Training targets.
        validation_data : (X_val, y_val), optional
            Data to score trials on, instead of a split of ``X``.
        **overrides
            ``epochs``, ``callbacks`` or ``validation_split`` for this call only, as in
            AutoKeras; the estimator's parameters are not changed.

        Returns
        -------
        self
        """
        self._validate_params()
        settings = self._fit_settings(overrides)
        started = time.monotonic()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max // 2))
        graph = self._search_graph()
        source = self._source(graph, X, y, validation_data, settings["validation_split"], seed)
        target_infos = [adapter.info_ for adapter in self.target_adapters_]
        if is_multi_task(target_infos) and self.objective is not None:
            raise InvalidParameterError(
                f"objective={self.objective!r} scores one single-label target; with several "
                f"heads or a multi-label head the search minimizes the summed validation loss. "
                f"Use objective=None."
            )
        epochs = settings["epochs"]
        max_epochs = epochs or self.auto_max_epochs
        device = resolve_device(self.device)
        interrupt = SearchInterrupt()
        objective = Objective(
            graph=graph,
            training_space=self._training_space(),
            source=source,
            target_infos=target_infos,
            objective=self.objective,
            max_epochs=max_epochs,
            patience=self.auto_patience if epochs is None else max_epochs,
            seed=seed,
            deadline=None if self.time_budget is None else started + self.time_budget,
            interrupted=interrupt,
            class_weight=self._class_weight(source.y),
            callbacks=settings["callbacks"] or (),
            max_model_size=self.max_model_size,
            loss_weights=self._loss_weights(graph),
            device=device,
            verbose=self.verbose,
        )
        objective.check_space()
        n_train = len(source.train if source.train is not None else self._first_target(source.y))
        study, interrupted = run_search(
            objective,
            max_trials=self.max_trials,
            deadline=objective.deadline,
            sampler=make_sampler(self.sampler, seed),
            pruner=make_pruner(self.pruner, max_epochs),
            storage=self.storage,
            study_name=self.study_name,
            first_trials=self._first_trials(graph, n_train, device),
            interrupt=interrupt,
            verbose=self.verbose,
        )
        self.study_ = study
        self.best_trial_ = study.best_trial
        self.best_params_ = dict(study.best_trial.params)
        self.best_score_ = float(study.best_value)
        self.best_architecture_ = ArchitectureSpec.from_dict(
            study.best_trial.user_attrs["architecture"]
        )
        self.leaderboard_ = leaderboard(study)
        self.search_interrupted_ = interrupted
        self.model_ = self._final_model(objective, source, target_infos, interrupted)
        self.fit_seconds_ = time.monotonic() - started
        return self

    def _final_model(
        self,
        objective: Objective,
        source: DataSource,
        target_infos: list[TensorInfo],
        interrupted: bool,
    ):
        trial = self.best_trial_
        spec = self.best_architecture_
        configs = spec.input_configs()
        data = source.data(configs)
        for adapter, config in zip(source.adapters, configs):
            adapter.select(config)
        kept = objective.best if objective.best and objective.best.number == trial.number else None
        module = objective.build(spec, objective.seed + trial.number)
        use_kept = kept is not None and (interrupted or not self.refit)
        net = make_net(
            module,
            spec,
            target_infos,
            loss_weights=objective.loss_weights,
            max_epochs=trial.user_attrs.get("best_epoch", 1),
            class_weight=objective.class_weight,
            device=objective.device,
            verbose=int(self.verbose >= 2),
        )
        if use_kept:
            net.initialize()
            net.module_.load_state_dict(kept.state_dict)
        else:
            X = _concat(data.X_train, data.X_valid)
            y = _concat(data.y_train, data.y_valid)
            with torch.random.fork_rng():
                torch.manual_seed(objective.seed + trial.number)
                net.fit(X, y)
        net.module_.eval()
        return net

    # -- predict ----------------------------------------------------------------------------
    def _transform(self, X: Any) -> Any:
        check_is_fitted(self)
        names = self.best_architecture_.inputs
        Xs = self._split_inputs(X, names)
        for adapter, x in zip(self.input_adapters_, Xs):
            adapter.validate(x)
        if len(Xs) == 1:
            self._check_features(Xs[0], reset=False)
        encoded = [a.transform(x) for a, x in zip(self.input_adapters_, Xs)]
        return encoded[0] if len(encoded) == 1 else dict(zip(names, encoded))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class NASClassifierMixin:
    """Classification: label encoding, class weights, ``predict_proba``."""

    def _make_target_adapter(self) -> ClassificationTarget:
        return ClassificationTarget()

    def _class_weight(self, y: np.ndarray) -> np.ndarray | None:
        if self.class_weight is None:
            return None
        classes = self.target_adapter_.classes_
        if isinstance(self.class_weight, dict):
            unknown = [k for k in self.class_weight if k not in set(classes.tolist())]
            if unknown:
                raise InvalidInputError(
                    f"class_weight names class(es) {unknown} that are not in y; classes are "
                    f"{classes.tolist()}."
                )
            return np.array([float(self.class_weight.get(c, 1.0)) for c in classes.tolist()])
        present = np.unique(y)
        weights = np.ones(len(classes))
        weights[present] = compute_class_weight("balanced", classes=present, y=y)
        return weights

    @property
    def classes_(self) -> np.ndarray:
        check_is_fitted(self, "target_adapters_")
        return self.target_adapter_.classes_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per class of ``classes_``.

        Parameters
        ----------
        X : array-like
            Inputs of the kind given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        Xt = self._transform(X)
        proba = self.model_.predict_proba(Xt).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels, of the same type as the labels given to ``fit``.

        Parameters
        ----------
        X : array-like
            Inputs of the kind given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        codes = self.predict_proba(X).argmax(axis=1)
        return self.target_adapter_.inverse_transform(codes)


class NASRegressorMixin:
    """Regression: 1-D or multi-output targets, predictions in the target's units."""

    def _make_target_adapter(self) -> RegressionTarget:
        return RegressionTarget()

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, shaped like the ``y`` given to ``fit``.

        Parameters
        ----------
        X : array-like
            Inputs of the kind given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        Xt = self._transform(X)
        prediction = self.model_.predict(Xt)
        return self.target_adapter_.inverse_transform(prediction)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
