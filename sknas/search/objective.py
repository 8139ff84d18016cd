"""One trial: sample -> build -> train -> score, with per-trial facts as user attributes."""

from __future__ import annotations

import copy
import math
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
from ..training import DivergenceGuard, PruningReporter, TimeLimit, make_net

__all__ = ["BestTrial", "Objective", "TrialData"]


@dataclass
class TrialData:
    """The encoded training and validation data every trial uses."""

    X_train: Any
    y_train: np.ndarray
    X_valid: Any
    y_valid: np.ndarray


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
    input_infos, target_infos : sequence of TensorInfo
        What the data and targets look like.
    data : TrialData
        Encoded data, split once for all trials.
    objective : str, callable or None
        sklearn scorer (maximized) or None for the validation loss (minimized).
    max_epochs, patience : int
        Epoch cap and early-stopping patience of every trial.
    seed : int
        Base seed; trial ``n`` trains under torch seed ``seed + n``.
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
        input_infos: Sequence[TensorInfo],
        target_infos: Sequence[TensorInfo],
        data: TrialData,
        objective: Any,
        max_epochs: int,
        patience: int,
        seed: int,
        deadline: float | None,
        interrupted: Callable[[], bool],
        class_weight: np.ndarray | None = None,
        callbacks: Sequence[Callback] = (),
        max_model_size: int | None = None,
        device: str = "cpu",
        verbose: int = 0,
    ) -> None:
        self.graph = graph
        self.training_space = training_space
        self.input_infos = list(input_infos)
        self.target_infos = list(target_infos)
        self.data = data
        self.objective = objective
        self.max_epochs = max_epochs
        self.patience = patience
        self.seed = seed
        self.deadline = deadline
        self.interrupted = interrupted
        self.class_weight = class_weight
        self.callbacks = list(callbacks)
        self.max_model_size = max_model_size
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
        return sample_architecture(self.graph, trial, self.input_infos, self.training_space)

    def build(self, spec: ArchitectureSpec, seed: int) -> GraphModule:
        """The module of ``spec``, initialized under ``seed`` without touching global RNGs."""
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return GraphModule(spec, self.input_infos, self.target_infos)

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

    def _run(self, trial: Any) -> float:
        spec = self.sample(trial)
        trial.set_user_attr("architecture", spec.to_dict())
        seed = self.seed + trial.number
        module = self.build(spec, seed)
        n_params = count_parameters(module)
        trial.set_user_attr("n_params", n_params)
        if self.max_model_size is not None and n_params > self.max_model_size:
            raise SearchError(
                f"the sampled network has {n_params:,} parameters, more than "
                f"max_model_size={self.max_model_size:,}."
            )
        time_limit = TimeLimit(self.deadline)
        own = [
            ("pruning", PruningReporter(trial, self.monitor)),
            ("time_limit", time_limit),
            ("divergence", DivergenceGuard()),
        ]
        user = [(f"user_{i}", copy.deepcopy(cb)) for i, cb in enumerate(self.callbacks)]
        net = make_net(
            module,
            spec,
            self.target_infos[0],
            max_epochs=self.max_epochs,
            valid=(self.data.X_valid, self.data.y_valid),
            objective=self.objective,
            patience=self.patience,
            class_weight=self.class_weight,
            callbacks=own + user,
            device=self.device,
            verbose=int(self.verbose >= 2),
        )
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            net.fit(self.data.X_train, self.data.y_train)
        if self.interrupted():
            raise KeyboardInterrupt
        values = [row.get(self.monitor) for row in net.history]
        done = [(i, v) for i, v in enumerate(values) if v is not None]
        if not done:
            raise SearchError("the time budget ran out before the first epoch finished.")
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
