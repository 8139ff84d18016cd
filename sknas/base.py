"""BaseNASEstimator: the fit template (validate -> adapt -> search -> refit)."""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from joblib import effective_n_jobs
from joblib.externals.loky import get_reusable_executor
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from . import __version__
from .data import ClassificationTarget, RegressionTarget, validation_indices
from .data.base import FixedView
from .data.fingerprint import fingerprint
from .exceptions import InvalidInputError
from .nn import ExportedModel
from .search import (
    DataSource,
    Objective,
    SearchInterrupt,
    copy_to_memory,
    leaderboard,
    make_pruner,
    make_sampler,
    open_study,
    run_search,
)
from .space import ArchitectureSpec, Graph, TrainingSpace
from .training import is_multi_task, make_net, resolve_device, torch_threads

__all__ = ["BaseNASEstimator", "NASClassifierMixin", "NASRegressorMixin", "Preprocessor"]

logger = logging.getLogger("sknas")

FIT_OVERRIDES = ("epochs", "callbacks", "validation_split")
#: parameters a persistent study does not record (where and how it runs, not what it searches)
NOT_RECORDED = ("storage", "study_name", "n_jobs", "callbacks", "verbose")


def _search_worker(
    estimator: BaseNASEstimator,
    X: Any,
    y: Any,
    validation_data: Any,
    settings: dict[str, Any],
    storage: Any,
    study_name: str,
    threads: int,
    seconds_left: float | None,
) -> bool:
    """Run trials of a shared study in a worker process of ``n_jobs``; no final model."""
    torch.set_num_threads(threads)
    started = time.monotonic()
    if seconds_left is not None:
        estimator = estimator.set_params(time_budget=max(seconds_left, 1e-3))
    _, _, interrupted = estimator._search(
        X, y, validation_data, settings, storage, study_name, started
    )
    return interrupted


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
        "n_jobs": [Integral, None],
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
        workers = effective_n_jobs(self.n_jobs)
        storage, study_name = self.storage, self.study_name
        with contextlib.ExitStack() as stack:
            if workers > 1 and storage is None:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="sknas-"))
                storage = os.path.join(folder, "study.log")
                study_name = study_name or f"sknas-{uuid.uuid4().hex[:12]}"
            threads = max(1, torch.get_num_threads() // workers)
            with torch_threads(threads if workers > 1 else None):
                study, objective, interrupted = self._search(
                    X, y, validation_data, settings, storage, study_name, started, workers
                )
            if storage is not self.storage:
                study = copy_to_memory(study)
        self.study_ = study
        self.best_trial_ = study.best_trial
        self.best_params_ = dict(study.best_trial.params)
        self.best_score_ = float(study.best_value)
        self.best_architecture_ = ArchitectureSpec.from_dict(
            study.best_trial.user_attrs["architecture"]
        )
        self.leaderboard_ = leaderboard(study)
        self.search_interrupted_ = interrupted
        self.model_ = self._final_model(objective, objective.source, interrupted)
        self.fit_seconds_ = time.monotonic() - started
        return self

    def _json_params(self, exclude: Sequence[str] = ()) -> tuple[dict[str, Any], list[str]]:
        """The parameters that JSON can hold (not ``exclude``), and the names of the others
        (callables, sampler objects, AutoModel's graph)."""
        params, left_out = {}, []
        for name, value in self.get_params(deep=False).items():
            if name in exclude:
                continue
            try:
                json.dumps(value)
            except TypeError:
                left_out.append(name)
                continue
            params[name] = value
        return params, left_out

    def _identity(
        self, X: Any, y: Any, validation_data: Any, seed: int, persistent: bool
    ) -> dict[str, Any]:
        """What a study records of this search, checked when a persistent one is resumed.

        The data is hashed for persistent studies only: an in-memory study is never resumed.
        """
        params, _ = self._json_params(exclude=NOT_RECORDED)
        cls = type(self)
        return {
            "sknas_estimator": f"{cls.__module__}.{cls.__qualname__}",
            "sknas_data": fingerprint(X, y, validation_data) if persistent else None,
            "sknas_seed": seed,
            "sknas_version": __version__,
            "sknas_params": params,
        }

    def _search(
        self,
        X: Any,
        y: Any,
        validation_data: Any,
        settings: dict[str, Any],
        storage: Any,
        study_name: str | None,
        started: float,
        workers: int = 1,
    ) -> tuple[Any, Objective, bool]:
        """Open the study, prepare the data, and run trials here and in ``workers - 1``
        other processes."""
        epochs = settings["epochs"]
        max_epochs = epochs or self.auto_max_epochs
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max // 2))
        study = open_study(
            storage=storage,
            study_name=study_name,
            direction="minimize" if self.objective is None else "maximize",
            pruner=make_pruner(self.pruner, max_epochs),
            identity=self._identity(X, y, validation_data, seed, storage is not None),
        )
        # a resumed or joined study keeps the seed it was started with, and so its split
        seed = int(study.user_attrs["sknas_seed"])
        study.sampler = make_sampler(self.sampler, seed)
        graph = self._search_graph()
        source = self._source(graph, X, y, validation_data, settings["validation_split"], seed)
        target_infos = [adapter.info_ for adapter in self.target_adapters_]
        if is_multi_task(target_infos) and self.objective is not None:
            raise InvalidParameterError(
                f"objective={self.objective!r} scores one single-label target; with several "
                f"heads or a multi-label head the search minimizes the summed validation loss. "
                f"Use objective=None."
            )
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
        search = functools.partial(
            run_search,
            study,
            objective,
            max_trials=self.max_trials,
            deadline=objective.deadline,
            first_trials=self._first_trials(graph, n_train, device),
            interrupt=interrupt,
            verbose=self.verbose,
        )
        if workers == 1:
            return study, objective, search()
        left = None if objective.deadline is None else objective.deadline - time.monotonic()
        worker = functools.partial(
            _search_worker,
            self,
            X,
            y,
            validation_data,
            settings,
            storage,
            study.study_name,
            torch.get_num_threads(),
            left,
        )
        pool = get_reusable_executor(max_workers=workers - 1)
        others = [pool.submit(worker) for _ in range(workers - 1)]
        interrupted = search()
        for future in others:
            interrupted = future.result() or interrupted
        return study, objective, interrupted

    def _final_model(self, objective: Objective, source: DataSource, interrupted: bool):
        trial = self.best_trial_
        spec = self.best_architecture_
        configs = spec.input_configs()
        data = source.data(configs)
        for adapter, config in zip(source.adapters, configs):
            adapter.select(config)
        kept = objective.best if objective.best and objective.best.number == trial.number else None
        seed = trial.user_attrs.get("seed", objective.seed + trial.number)
        module = objective.build(spec, seed)
        use_kept = kept is not None and (interrupted or not self.refit)
        # a refit, or the best trial ran in another process: train its network again
        X, y = data.X_train, data.y_train
        if self.refit:
            X, y = _concat(X, data.X_valid), _concat(y, data.y_valid)
        net = make_net(
            module,
            spec,
            objective.target_infos,
            loss_weights=objective.loss_weights,
            max_epochs=trial.user_attrs.get("best_epoch", 1),
            class_weight=objective.class_weight,
            device=objective.device,
            verbose=int(self.verbose >= 2),
            n_train=len(self._first_target(y)),
        )
        if use_kept:
            net.initialize()
            net.module_.load_state_dict(kept.state_dict)
        else:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
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

    # -- export -----------------------------------------------------------------------------
    def export_model(self) -> ExportedModel:
        """The trained network as a plain torch module, in eval mode, on the CPU.

        It takes what :meth:`export_preprocessor` makes of raw inputs (positionally, one
        tensor per input) and returns class probabilities for classification heads and values
        in the target's units for regression heads, as ``predict_proba`` / ``predict`` do.
        What stays outside the module is the fitted preprocessing: column typing, imputation
        and category codes of tables, layout and [0, 1] scaling of images, tokenization and
        TF-IDF of texts.

        Returns
        -------
        ExportedModel
        """
        check_is_fitted(self)
        network = copy.deepcopy(self.model_.module_).cpu()
        return ExportedModel(network, [adapter.info_ for adapter in self.target_adapters_])

    def export_preprocessor(self) -> Preprocessor:
        """The fitted preprocessing as a callable: raw inputs to the exported model's tensors.

        Returns
        -------
        Preprocessor
            ``model(*preprocessor(X))`` gives the probabilities or values of ``X``.
        """
        check_is_fitted(self)
        return Preprocessor(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class Preprocessor:
    """Raw inputs, as given to ``predict``, to the tensors an exported model takes.

    Parameters
    ----------
    estimator : fitted sknas estimator
        Whose fitted input adapters are used.
    """

    def __init__(self, estimator: BaseNASEstimator) -> None:
        self.estimator = estimator

    def __call__(self, X: Any) -> tuple[torch.Tensor, ...]:
        """One tensor per input of the network, in its input order (sparse TF-IDF made dense).

        Parameters
        ----------
        X : array-like
            Raw inputs (a dict or list of them for several inputs).

        Returns
        -------
        tuple of torch.Tensor
        """
        encoded = self.estimator._transform(X)
        names = self.estimator.best_architecture_.inputs
        parts = [encoded[name] for name in names] if isinstance(encoded, dict) else [encoded]
        return tuple(
            torch.as_tensor(part.toarray() if sparse.issparse(part) else np.asarray(part))
            for part in parts
        )


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
