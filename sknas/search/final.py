"""The final model: the best trial's network refit on every row it may use, within the budget.

The refit gets the time the search left it. When it cannot finish (the deadline passes, or
Ctrl-C), the best trial's own weights, trained during the search, are used instead, with the
preprocessing that was fitted for that trial.

An ensemble of several trials keeps its members' trial weights, with the preprocessing of
the trials; with ``refit="members"`` they are refit one by one when the time left covers all
of them (estimated from their trials), and keep their trial weights when any cannot finish.
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
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState
from sklearn.base import clone

from ..nn import EnsembleModule, GraphModule
from ..space import ArchitectureSpec
from ..training import DivergenceGuard, StopOnRequest, TimeLimit, make_net
from .data import RefitData, n_rows
from .driver import SearchInterrupt
from .ensemble import PREDICTIONS, Ensemble, EnsembleLoss, select_ensemble, unpack_predictions
from .objective import Objective, TrialWeights, expected_seconds

__all__ = [
    "FinalModel",
    "MemberTrials",
    "choose_ensemble",
    "final_ensemble",
    "final_model",
    "member_trials",
    "members_fit",
]

logger = logging.getLogger("sknas")

#: what ``refit_status_`` may say
STATUSES = {
    "refit": "refit on every row it may use",
    "trial_weights": "the trials' own weights (refit=False, the search was interrupted, an "
    "ensemble, or refit='members' would not fit in the time budget)",
    "bagged": "the fold models of cross-validation, averaged (of the best trial, or of each "
    "member of an ensemble)",
    "retrained": "the best trial's network trained again on its training rows: its weights "
    "were not held by this process (a trial of another machine or of an earlier session)",
    "out_of_time": "the refit ran out of time; the trials' own weights are used",
    "interrupted": "the refit was interrupted; the trials' own weights are used",
    "diverged": "the refit's loss was not finite; the trials' own weights are used",
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
    interrupt: SearchInterrupt,
    verbose: int,
) -> tuple[Any, bool]:
    """Train ``spec`` on ``data`` for ``epochs``, with the trials' own callbacks, until the
    deadline or a Ctrl-C; whether it trained every epoch."""
    infos = [a.info_for(c) for a, c in zip(adapters, spec.input_configs())]
    limit, stop = TimeLimit(deadline), StopOnRequest(interrupt)
    X, y = data
    user = [(f"user_{i}", copy.deepcopy(cb)) for i, cb in enumerate(objective.callbacks)]
    net = make_net(
        _build(spec, infos, targets, seed),
        spec,
        [t.info_ for t in targets],
        loss_weights=objective.loss_weights,
        max_epochs=epochs,
        class_weight=class_weight,
        callbacks=[
            ("time_limit", limit),
            ("interrupt", stop),
            ("divergence", DivergenceGuard()),
            *user,
        ],
        device=objective.device,
        verbose=int(verbose >= 2),
        n_train=n_rows(y),
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net.fit(X, y)
    # no validation rows, so no early stopping: only the deadline or a Ctrl-C ends it sooner
    return net, not (limit.expired_ or stop.stopped_)


def _from_weights(objective: Objective, kept: TrialWeights, targets: Sequence[Any]) -> Any:
    """A net holding the weights a trial was trained to (its fold models, averaged, with
    cross-validation), without training."""
    infos = objective.source.infos(kept.spec.input_configs())
    folds = [_build(kept.spec, infos, targets, 0) for _ in range(kept.folds)]
    module = folds[0]
    if kept.folds > 1:
        module = EnsembleModule(folds, [1.0 / kept.folds] * kept.folds, [t.info_ for t in targets])
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
    held: Sequence[TrialWeights],
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
        The selected trial: the best one when the ensemble was chosen.
    held : sequence of TrialWeights
        The trial weights held by the processes of the search; those of ``trial`` are used
        where they are among them.
    search_targets : list
        The target adapters the trials were trained with.
    refit : RefitData or None
        The rows to refit on; None keeps the trial's weights (or, where they are not held
        here, trains the architecture again on the search's training rows: every row with
        cross-validation).
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
    kept = next((k for k in held if k.number == trial.number), None)
    source = objective.source

    def done(net: Any, adapters: Sequence[Any], targets: Sequence[Any], status: str):
        net.module_.eval()
        return FinalModel(net, list(adapters), list(targets), status, time.monotonic() - started)

    if refit is None and kept is not None:
        net = _from_weights(objective, kept, search_targets)
        status = "bagged" if kept.folds > 1 else "trial_weights"
        return done(net, _select(source.adapters, spec), search_targets, status)
    net, complete, diverged = None, False, False
    interrupt = SearchInterrupt()
    try:
        with interrupt.installed():
            if refit is None:
                # the best trial ran in another process: train its network again
                adapters, targets = source.adapters, search_targets
                class_weight = objective.class_weight
                X, y = source.training_rows(spec.input_configs())
            else:
                adapters = [clone(a).fit(x) for a, x in zip(refit.adapters, refit.X)]
                encoded = [
                    a.transform(x, c) for a, x, c in zip(adapters, refit.X, spec.input_configs())
                ]
                X = encoded[0] if len(encoded) == 1 else dict(zip(source.names, encoded))
                y, targets, class_weight = refit.y, refit.targets, refit.class_weight
            if interrupt():
                raise KeyboardInterrupt
            net, complete = _train(
                objective,
                spec,
                trial.user_attrs.get("seed", objective.seed + trial.number),
                adapters,
                targets,
                (X, y),
                trial.user_attrs.get("best_epoch", 1),
                class_weight,
                deadline,
                interrupt,
                verbose,
            )
    except KeyboardInterrupt:
        # a second Ctrl-C, or a first one before the training started
        interrupt.requested = True
    except FloatingPointError:
        if kept is None:
            raise
        net, diverged = None, True
    if net is not None and complete:
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


def _combine(
    objective: Objective,
    nets: Sequence[Any],
    weights: Sequence[float],
    spec: ArchitectureSpec,
    targets: Sequence[Any],
) -> Any:
    """One net averaging the trained ``nets`` (:class:`~sknas.nn.EnsembleModule`); ``spec``
    (the best member's) supplies its settings."""
    infos = [t.info_ for t in targets]
    module = EnsembleModule([net.module_ for net in nets], weights, infos)
    net = make_net(
        module,
        spec,
        infos,
        loss_weights=objective.loss_weights,
        max_epochs=1,
        device=objective.device,
    )
    net.initialize()
    net.module_.eval()
    return net


def final_ensemble(
    objective: Objective,
    ensemble: Ensemble,
    trials: dict[int, FrozenTrial],
    held: Sequence[TrialWeights],
    search_targets: Sequence[Any],
    refit: RefitData | None,
    *,
    deadline: float | None,
    verbose: int = 0,
) -> FinalModel:
    """The final model of an ensemble of several trials, whose weights are all ``held``.

    Parameters
    ----------
    objective : Objective
        The search's objective.
    ensemble : Ensemble
        The selected members and their weights.
    trials : dict
        The members' trials, by number.
    held : sequence of TrialWeights
        The weights of every member (and possibly of other trials).
    search_targets : list
        The target adapters the trials were trained with.
    refit : RefitData or None
        The rows to refit every member on; None keeps the trials' weights.
    deadline : float or None
        ``time.monotonic()`` value by which the fit must end. The members are refit only when
        the time left covers the estimate of all of them.
    verbose : int
        2 or more prints a line per epoch.

    Returns
    -------
    FinalModel
    """
    started = time.monotonic()
    by_number = {k.number: k for k in held}
    kept = [by_number[n] for n in ensemble.members]
    spec = kept[0].spec
    source = objective.source

    def trial_weights(status: str) -> FinalModel:
        nets = [_from_weights(objective, k, search_targets) for k in kept]
        net = _combine(objective, nets, ensemble.weights, spec, search_targets)
        adapters = _select(source.adapters, spec)
        seconds = time.monotonic() - started
        return FinalModel(net, adapters, list(search_targets), status, seconds)

    if refit is None:
        return trial_weights("bagged" if kept[0].folds > 1 else "trial_weights")
    if not members_fit(ensemble, trials, refit.n_rows, deadline):
        estimate = expected_seconds([trials[n] for n in ensemble.members], refit.n_rows)
        warnings.warn(
            f"refit='members': refitting the {len(kept)} members of the ensemble would take "
            f"about {estimate:.0f}s, more than the time_budget leaves; they keep their "
            f"trials' weights. Raise time_budget to refit them.",
            UserWarning,
            stacklevel=3,
        )
        return trial_weights("trial_weights")
    interrupt = SearchInterrupt()
    nets, status = [], "refit"
    try:
        with interrupt.installed():
            adapters = [clone(a).fit(x) for a, x in zip(refit.adapters, refit.X)]
            encoded = [
                a.transform(x, c) for a, x, c in zip(adapters, refit.X, spec.input_configs())
            ]
            X = encoded[0] if len(encoded) == 1 else dict(zip(source.names, encoded))
            for member in kept:
                if interrupt():
                    raise KeyboardInterrupt
                attrs = trials[member.number].user_attrs
                net, complete = _train(
                    objective,
                    member.spec,
                    attrs.get("seed", objective.seed + member.number),
                    adapters,
                    refit.targets,
                    (X, refit.y),
                    attrs.get("best_epoch", 1),
                    refit.class_weight,
                    deadline,
                    interrupt,
                    verbose,
                )
                if not complete:
                    status = "interrupted" if interrupt.requested else "out_of_time"
                    break
                nets.append(net)
    except KeyboardInterrupt:
        status = "interrupted"
    except FloatingPointError:
        status = "diverged"
    if status != "refit":
        warnings.warn(
            f"{STATUSES[status]} (the ensemble of trials {ensemble.members}).",
            UserWarning,
            stacklevel=3,
        )
        return trial_weights(status)
    net = _combine(objective, nets, ensemble.weights, spec, refit.targets)
    return FinalModel(
        net,
        _select(adapters, spec),
        list(refit.targets),
        "refit",
        time.monotonic() - started,
    )


def choose_ensemble(
    study: Any,
    objective: Objective,
    held: Sequence[TrialWeights],
    size: int,
    best: FrozenTrial | None = None,
) -> Ensemble:
    """Greedy ensemble selection over the best trials whose weights are ``held``.

    The candidates are the ``size`` best completed trials that recorded validation
    predictions, whose weights this fit holds and whose inputs are presented as the best
    trial's (one preprocessing feeds every member). Selection runs ``size`` rounds.

    Parameters
    ----------
    study : optuna.Study
        The finished search.
    objective : Objective
        Its objective: the validation rows, targets and loss settings.
    held : sequence of TrialWeights
        The trial weights held by every process of this fit.
    size : int
        Candidates and rounds; 1 gives the best trial alone.
    best : FrozenTrial, optional
        The study's best trial, where the caller has it already.

    Returns
    -------
    Ensemble
    """
    best = study.best_trial if best is None else best
    numbers = {k.number for k in held}
    # a best trial that ran in another process is trained again here: one network, no bag
    folds = objective.source.n_folds if best.number in numbers else 1
    alone = Ensemble([best.number], [1.0], score=float(best.value), rounds=1, folds=folds)
    if size == 1 or best.number not in numbers or PREDICTIONS not in best.user_attrs:
        return alone
    spec = ArchitectureSpec.from_dict(best.user_attrs["architecture"])
    minimize = study.direction == StudyDirection.MINIMIZE
    candidates = sorted(
        (
            t
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.number in numbers
            and PREDICTIONS in t.user_attrs
            and ArchitectureSpec.from_dict(t.user_attrs["architecture"]).input_configs()
            == spec.input_configs()
        ),
        key=lambda t: (t.value if minimize else -t.value, t.number),
    )[:size]
    loss = EnsembleLoss(
        objective.target_infos,
        objective.source.validation_targets,
        spec.outputs,
        objective=objective.objective,
        class_weight=objective.class_weight,
        loss_weights=objective.loss_weights,
    )
    # the best trial is the first candidate (Optuna's best is the earliest among equals)
    predictions = {t.number: unpack_predictions(t.user_attrs[PREDICTIONS]) for t in candidates}
    sign = 1.0 if minimize else -1.0
    return select_ensemble(predictions, best.number, loss, size, sign=sign, folds=folds)


class MemberTrials:
    """The members of the ensemble :func:`choose_ensemble` selects from a running search, as
    trials: what a refit of the members trains (:class:`Objective`'s ``final_trials``).

    Selected again only when the best trial or the weights the objective holds change.

    Parameters
    ----------
    size : int
        ``ensemble_size``.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._selected: tuple[tuple[int, ...], list[FrozenTrial]] | None = None

    def __call__(self, study: Any, best: FrozenTrial, objective: Objective) -> list[FrozenTrial]:
        """The members, the best trial (``best``) first, among the completed trials of
        ``study`` whose weights ``objective`` holds."""
        key = (best.number, *(k.number for k in objective.kept))
        if self._selected is None or self._selected[0] != key:
            ensemble = choose_ensemble(study, objective, objective.kept, self.size, best)
            trials = member_trials(study, ensemble)
            self._selected = (key, [trials[n] for n in ensemble.members])
        return self._selected[1]


def member_trials(study: Any, ensemble: Ensemble) -> dict[int, FrozenTrial]:
    """The completed trials of ``study`` that are members of ``ensemble``, by number (not
    copied).

    Parameters
    ----------
    study : optuna.Study
        The search's study.
    ensemble : Ensemble
        Members selected from its trials.

    Returns
    -------
    dict
    """
    members = set(ensemble.members)
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return {t.number: t for t in completed if t.number in members}


def members_fit(
    ensemble: Ensemble, trials: dict[int, FrozenTrial], n_rows: int, deadline: float | None
) -> bool:
    """Whether refitting every member of ``ensemble`` on ``n_rows`` rows is expected to end
    by ``deadline``: without the margin of the time the search kept for it, which the
    search's last steps may have used.

    Parameters
    ----------
    ensemble : Ensemble
        The selected members.
    trials : dict
        The members' completed trials, by number.
    n_rows : int
        Rows the members would be refit on.
    deadline : float or None
        ``time.monotonic()`` value by which the fit must end; None always fits.

    Returns
    -------
    bool
    """
    seconds = expected_seconds([trials[n] for n in ensemble.members], n_rows)
    return deadline is None or time.monotonic() + seconds <= deadline
