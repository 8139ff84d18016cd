"""One trial: sample -> build -> train -> score, with per-trial facts as user attributes."""

from __future__ import annotations

import copy
import json
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
from skorch.callbacks import Callback

from ..exceptions import SearchError
from ..nn import GraphModule, count_parameters
from ..space import ArchitectureSpec, Graph, TensorInfo, TrainingSpace, sample_architecture
from ..space.sampling import ProbeTrial
from ..training import DivergenceGuard, PruningReporter, TimeLimit, make_net
from .storage import trial_index

__all__ = ["BestTrial", "DataSource", "Objective", "TrialData"]

#: a trial out of GPU memory is retried with half its batch, down to this size
MIN_OOM_BATCH_SIZE = 8

logger = logging.getLogger("sknas")

#: who runs a trial, recorded with it: host and process id
WORKER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class TrialData:
    """Encoded training and validation data."""

    X_train: Any
    y_train: np.ndarray
    X_valid: Any
    y_valid: np.ndarray

    @property
    def n_train(self) -> int:
        y = self.y_train
        return len(next(iter(y.values())) if isinstance(y, dict) else y)


def _rows(X: Any, rows: np.ndarray) -> Any:
    return {k: v[rows] for k, v in X.items()} if isinstance(X, dict) else X[rows]


class DataSource:
    """The data of a search, encoded once per input configuration and split once.

    Parameters
    ----------
    adapters : list
        One fitted input adapter per graph input, with ``info_for(config)`` and
        ``transform(X, config)``.
    names : list of str
        The graph's input names; several inputs are given to the network as a dict.
    X : list
        Raw data of each input, for the rows of ``y``.
    y : ndarray
        Encoded targets.
    train, valid : ndarray of int
        Row split. Ignored when ``validation`` is given.
    validation : (list, ndarray), optional
        Raw inputs and encoded targets of separate validation data.
    """

    def __init__(
        self,
        adapters: list[Any],
        names: Sequence[str],
        X: list[Any],
        y: np.ndarray,
        train: np.ndarray | None = None,
        valid: np.ndarray | None = None,
        validation: tuple[list[Any], np.ndarray] | None = None,
    ) -> None:
        self.adapters = adapters
        self.names = list(names)
        self.X = X
        self.y = y
        self.train = train
        self.valid = valid
        self.validation = validation
        self._cache: dict[str, TrialData] = {}

    @property
    def input_infos(self) -> list[Callable[[dict], TensorInfo]]:
        """For the sampler: each input's TensorInfo as a function of its configuration."""
        return [adapter.info_for for adapter in self.adapters]

    def infos(self, configs: Sequence[dict]) -> list[TensorInfo]:
        return [a.info_for(c) for a, c in zip(self.adapters, configs)]

    def _encode(self, raw: list[Any], configs: Sequence[dict]) -> Any:
        parts = [a.transform(x, c) for a, x, c in zip(self.adapters, raw, configs)]
        return parts[0] if len(parts) == 1 else dict(zip(self.names, parts))

    def data(self, configs: Sequence[dict]) -> TrialData:
        """Training and validation data as the sampled input configurations present it."""
        key = json.dumps(list(configs), sort_keys=True)
        if key not in self._cache:
            X = self._encode(self.X, configs)
            if self.validation is not None:
                X_val, y_val = self.validation
                data = TrialData(X, self.y, self._encode(X_val, configs), y_val)
            else:
                data = TrialData(
                    _rows(X, self.train),
                    _rows(self.y, self.train),
                    _rows(X, self.valid),
                    _rows(self.y, self.valid),
                )
            self._cache[key] = data
        return self._cache[key]


@dataclass
class BestTrial:
    """What is kept of the best trial so far: enough to use it without a refit."""

    number: int
    value: float
    spec: ArchitectureSpec
    state_dict: dict[str, torch.Tensor]


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
        ``time.monotonic()`` value after which running trials stop.
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
        class_weight: np.ndarray | None = None,
        callbacks: Sequence[Callback] = (),
        max_model_size: int | None = None,
        loss_weights: Sequence[float] | None = None,
        device: str = "cpu",
        verbose: int = 0,
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
        self.interrupted = interrupted
        self.class_weight = class_weight
        self.callbacks = list(callbacks)
        self.max_model_size = max_model_size
        self.loss_weights = loss_weights
        self.device = device
        self.verbose = verbose
        self.best: BestTrial | None = None

    @property
    def direction(self) -> str:
        return "minimize" if self.objective is None else "maximize"

    @property
    def monitor(self) -> str:
        return "valid_loss" if self.objective is None else "score"

    def sample(self, trial: Any) -> ArchitectureSpec:
        """The architecture and training settings of ``trial``."""
        return sample_architecture(self.graph, trial, self.source.input_infos, self.training_space)

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
        except Exception as exc:
            trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
            if torch.cuda.is_available():
                # a trial that ran out of GPU memory must not leave it to the next one
                torch.cuda.empty_cache()

    def _net(
        self, trial: Any, module: GraphModule, spec: ArchitectureSpec, data: TrialData, limit: Any
    ) -> Any:
        """The skorch net of one trial, with the pruning, time and divergence callbacks."""
        own = [
            ("pruning", PruningReporter(trial, self.monitor)),
            ("time_limit", limit),
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

    def _run(self, trial: Any) -> float:
        spec = self.sample(trial)
        trial.set_user_attr("architecture", spec.to_dict())
        seed = self.seed + trial_index(trial.study, trial.number)
        trial.set_user_attr("seed", seed)
        trial.set_user_attr("worker", WORKER)
        module = self.build(spec, seed)
        n_params = count_parameters(module)
        trial.set_user_attr("n_params", n_params)
        if self.max_model_size is not None and n_params > self.max_model_size:
            raise SearchError(
                f"the sampled network has {n_params:,} parameters, more than "
                f"max_model_size={self.max_model_size:,}."
            )
        data = self.source.data(spec.input_configs())
        while True:
            time_limit = TimeLimit(self.deadline)
            net = self._net(trial, module, spec, data, time_limit)
            try:
                with torch.random.fork_rng():
                    torch.manual_seed(seed)
                    net.fit(data.X_train, data.y_train)
                break
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
        if self.interrupted():
            raise KeyboardInterrupt
        values = [row.get(self.monitor) for row in net.history]
        done = [(i, v) for i, v in enumerate(values) if v is not None]
        if not done:
            # not the architecture's fault: the search is ending
            trial.set_user_attr("stopped_by", "time_budget")
            raise TrialPruned("the time budget ran out before the first epoch finished.")
        pick = min if self.direction == "minimize" else max
        best_epoch, value = pick(done, key=lambda item: item[1])
        if not math.isfinite(value):
            raise FloatingPointError(f"the validation {self.monitor} is {value}.")
        trial.set_user_attr("epochs", len(done))
        trial.set_user_attr("best_epoch", best_epoch + 1)
        if time_limit.expired_:
            trial.set_user_attr("stopped_by", "time_budget")
        if self.best is None or (value < self.best.value) == (self.direction == "minimize"):
            state = {k: v.detach().cpu().clone() for k, v in net.module_.state_dict().items()}
            self.best = BestTrial(trial.number, float(value), spec, state)
        return float(value)
