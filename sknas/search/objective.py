"""One trial: sample -> build -> train -> score, with per-trial facts as user attributes."""

from __future__ import annotations

import copy
import functools
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from optuna.exceptions import TrialPruned
from optuna.trial import FrozenTrial
from skorch.callbacks import Callback

from ..exceptions import SearchError
from ..nn import EnsembleModule, GraphModule, count_parameters
from ..space import ArchitectureSpec, Graph, TensorInfo, TrainingSpace, sample_architecture
from ..space.sampling import ProbeTrial, ReplayTrial
from ..training import DivergenceGuard, PruningReporter, StopOnRequest, TimeLimit, make_net
from .data import DataSource, TrialData
from .ensemble import PREDICTIONS, pack_predictions, predictions_of
from .storage import trial_index

__all__ = ["PROCESS", "Objective", "TrialWeights", "expected_seconds", "final_model_seconds"]

#: a trial out of GPU memory is retried with half its batch, down to this size
MIN_OOM_BATCH_SIZE = 8

#: the time kept for the final model is its measured estimate times this, plus a second
RESERVE_MARGIN = 1.2
RESERVE_FIXED = 1.0
#: seconds between two readings of the best trial's final-model time
RESERVE_REFRESH = 1.0

logger = logging.getLogger("sknas")

#: who runs a trial, recorded with it: host and process id
PROCESS = f"{socket.gethostname()}:{os.getpid()}"


def expected_seconds(trials: Sequence[FrozenTrial], n_rows: int) -> float:
    """Expected seconds to prepare the inputs of ``trials`` once and train each network on
    ``n_rows`` rows for its best epoch count, from what each trial measured on its own rows.

    Parameters
    ----------
    trials : sequence of optuna.trial.FrozenTrial
        Completed trials of :class:`Objective` that share one input configuration (the
        best trial, or the members of an ensemble); the first one's preparation is counted.
    n_rows : int
        Rows the final model trains on.

    Returns
    -------
    float
    """

    def scaled(trial: FrozenTrial, seconds: float) -> float:
        return seconds * n_rows / trial.user_attrs.get("train_rows", n_rows)

    def training(trial: FrozenTrial) -> float:
        attrs = trial.user_attrs
        per_epoch = attrs.get("epoch_seconds")
        if per_epoch is None:
            return attrs["seconds"]
        return per_epoch * attrs.get("best_epoch", 1)

    prep = scaled(trials[0], trials[0].user_attrs.get("prep_seconds", 0.0))
    return prep + sum(scaled(t, training(t)) for t in trials)


def final_model_seconds(trials: Sequence[FrozenTrial], n_rows: int) -> float:
    """The time the search keeps for the final model of ``trials``: their
    :func:`expected_seconds` with a margin.

    Parameters
    ----------
    trials : sequence of optuna.trial.FrozenTrial
        As for :func:`expected_seconds`.
    n_rows : int
        Rows the final model trains on.

    Returns
    -------
    float
    """
    return RESERVE_MARGIN * expected_seconds(trials, n_rows) + RESERVE_FIXED


@dataclass
class TrialWeights:
    """What is kept of one of the best trials so far: enough to use it without a refit.

    With cross-validation, ``state_dict`` is that of the average of the trial's ``folds``
    fold models (:class:`~sknas.nn.EnsembleModule`).
    """

    number: int
    value: float
    spec: ArchitectureSpec
    state_dict: dict[str, torch.Tensor]
    folds: int = 1


class Objective:
    """The function Optuna optimizes.

    Parameters
    ----------
    graph : Graph
        The search space.
    training_space : TrainingSpace
        Searched training settings.
    source : DataSource
        The encoded, split data and what it looks like per input configuration.
    target_infos : sequence of TensorInfo
        What the targets look like.
    objective : str, callable or None
        sklearn scorer (maximized) or None for the validation loss (minimized).
    max_epochs, patience : int
        Epoch cap and early-stopping patience of every trial.
    seed : int
        Base seed; the trial in place ``n`` of the search trains under torch seed
        ``seed + n`` (see :func:`~sknas.search.storage.trial_index`).
    deadline : float or None
        ``time.monotonic()`` value by which the whole fit ends, final model included.
    final_rows : int, optional
        Rows the final model is trained on; the time it needs (estimated from the best trial
        so far, or from ``final_trials``) is kept out of the search. None: no final training
        to wait for.
    setup_seconds : float
        Seconds the input adapters took to fit, to be spent again for the final model.
    interrupted : callable
        Returns True once the user asked the search to stop (Ctrl-C).
    class_weight : ndarray, optional
        Per-class loss weights.
    callbacks : sequence of skorch callbacks
        User callbacks, deep-copied for each trial.
    max_model_size : int, optional
        Trials whose network has more parameters fail without training.
    loss_weights : sequence of float, optional
        Weight of each head's loss, for several heads.
    device : str
        Torch device.
    verbose : int
        2 or more prints a line per epoch.
    keep : int
        How many of its best trials' weights this process holds (the candidates of an
        ensemble; 1 holds the best trial's only).
    record_predictions : bool
        Record each completed trial's validation predictions (for ensemble selection).
    final_trials : callable, optional
        ``final_trials(study, best_trial, objective)``: the completed trials whose networks
        the final model would train, were the search to end now (the members of an ensemble
        to refit), the time kept for the final model being that of all of them. None: the
        best trial.
    """

    def __init__(
        self,
        *,
        graph: Graph,
        training_space: TrainingSpace,
        source: DataSource,
        target_infos: Sequence[TensorInfo],
        objective: Any,
        max_epochs: int,
        patience: int,
        seed: int,
        deadline: float | None,
        interrupted: Callable[[], bool],
        final_rows: int | None = None,
        setup_seconds: float = 0.0,
        class_weight: np.ndarray | None = None,
        callbacks: Sequence[Callback] = (),
        max_model_size: int | None = None,
        loss_weights: Sequence[float] | None = None,
        device: str = "cpu",
        verbose: int = 0,
        keep: int = 1,
        record_predictions: bool = False,
        final_trials: Callable[[Any, FrozenTrial, Objective], Sequence[FrozenTrial]] | None = None,
    ) -> None:
        self.graph = graph
        self.training_space = training_space
        self.source = source
        self.target_infos = list(target_infos)
        self.objective = objective
        self.max_epochs = max_epochs
        self.patience = patience
        self.seed = seed
        self.deadline = deadline
        self.final_rows = final_rows
        self.setup_seconds = setup_seconds
        self.interrupted = interrupted
        self.class_weight = class_weight
        self.callbacks = list(callbacks)
        self.max_model_size = max_model_size
        self.loss_weights = loss_weights
        self.device = device
        self.verbose = verbose
        self.keep = keep
        self.record_predictions = record_predictions
        self.final_trials = final_trials
        self.kept: list[TrialWeights] = []
        self._reserve: tuple[float, float] | None = None

    @property
    def direction(self) -> str:
        return "minimize" if self.objective is None else "maximize"

    @property
    def monitor(self) -> str:
        return "valid_loss" if self.objective is None else "score"

    def training_deadline(self, study: Any) -> float | None:
        """When trials must stop training: the deadline less the final model's time,
        estimated from the best trial so far, or from ``final_trials`` (asked of the study at
        most once a second)."""
        if self.deadline is None:
            return None
        if self.final_rows is None:
            # nothing to train after the search; the final model is still assembled
            return self.deadline - RESERVE_FIXED
        now = time.monotonic()
        if self._reserve is None or now - self._reserve[0] > RESERVE_REFRESH:
            try:
                best = study.best_trial
            except ValueError:
                # no trial has completed yet
                seconds = 0.0
            else:
                trials = (
                    [best] if self.final_trials is None else self.final_trials(study, best, self)
                )
                seconds = final_model_seconds(trials, self.final_rows)
            self._reserve = (now, seconds)
        return self.deadline - self._reserve[1]

    def _own_deadline(self, study: Any, prep: float, n_train: int, net: Any) -> float | None:
        """When a running trial must stop: in time for the final model of the best trial so
        far (which may change while it runs, in other processes), and in time for its own
        should it become the best, estimated from its epochs so far."""
        best_deadline = self.training_deadline(study)
        if best_deadline is None or self.final_rows is None:
            return best_deadline
        training = sum(row["dur"] for row in net.history if "dur" in row)
        own = RESERVE_MARGIN * self.final_rows / n_train * (prep + training) + RESERVE_FIXED
        return min(best_deadline, self.deadline - own)

    def start_deadline(self, study: Any) -> float | None:
        """When no trial may start any more: the training deadline less the longest
        preparation step seen, which a new input configuration could cost without a way to
        stop it."""
        deadline = self.training_deadline(study)
        return None if deadline is None else deadline - self.source.slowest_preparation

    def sample(self, trial: Any) -> ArchitectureSpec:
        """The architecture and training settings of ``trial``."""
        return sample_architecture(self.graph, trial, self.source.input_infos, self.training_space)

    def within_space(self, params: dict[str, Any]) -> dict[str, Any]:
        """The part of ``params`` this search space asks for and allows.

        Optuna ignores an enqueued parameter that is never asked for, refuses a choice that
        is not among the choices, and uses a number outside its range with only a warning;
        a trial enqueued with this part leaves the rest to the sampler. Where a value that
        decides which parameters are asked (a layer count, a backbone) is left out, those
        below it are kept as the first choice or lowest value would ask for them.

        Parameters
        ----------
        params : dict
            Parameters by their sampled names, e.g. a known-good first trial.

        Returns
        -------
        dict
            The subset of ``params`` to enqueue; empty when the space asks for none of them.
        """
        trial = ReplayTrial(params)
        self.sample(trial)
        return trial.params

    def check_space(self) -> None:
        """Sample and build one network before any training, so that impossible block
        arguments and shapes are clear errors at once rather than failed trials."""
        self.build(self.sample(ProbeTrial()), self.seed)

    def build(self, spec: ArchitectureSpec, seed: int) -> GraphModule:
        """The module of ``spec``, initialized under ``seed`` without touching global RNGs."""
        infos = self.source.infos(spec.input_configs())
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return GraphModule(spec, infos, self.target_infos)

    def __call__(self, trial: Any) -> float:
        started = time.perf_counter()
        try:
            return self._run(trial)
        except TrialPruned:
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("fail_reason", "interrupted by Ctrl-C")
            raise
        except Exception as exc:
            trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
            self._reserve = None  # this trial may be the new best
            if torch.cuda.is_available():
                # a trial that ran out of GPU memory must not leave it to the next one
                torch.cuda.empty_cache()

    def _net(
        self,
        trial: Any,
        module: GraphModule,
        spec: ArchitectureSpec,
        data: TrialData,
        limit: Any,
        report: bool,
    ) -> Any:
        """The skorch net of one trial (or fold), with the time and divergence callbacks and,
        when ``report``, the per-epoch pruning reporter."""
        own = [("pruning", PruningReporter(trial, self.monitor))] if report else []
        own += [
            ("time_limit", limit),
            ("interrupt", StopOnRequest(self.interrupted)),
            ("divergence", DivergenceGuard()),
        ]
        user = [(f"user_{i}", copy.deepcopy(cb)) for i, cb in enumerate(self.callbacks)]
        return make_net(
            module,
            spec,
            self.target_infos,
            loss_weights=self.loss_weights,
            max_epochs=self.max_epochs,
            valid=(data.X_valid, data.y_valid),
            objective=self.objective,
            patience=self.patience,
            class_weight=self.class_weight,
            callbacks=own + user,
            device=self.device,
            verbose=int(self.verbose >= 2),
            n_train=data.n_train,
        )

    def _fit(
        self,
        trial: Any,
        spec: ArchitectureSpec,
        module: GraphModule,
        data: TrialData,
        seed: int,
        prep: float,
    ) -> tuple[Any, ArchitectureSpec, Any]:
        """Train ``module`` (built from ``spec`` under ``seed``) on ``data``: the net, the
        spec (with a halved batch size after a GPU out-of-memory error) and its time limit."""
        report = self.source.n_folds == 1
        while True:
            time_limit = TimeLimit(
                functools.partial(self._own_deadline, trial.study, prep, data.n_train)
            )
            net = self._net(trial, module, spec, data, time_limit, report)
            try:
                with torch.random.fork_rng():
                    torch.manual_seed(seed)
                    net.fit(data.X_train, data.y_train)
                return net, spec, time_limit
            except torch.cuda.OutOfMemoryError:
                batch_size = spec.training["batch_size"]
                if batch_size // 2 < MIN_OOM_BATCH_SIZE:
                    raise
                # the GPU is freed before the same network trains again on half the batch
                del net, module
                torch.cuda.empty_cache()
                spec = copy.deepcopy(spec)
                spec.training["batch_size"] = batch_size // 2
                logger.warning(
                    "trial %d ran out of GPU memory with batch size %d; retrying with %d.",
                    trial.number,
                    batch_size,
                    batch_size // 2,
                )
                trial.set_user_attr("architecture", spec.to_dict())
                trial.set_user_attr("oom_batch_size", batch_size // 2)
                module = self.build(spec, seed)

    def _best(self, net: Any) -> tuple[int, float, int]:
        """The best epoch (1-based), its monitored value and the epochs trained, from the
        history; TrialPruned when no epoch finished."""
        values = [row.get(self.monitor) for row in net.history]
        done = [(i, v) for i, v in enumerate(values) if v is not None]
        if not done:
            # not the architecture's fault: the search is ending
            raise TrialPruned("the time budget ran out before the first epoch finished.")
        pick = min if self.direction == "minimize" else max
        best_epoch, value = pick(done, key=lambda item: item[1])
        if not math.isfinite(value):
            raise FloatingPointError(f"the validation {self.monitor} is {value}.")
        return best_epoch + 1, float(value), len(done)

    def _run(self, trial: Any) -> float:
        if self.interrupted():
            # Ctrl-C came while this trial was being created
            raise KeyboardInterrupt
        spec = self.sample(trial)
        trial.set_user_attr("architecture", spec.to_dict())
        seed = self.seed + trial_index(trial.study, trial.number)
        trial.set_user_attr("seed", seed)
        trial.set_user_attr("worker", PROCESS)
        module = self.build(spec, seed)
        n_params = count_parameters(module)
        trial.set_user_attr("n_params", n_params)
        if self.max_model_size is not None and n_params > self.max_model_size:
            raise SearchError(
                f"the sampled network has {n_params:,} parameters, more than "
                f"max_model_size={self.max_model_size:,}."
            )
        folds = self.source.fold_data(spec.input_configs())
        trial.set_user_attr("train_rows", folds[0].n_train)
        prep = self.setup_seconds + self.source.preparation_seconds(spec.input_configs())
        trial.set_user_attr("prep_seconds", prep)
        nets, values, best_epochs, epochs, durations = [], [], [], 0, []
        for fold, data in enumerate(folds):
            if fold:
                module = self.build(spec, seed)
            net, spec, time_limit = self._fit(trial, spec, module, data, seed, prep)
            if self.interrupted():
                raise KeyboardInterrupt
            try:
                best_epoch, value, trained = self._best(net)
            except TrialPruned:
                trial.set_user_attr("stopped_by", "time_budget")
                raise
            if time_limit.expired_:
                trial.set_user_attr("stopped_by", "time_budget")
                if fold + 1 < len(folds):
                    raise TrialPruned("the time budget ran out before every fold was trained.")
            nets.append(net)
            values.append(value)
            best_epochs.append(best_epoch)
            epochs += trained
            durations += [row["dur"] for row in net.history if "dur" in row]
            if len(folds) > 1:
                # pruned across folds: each fold's score is one step; after the last one
                # nothing is left to save, and the trained trial can join an ensemble
                trial.report(value, fold)
                if fold + 1 < len(folds) and trial.should_prune():
                    raise TrialPruned(f"pruned after fold {fold + 1} of {len(folds)}.")
        value = float(np.mean(values))
        trial.set_user_attr("epochs", epochs)
        trial.set_user_attr("best_epoch", round(float(np.mean(best_epochs))))
        trial.set_user_attr("epoch_seconds", float(np.mean(durations)))
        if len(folds) > 1:
            trial.set_user_attr("fold_values", values)
        if self.record_predictions:
            trial.set_user_attr(PREDICTIONS, pack_predictions(self._predictions(nets, folds)))
        module = nets[0].module_
        if len(nets) > 1:
            module = EnsembleModule(
                [n.module_ for n in nets], [1.0 / len(nets)] * len(nets), self.target_infos
            )
        self._hold(TrialWeights(trial.number, value, spec, {}, len(nets)), module)
        return value

    def _predictions(self, nets: Sequence[Any], folds: Sequence[TrialData]) -> np.ndarray:
        """Validation predictions: of the validation rows, or with cross-validation of every
        row by the fold model that did not train on it, in row order."""
        parts = [
            predictions_of(net, data.X_valid, self.target_infos) for net, data in zip(nets, folds)
        ]
        if len(parts) == 1:
            return parts[0]
        out = np.empty((sum(len(p) for p in parts), parts[0].shape[1]), dtype=np.float32)
        for part, (_, valid) in zip(parts, self.source.splits):
            out[valid] = part
        return out

    def _hold(self, weights: TrialWeights, module: Any) -> None:
        """Hold the weights of a trial that is among this process's ``keep`` best."""
        # strictly better, as for Optuna's best trial: on a tie the earlier trial goes first
        sign = 1.0 if self.direction == "minimize" else -1.0
        place = sum(sign * k.value <= sign * weights.value for k in self.kept)
        if place >= self.keep:
            return
        weights.state_dict = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
        self.kept.insert(place, weights)
        del self.kept[self.keep :]
