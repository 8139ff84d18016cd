"""The final model: the best trial's network refit on every row it may use, within the budget.

The refit gets the time the search left it. When it cannot finish (the deadline passes, or
Ctrl-C), the best trial's own weights, trained during the search, are used instead, with the
preprocessing that was fitted for that trial.
"""

from __future__ import annotations

import copy
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from optuna.trial import FrozenTrial
from sklearn.base import clone

from ..nn import GraphModule
from ..space import ArchitectureSpec
from ..training import DivergenceGuard, TimeLimit, make_net
from .data import RefitData, n_rows
from .driver import SearchInterrupt
from .objective import BestTrial, Objective

__all__ = ["FinalModel", "final_model"]

logger = logging.getLogger("sknas")

#: what ``refit_status_`` may say
STATUSES = {
    "refit": "refit on every row it may use",
    "trial_weights": "the best trial's own weights (refit=False, or the search was interrupted)",
    "retrained": "the best trial's network trained again on its training rows: its weights "
    "were not held by this process (a trial of another machine or of an earlier session)",
    "out_of_time": "the refit ran out of time; the best trial's own weights are used",
    "interrupted": "the refit was interrupted; the best trial's own weights are used",
    "diverged": "the refit's loss was not finite; the best trial's own weights are used",
    "partial": "the final training could not finish and the best trial's weights are not "
    "held in this process: the network is trained for fewer epochs than its best trial",
}


@dataclass
class FinalModel:
    """The network the estimator predicts with, and the preprocessing it was trained with.

    Attributes
    ----------
    net : skorch net
        Trained, in eval mode.
    input_adapters, target_adapters : list
        Fitted on the rows the network was trained on.
    status : str
        One of :data:`STATUSES`.
    seconds : float
        Wall-clock seconds spent on the final model.
    """

    net: Any
    input_adapters: list[Any]
    target_adapters: list[Any]
    status: str
    seconds: float


def _build(spec: ArchitectureSpec, infos: list[Any], targets: Sequence[Any], seed: int) -> Any:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return GraphModule(spec, infos, [t.info_ for t in targets])


def _train(
    objective: Objective,
    spec: ArchitectureSpec,
    seed: int,
    adapters: Sequence[Any],
    targets: Sequence[Any],
    data: tuple[Any, Any],
    epochs: int,
    class_weight: Any,
    deadline: float | None,
    verbose: int,
) -> tuple[Any, bool]:
    """Train ``spec`` on ``data`` for ``epochs``, with the trials' own callbacks; whether the
    deadline cut it short."""
    infos = [a.info_for(c) for a, c in zip(adapters, spec.input_configs())]
    limit = TimeLimit(deadline)
    X, y = data
    user = [(f"user_{i}", copy.deepcopy(cb)) for i, cb in enumerate(objective.callbacks)]
    net = make_net(
        _build(spec, infos, targets, seed),
        spec,
        [t.info_ for t in targets],
        loss_weights=objective.loss_weights,
        max_epochs=epochs,
        class_weight=class_weight,
        callbacks=[("time_limit", limit), ("divergence", DivergenceGuard()), *user],
        device=objective.device,
        verbose=int(verbose >= 2),
        n_train=n_rows(y),
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net.fit(X, y)
    return net, limit.expired_


def _from_weights(objective: Objective, kept: BestTrial, targets: Sequence[Any]) -> Any:
    """A net holding the weights a trial was trained to, without training."""
    infos = objective.source.infos(kept.spec.input_configs())
    module = _build(kept.spec, infos, targets, 0)
    module.load_state_dict(kept.state_dict)
    net = make_net(
        module,
        kept.spec,
        [t.info_ for t in targets],
        loss_weights=objective.loss_weights,
        max_epochs=1,
        device=objective.device,
    )
    return net.initialize()


def _select(adapters: Sequence[Any], spec: ArchitectureSpec) -> list[Any]:
    """The adapters, each keeping the input configuration of ``spec`` (text adapters forget
    the others)."""
    for adapter, config in zip(adapters, spec.input_configs()):
        adapter.select(config)
    return list(adapters)


def final_model(
    objective: Objective,
    trial: FrozenTrial,
    held: Sequence[BestTrial | None],
    search_targets: Sequence[Any],
    refit: RefitData | None,
    *,
    deadline: float | None,
    verbose: int = 0,
) -> FinalModel:
    """Train the final model of a search.

    Parameters
    ----------
    objective : Objective
        The search's objective: its data source (with the adapters fitted on the search's
        training rows), device and loss settings.
    trial : FrozenTrial
        The best trial.
    held : sequence of BestTrial or None
        The best trial weights of each process of the search; those of ``trial`` are used
        where they are among them.
    search_targets : list
        The target adapters the trials were trained with.
    refit : RefitData or None
        The rows to refit on; None keeps the best trial's weights (or, where they are not
        held here, trains the architecture again on the search's training rows).
    deadline : float or None
        ``time.monotonic()`` value by which the fit must end.
    verbose : int
        2 or more prints a line per epoch.

    Returns
    -------
    FinalModel

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C before any network could be trained, where no trial weights are held.
    """
    started = time.monotonic()
    spec = ArchitectureSpec.from_dict(trial.user_attrs["architecture"])
    kept = next((k for k in held if k is not None and k.number == trial.number), None)
    source = objective.source

    def done(net: Any, adapters: Sequence[Any], targets: Sequence[Any], status: str):
        net.module_.eval()
        return FinalModel(net, list(adapters), list(targets), status, time.monotonic() - started)

    if refit is None and kept is not None:
        net = _from_weights(objective, kept, search_targets)
        return done(net, _select(source.adapters, spec), search_targets, "trial_weights")
    net, cut, diverged = None, False, False
    interrupt = SearchInterrupt()
    try:
        with interrupt.installed():
            if refit is None:
                # the best trial ran in another process: train its network again
                adapters, targets = source.adapters, search_targets
                class_weight = objective.class_weight
                data = source.data(spec.input_configs())
                X, y = data.X_train, data.y_train
            else:
                adapters = [clone(a).fit(x) for a, x in zip(refit.adapters, refit.X)]
                encoded = [
                    a.transform(x, c) for a, x, c in zip(adapters, refit.X, spec.input_configs())
                ]
                X = encoded[0] if len(encoded) == 1 else dict(zip(source.names, encoded))
                y, targets, class_weight = refit.y, refit.targets, refit.class_weight
            net, cut = _train(
                objective,
                spec,
                trial.user_attrs.get("seed", objective.seed + trial.number),
                adapters,
                targets,
                (X, y),
                trial.user_attrs.get("best_epoch", 1),
                class_weight,
                deadline,
                verbose,
            )
    except KeyboardInterrupt:
        # Ctrl-C outside skorch's training loop, e.g. while fitting the preprocessing
        interrupt.requested = True
    except FloatingPointError:
        if kept is None:
            raise
        net, diverged = None, True
    if net is not None and not cut and not interrupt.requested:
        status = "retrained" if refit is None else "refit"
        return done(net, _select(adapters, spec), targets, status)
    status = "diverged" if diverged else "interrupted" if interrupt.requested else "out_of_time"
    if kept is not None:
        hint = "" if diverged else "; raise time_budget to refit"
        warnings.warn(
            f"{STATUSES[status]} (trial {trial.number}){hint}.", UserWarning, stacklevel=3
        )
        net = _from_weights(objective, kept, search_targets)
        return done(net, _select(source.adapters, spec), search_targets, status)
    if net is None:
        raise KeyboardInterrupt("the final model was interrupted before it could be trained")
    warnings.warn(
        f"the final model was {'interrupted' if status == 'interrupted' else 'out of time'} "
        f"after {len(net.history)} of {trial.user_attrs.get('best_epoch', 1)} epochs, and "
        f"the best trial's weights are not held in this process: the network is trained for "
        f"fewer epochs than its best trial. Raise time_budget.",
        UserWarning,
        stacklevel=3,
    )
    return done(net, _select(adapters, spec), targets, "partial")
