"""BaseNASEstimator: the fit template (validate -> adapt -> search -> refit)."""

from __future__ import annotations

import copy
import functools
import json
import logging
import time
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import optuna
import torch
from joblib import effective_n_jobs
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from . import __version__
from .data import ClassificationTarget, cv_folds, smallest_class, validation_indices
from .data.base import FixedView
from .data.fingerprint import fingerprint
from .exceptions import InvalidInputError
from .nn import ExportedModel
from .search import (
    PROCESS,
    DataSource,
    MemberTrials,
    Objective,
    RefitData,
    SearchInterrupt,
    TrialWeights,
    check_completed,
    check_folds,
    choose_ensemble,
    copy_to_memory,
    final_ensemble,
    final_model,
    leaderboard,
    local_storage,
    make_pruner,
    make_sampler,
    member_trials,
    members_fit,
    open_study,
    prepare_data,
    run_search,
    run_with_workers,
)
from .space import ArchitectureSpec, Graph, TrainingSpace, space_signature
from .space.blocks import ImageInput
from .space.presets import hyperblock_first_trials
from .training import is_multi_task, resolve_device

__all__ = ["BaseNASEstimator", "Preprocessor"]

logger = logging.getLogger("sknas")

FIT_OVERRIDES = ("epochs", "callbacks", "validation_split")
#: parameters a persistent study does not record (where and how it runs, not what it searches)
NOT_RECORDED = ("storage", "study_name", "n_jobs", "callbacks", "verbose")
#: trials of a search without ``max_trials`` nor ``time_budget``
DEFAULT_MAX_TRIALS = 20
#: ``cv="auto"`` cross-validates trials on fewer training rows than this, in this many folds
#: (where every fold, and for classifiers every class in it, gets rows)
CV_ROWS = 1000
CV_FOLDS = 5


def _resolve_x(X: Any, x: Any) -> Any:
    """``X``, or AutoKeras's lowercase ``x`` when only that was given."""
    if x is None:
        if X is None:
            raise TypeError("fit() missing the training inputs: call fit(X, y) (or fit(x=X, y=y)).")
        return X
    if X is not None:
        raise TypeError(
            "fit() received both X and x; x is AutoKeras's name for X. Pass the inputs once, "
            "as fit(X, y) or fit(x=X, y=y)."
        )
    return x


def _worker_search(
    estimator: BaseNASEstimator,
    X: Any,
    y: Any,
    validation_data: Any,
    settings: dict[str, Any],
    storage: Any,
    study_name: str,
    workers: int,
    refit_on_validation_data: bool,
    folds: list[tuple[np.ndarray, np.ndarray]] | None,
    seconds_left: float | None,
    index: int,
) -> tuple[bool, list[TrialWeights]]:
    """The trials of worker ``index`` of ``n_jobs``, on the ``folds`` of the first process
    (None: one split): whether Ctrl-C stopped them, and the weights of the best trials it
    ran."""
    deadline = None if seconds_left is None else time.monotonic() + seconds_left
    run = estimator._prepare(
        X,
        y,
        validation_data,
        settings,
        storage,
        study_name,
        deadline,
        workers,
        index,
        refit_on_validation_data=refit_on_validation_data,
        folds=folds,
    )
    return run.search(), run.objective.kept


@dataclass
class _Inputs:
    """Validated inputs (one per graph input) and encoded targets of a fit."""

    names: list[str]
    templates: list[Any]
    X: list[Any]
    y: Any
    validation: tuple[list[Any], Any] | None


@dataclass
class _Search:
    """A prepared search: its study, objective and run function, the data of the final model
    and its cross-validation folds (None: one split)."""

    study: Any
    objective: Objective
    search: Callable[[], bool]
    search_targets: list[Any]
    refit: RefitData | None
    folds: list[tuple[np.ndarray, np.ndarray]] | None


class BaseNASEstimator(BaseEstimator):
    """Shared parameters and the fit template of every sknas estimator.

    Subclasses choose the input adapter and the default search space (per kind of data) and
    the target handling (per task). See the task estimators for the parameter documentation.
    """

    _parameter_constraints: ClassVar[dict] = {
        "max_trials": [Interval(Integral, 1, None, closed="left"), None],
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
        "refit": ["boolean", StrOptions({"members"})],
        "cv": [StrOptions({"auto"}), "cv_object"],
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
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

    def _first_trials(
        self, graph: Graph, n_samples: int, source: DataSource, device: str
    ) -> list[dict[str, Any]]:
        """Known-good parameters tried before the sampler, for ``n_samples`` training rows
        presented by ``source``'s fitted adapters: those of the hyperblocks in ``graph``
        (the search enqueues what its space asks for and allows, see
        :meth:`sknas.search.Objective.within_space`)."""
        # a text adapter describes its output per sampled representation: no info of its own
        infos = [getattr(adapter, "info_", None) for adapter in source.adapters]
        return hyperblock_first_trials(graph, n_samples, infos, device)

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

    def _validate_data(self, graph: Graph, X: Any, y: Any, validation_data: Any) -> _Inputs:
        """Validate the inputs (each in its adapter's canonical form) and encode the targets,
        before any study is opened or any training starts."""
        names, heads = graph.input_names, graph.output_names
        Xs = self._split_inputs(X, names)
        templates = self._make_input_adapters(graph)
        if len(Xs) == 1:
            self._check_features(Xs[0], reset=True)
        Xs = [adapter.validate(x) for adapter, x in zip(templates, Xs)]
        ys = self._split_targets(y, heads)
        self.target_adapters_ = [a.fit(t) for a, t in zip(self._make_target_adapters(graph), ys)]
        check_consistent_length(*Xs, *ys)
        yt = self._encode_targets(ys, heads)
        validation = None
        if validation_data is not None:
            validation = self._validation(validation_data, templates, names, heads)
        return _Inputs(names, templates, Xs, yt, validation)

    def _prepare_data(
        self,
        inputs: _Inputs,
        size: float,
        seed: int,
        refit_on_validation_data: bool,
        folds: list[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> tuple[DataSource, list[Any], RefitData, float, np.ndarray | None]:
        """Split the rows and fit the preprocessing on the training rows only, or, with
        cross-validation ``folds``, on every row (:func:`~sknas.search.prepare_data`).

        Returns the trials' data, the target adapters they train with, the rows of the
        final model, the seconds spent fitting the input adapters, and the trials' class
        weights.
        """
        codes = self._first_target(inputs.y)
        split = None
        if folds is None and inputs.validation is None:
            split = validation_indices(len(codes), size, seed, self._stratify(inputs.y))
        source, search_targets, refit, seconds = prepare_data(
            inputs.templates,
            inputs.names,
            inputs.X,
            inputs.y,
            self.target_adapters_,
            split=split,
            validation=inputs.validation,
            refit_on_validation=refit_on_validation_data,
            folds=folds,
        )
        if all(isinstance(a, FixedView) for a in source.adapters):
            # encode now, so that bad input fails before any training
            source.data([{} for _ in source.adapters])
        class_weight = self._class_weight(codes if split is None else codes[split[0]])
        refit.class_weight = self._class_weight(self._first_target(refit.y))
        return source, search_targets, refit, seconds, class_weight

    def _folds(
        self, inputs: _Inputs, validation_data: Any, seed: int
    ) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """The cross-validation folds of this fit's trials, made once (a splitter's
        ``split`` is called once), or None for one validation split."""
        cv = self.cv
        if cv is None:
            return None
        codes = self._first_target(inputs.y)
        stratify = self._stratify(inputs.y)
        if cv == "auto":
            # one split where a fold would lack rows, or a class would miss from a fold
            smallest = smallest_class(len(codes), stratify)
            use = validation_data is None and len(codes) < CV_ROWS and smallest >= CV_FOLDS
            cv = CV_FOLDS if use else None
        elif validation_data is not None:
            raise TypeError(
                f"cv={cv!r} cross-validates trials on folds of X, and validation_data "
                f"gives rows to score them on instead; pass one of them (cv=None to use "
                f"validation_data)."
            )
        if cv is None:
            return None
        return cv_folds(len(codes), cv, seed, stratify)

    def _validation(
        self, validation_data: Any, templates: list[Any], names: list[str], heads: list[str]
    ) -> tuple[list[Any], Any]:
        """The raw inputs and encoded targets of ``validation_data``, checked."""
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise InvalidInputError(
                "validation_data must be a pair (X_val, y_val); received "
                f"{type(validation_data).__name__}."
            )
        X_val = self._split_inputs(validation_data[0], names)
        y_val = self._split_targets(validation_data[1], heads)
        if len(X_val) == 1:
            self._check_features(X_val[0], reset=False)
        X_val = [adapter.validate(x) for adapter, x in zip(templates, X_val)]
        check_consistent_length(*X_val, *y_val)
        try:
            return X_val, self._encode_targets(y_val, heads)
        except ValueError as exc:
            raise InvalidInputError(f"validation_data targets cannot be used: {exc}") from None

    def _training_space(self, graph: Graph, targets: Sequence[Any]) -> TrainingSpace:
        """The searched training settings; label smoothing is searched for one single-label
        classification head only, batch mixing when its one input is images too."""
        single_label = not is_multi_task(targets) and targets[0].kind == "classification"
        images = len(graph.inputs) == 1 and isinstance(graph.inputs[0], ImageInput)
        return TrainingSpace(
            batch_size=self.batch_size,
            label_smoothing=None if single_label else 0.0,
            batch_mixing=None if single_label and images else "none",
        )

    def fit(
        self,
        X: Any = None,
        y: Any = None,
        *,
        x: Any = None,
        validation_data: Any = None,
        refit_on_validation_data: bool = False,
        **overrides: Any,
    ):
        """Search architectures for ``X`` and ``y`` and keep the best one, refit.

        Parameters
        ----------
        X : array-like
            Training inputs.
        y : array-like
            Training targets.
        x : array-like, optional
            AutoKeras's name for ``X``, accepted so that ``fit(x=..., y=...)`` runs; give
            ``X`` or ``x``, not both.
        validation_data : (X_val, y_val), optional
            Data to score trials on, instead of a split of ``X``. It stays held back: the
            final model is refit on ``X`` alone unless ``refit_on_validation_data=True``.
        refit_on_validation_data : bool, default=False
            With ``validation_data``, refit the final model on ``X`` and the validation data
            together.
        **overrides
            ``epochs``, ``callbacks`` or ``validation_split`` for this call only, as in
            AutoKeras; the estimator's parameters are not changed.

        Returns
        -------
        self
        """
        started = time.monotonic()
        X = _resolve_x(X, x)
        self._validate_params()
        if refit_on_validation_data and validation_data is None:
            raise TypeError(
                "refit_on_validation_data=True needs validation_data=(X_val, y_val); without "
                "it the final model is already refit on every row of X."
            )
        settings = self._fit_settings(overrides)
        deadline = None if self.time_budget is None else started + self.time_budget
        workers = effective_n_jobs(self.n_jobs)
        with local_storage(workers, self.storage, self.study_name) as (storage, study_name):
            run = self._prepare(
                X,
                y,
                validation_data,
                settings,
                storage,
                study_name,
                deadline,
                workers,
                refit_on_validation_data=refit_on_validation_data,
            )
            elsewhere = functools.partial(
                _worker_search,
                clone(self),
                X,
                y,
                validation_data,
                settings,
                storage,
                run.study.study_name,
                workers,
                refit_on_validation_data,
                run.folds,
            )
            interrupted, others = run_with_workers(run.search, elsewhere, workers, deadline)
            interrupted = interrupted or any(stopped for stopped, _ in others)
            check_completed(run.study, interrupted)
            held = [*run.objective.kept, *(k for _, kept in others for k in kept)]
            self.ensemble_ = choose_ensemble(run.study, run.objective, held, self.ensemble_size)
            refit = None if interrupted else run.refit
            if self._search_on(run, interrupted, workers, deadline):
                # the ensemble keeps its trials' weights: the time kept for a refit goes to
                # more trials, and the final model is not refit
                if self.refit == "members":
                    warnings.warn(
                        f"refit='members': the {len(self.ensemble_.members)} members of the "
                        f"ensemble could not be refit in the time left; the search went on "
                        f"into it and they keep their trials' weights. Raise time_budget to "
                        f"refit them.",
                        UserWarning,
                        stacklevel=2,
                    )
                run.objective.final_rows = refit = None
                interrupted = run.search()
                held = [*run.objective.kept, *(k for _, kept in others for k in kept)]
                self.ensemble_ = choose_ensemble(run.study, run.objective, held, self.ensemble_size)
            study = run.study if storage is self.storage else copy_to_memory(run.study)
        self.search_seconds_ = time.monotonic() - started
        # the selected trials, read once (another process may finish a better one meanwhile)
        members = member_trials(study, self.ensemble_)
        chosen = members[self.ensemble_.members[0]]
        self._set_search_results(study, chosen, interrupted)
        if len(self.ensemble_.members) > 1:
            # members keep their trials' weights unless asked: no time, and neither way won
            # throughout in bench/ensemble.py (bench/README.md)
            final = final_ensemble(
                run.objective,
                self.ensemble_,
                members,
                held,
                run.search_targets,
                refit if self.refit == "members" else None,
                deadline=deadline,
                verbose=self.verbose,
            )
        else:
            final = final_model(
                run.objective,
                chosen,
                held,
                run.search_targets,
                refit,
                deadline=deadline,
                verbose=self.verbose,
            )
        self.model_ = final.net
        self.input_adapters_ = final.input_adapters
        self.target_adapters_ = final.target_adapters
        self.refit_status_ = final.status
        self.refit_seconds_ = final.seconds
        self.fit_seconds_ = time.monotonic() - started
        return self

    def _search_on(self, run: _Search, interrupted: bool, workers: int, deadline: Any) -> bool:
        """Whether the search goes on into the time it kept for the final model: under a
        budget, in one process, when the selected ensemble will not be refit (``refit=True``,
        or ``"members"`` whose refit would not end in time)."""
        if (
            deadline is None
            or interrupted
            or workers > 1
            or run.refit is None
            or len(self.ensemble_.members) == 1
        ):
            return False
        if self.refit != "members":
            return True
        trials = member_trials(run.study, self.ensemble_)
        return not members_fit(self.ensemble_, trials, run.refit.n_rows, deadline)

    def _set_search_results(self, study: Any, best: Any, interrupted: bool) -> None:
        """The search's fitted attributes, ``best`` being the trial the final model is made
        of (the ensemble's first member)."""
        self.study_ = study
        self.best_trial_ = best
        self.best_params_ = dict(best.params)
        self.best_score_ = float(best.value)
        self.best_architecture_ = ArchitectureSpec.from_dict(best.user_attrs["architecture"])
        self.leaderboard_ = leaderboard(study, self.ensemble_)
        self.search_interrupted_ = interrupted

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
        self,
        X: Any,
        y: Any,
        validation_data: Any,
        seed: int,
        persistent: bool,
        settings: dict[str, Any],
        graph: Graph,
    ) -> dict[str, Any]:
        """What a study records of this search, checked when a persistent one is resumed:
        the estimator, the data, the seed, the settings (this call's overrides included) and
        the search space.

        The data is hashed for persistent studies only: an in-memory study is never resumed.
        """
        params, _ = self._json_params(exclude=NOT_RECORDED)
        params.update({name: settings[name] for name in ("epochs", "validation_split")})
        cls = type(self)
        return {
            "sknas_estimator": f"{cls.__module__}.{cls.__qualname__}",
            "sknas_data": fingerprint(X, y, validation_data) if persistent else None,
            "sknas_seed": seed,
            "sknas_version": __version__,
            "sknas_params": params,
            "sknas_space": space_signature(graph),
        }

    def _max_trials(self) -> int | None:
        """``max_trials``; without it, no cap when a time budget is given, else 20."""
        if self.max_trials is not None:
            return self.max_trials
        return None if self.time_budget is not None else DEFAULT_MAX_TRIALS

    def _prepare(
        self,
        X: Any,
        y: Any,
        validation_data: Any,
        settings: dict[str, Any],
        storage: Any,
        study_name: str | None,
        deadline: float | None,
        workers: int = 1,
        worker: int = 0,
        *,
        refit_on_validation_data: bool = False,
        folds: list[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> _Search:
        """Open the study and prepare the data and the objective of this process's trials;
        ``folds`` are the first process's (a splitter may shuffle differently in each)."""
        epochs = settings["epochs"]
        max_epochs = epochs or self.auto_max_epochs
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max // 2))
        graph = self._search_graph()
        inputs = self._validate_data(graph, X, y, validation_data)
        persistent = storage is not None
        study, created = open_study(
            storage=storage,
            study_name=study_name,
            direction="minimize" if self.objective is None else "maximize",
            pruner=make_pruner(self.pruner, max_epochs),
            identity=self._identity(X, y, validation_data, seed, persistent, settings, graph),
        )
        # a resumed or joined study keeps the seed it was started with, and so its split
        seed = int(study.user_attrs["sknas_seed"])
        if folds is None:
            folds = self._folds(inputs, validation_data, seed)
        check_folds(study, None if folds is None else fingerprint(*folds), self.cv)
        if folds is not None:
            # each fold's score is one step of the trial
            study.pruner = make_pruner(self.pruner, max_epochs, len(folds))
        # each process draws its own proposals (in a user's storage, processes of other
        # machines may join: their identity is mixed in); TPE counts others' running trials
        shared = self.storage is not None
        sampler_seed = (seed + worker + (zlib.crc32(PROCESS.encode()) if shared else 0)) % 2**32
        study.sampler = make_sampler(self.sampler, sampler_seed, shared=shared or workers > 1)
        if worker and isinstance(self.sampler, optuna.samplers.BaseSampler):
            study.sampler.reseed_rng()
        source, search_targets, refit, setup_seconds, class_weight = self._prepare_data(
            inputs, settings["validation_split"], seed, refit_on_validation_data, folds
        )
        # with cross-validation the fold models are the final model: nothing is refit
        refit = refit if self.refit and folds is None else None
        target_infos = [adapter.info_ for adapter in search_targets]
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
            training_space=self._training_space(graph, target_infos),
            source=source,
            target_infos=target_infos,
            objective=self.objective,
            max_epochs=max_epochs,
            patience=self.auto_patience if epochs is None else max_epochs,
            seed=seed,
            deadline=deadline,
            final_rows=None if refit is None else refit.n_rows,
            setup_seconds=setup_seconds,
            interrupted=interrupt,
            class_weight=class_weight,
            callbacks=settings["callbacks"] or (),
            max_model_size=self.max_model_size,
            loss_weights=self._loss_weights(graph),
            device=device,
            verbose=self.verbose,
            keep=self.ensemble_size,
            record_predictions=self.ensemble_size > 1,
            # the time kept covers a refit of every member of the ensemble selected so far
            final_trials=(
                MemberTrials(self.ensemble_size)
                if refit is not None and self.refit == "members" and self.ensemble_size > 1
                else None
            ),
        )
        objective.check_space()
        n_train = len(source.train if source.train is not None else self._first_target(source.y))
        search = functools.partial(
            run_search,
            study,
            objective,
            max_trials=self._max_trials(),
            first_trials=self._first_trials(graph, n_train, source, device) if created else (),
            interrupt=interrupt,
            verbose=self.verbose,
        )
        return _Search(study, objective, search, search_targets, refit, folds)

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
