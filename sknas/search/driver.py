"""Drive the Optuna study: creation, first trials, budgets, failures and interruption."""

from __future__ import annotations

import contextlib
import copy
import difflib
import logging
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState
from sklearn.utils._param_validation import InvalidParameterError
from tqdm.auto import tqdm

from ..exceptions import SearchError
from .objective import Objective
from .storage import (
    FINISHED,
    check_study,
    counted_trials,
    fail_dead_trials,
    has_heartbeat,
    open_storage,
    superseded,
)

__all__ = [
    "SearchInterrupt",
    "check_completed",
    "copy_to_memory",
    "leaderboard",
    "make_pruner",
    "make_sampler",
    "open_study",
    "run_search",
]

logger = logging.getLogger("sknas")

SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "hyperband", "none")


def _unknown(param: str, value: str, allowed: Sequence[str], instance_of: str) -> Exception:
    close = difflib.get_close_matches(value, allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return InvalidParameterError(
        f"unknown {param} {value!r}.{hint} Allowed: {', '.join(map(repr, allowed))}, or an "
        f"instance of {instance_of}."
    )


def make_sampler(sampler: Any, seed: int, *, shared: bool = False) -> optuna.samplers.BaseSampler:
    """The search's Optuna sampler, made once per search (per worker process).

    Parameters
    ----------
    sampler : {"tpe", "random"} or optuna.samplers.BaseSampler
        ``"tpe"``: a TPE sampler suited to a conditional space: it models the parameters
        jointly (``multivariate``) within each group of parameters that trials sample together
        (``group``: a family's parameters are modelled only with the trials of that family).
        ``"random"``: uniform sampling. A sampler instance is deep-copied, so the user's own
        is never changed.
    seed : int
        Seeds a named sampler. Worker processes sharing a study need distinct seeds, or their
        first random proposals repeat each other's.
    shared : bool, default=False
        Whether other processes run trials of the same study at the same time (``n_jobs > 1``
        or a storage other workers may join). TPE then treats their running trials as bad
        results (``constant_liar``), so that workers do not propose the same region at once.

    Returns
    -------
    optuna.samplers.BaseSampler

    Raises
    ------
    InvalidParameterError
        When ``sampler`` is neither a known name nor a sampler instance.
    """
    if isinstance(sampler, optuna.samplers.BaseSampler):
        return copy.deepcopy(sampler)
    if sampler == "tpe":
        with warnings.catch_warnings():
            # Optuna warns that some of these flags (group) are experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                seed=seed, multivariate=True, group=True, constant_liar=shared
            )
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise _unknown("sampler", str(sampler), SAMPLERS, "optuna.samplers.BaseSampler")


def make_pruner(pruner: Any, max_epochs: int, folds: int = 1) -> optuna.pruners.BasePruner:
    """An Optuna pruner from a name, None, or a copy of a pruner instance.

    With cross-validation (``folds`` > 1) trials report one score per fold instead of one
    per epoch: ``"median"`` is then the Wilcoxon signed-rank test of a trial's fold scores
    against the best trial's (``WilcoxonPruner``), and Hyperband's resource is the fold.
    """
    if isinstance(pruner, optuna.pruners.BasePruner):
        return copy.deepcopy(pruner)
    if pruner is None or pruner == "none":
        return optuna.pruners.NopPruner()
    if folds > 1 and pruner in ("median", "hyperband"):
        if pruner == "median":
            with warnings.catch_warnings():
                # Optuna warns that WilcoxonPruner is experimental: not the user's choice here
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.pruners.WilcoxonPruner(p_threshold=0.1)
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=folds)
    if pruner == "median":
        # a tenth of the epoch cap as warm-up (1 to 3 epochs): short trials are judged early
        warmup = max(1, min(3, max_epochs // 10))
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=warmup)
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs)
    raise _unknown("pruner", str(pruner), PRUNERS, "optuna.pruners.BasePruner")


class SearchInterrupt:
    """Turns Ctrl-C during a search into a flag that ends it at the next safe point.

    The first Ctrl-C raises nothing: the running training ends at its next batch
    (:class:`~sknas.training.StopOnRequest`), the objective then fails that trial, and no
    trial starts after it, so that no storage write is cut in half. A second Ctrl-C raises
    KeyboardInterrupt at once.
    """

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def _interactive() -> bool:
    """Whether a progress bar can be drawn (standard error is a terminal)."""
    return sys.stderr.isatty()


class _Progress:
    """A line per finished trial, and a tqdm bar over trials on a terminal."""

    def __init__(self, total: int | None, deadline: float | None, verbose: int) -> None:
        self.bar = tqdm(
            total=total, disable=verbose < 1 or not _interactive(), unit="trial", leave=False
        )
        self.deadline = deadline
        self.verbose = verbose

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        attrs = trial.user_attrs
        line = f"trial {trial.number:3d} {trial.state.name:8s}"
        if trial.value is not None:
            line += f" value={trial.value:.5g}"
        line += f" epochs={attrs.get('epochs', '-')} params={attrs.get('n_params', '-')}"
        line += f" {attrs.get('seconds', 0):.1f}s"
        if "fail_reason" in attrs:
            line += f" ({attrs['fail_reason']})"
        logger.info(line)
        if self.verbose >= 1:
            tqdm.write(line)
        if self.bar.disable:
            return
        self.bar.update(1)
        postfix = {}
        with contextlib.suppress(ValueError):
            postfix["best"] = f"{study.best_value:.5g}"
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            postfix["left"] = f"{max(0.0, left):.0f}s"
        self.bar.set_postfix(postfix)

    def close(self) -> None:
        self.bar.close()


def failure_summary(study: optuna.Study, limit: int = 3) -> str:
    """The first distinct failure reasons of a study's trials."""
    reasons: list[str] = []
    for trial in study.trials:
        reason = trial.user_attrs.get("fail_reason")
        if reason and reason not in reasons:
            reasons.append(reason)
    return "; ".join(r.rstrip(".") for r in reasons[:limit]) or "no reason was recorded"


def open_study(
    *,
    storage: Any,
    study_name: str | None,
    direction: str,
    pruner: optuna.pruners.BasePruner,
    identity: dict[str, Any],
) -> tuple[optuna.Study, bool]:
    """Create the study, or load it from ``storage`` and check that it holds this search.

    Parameters
    ----------
    storage : str, optuna storage or None
        See :func:`~sknas.search.storage.open_storage`.
    study_name : str or None
        Name of the study in ``storage``; an existing study is resumed.
    direction : {"minimize", "maximize"}
        How the objective is optimized.
    pruner : optuna.pruners.BasePruner
        The pruner.
    identity : dict
        ``sknas_*`` facts recorded in a new study (estimator, data fingerprint, seed,
        parameters) and checked against an existing one.

    Returns
    -------
    study : optuna.Study
    created : bool
        Whether this call created the study. Of several processes that open one study at
        once, the storage lets one create it: only that one enqueues the first trials.

    Raises
    ------
    SearchError
        When the storage cannot be opened or the study holds another search.
    """
    opened = open_storage(storage)
    with quiet_optuna():
        try:
            study = optuna.create_study(
                storage=opened, pruner=pruner, study_name=study_name, direction=direction
            )
            created = True
        except optuna.exceptions.DuplicatedStudyError:
            study = optuna.load_study(study_name=study_name, storage=opened, pruner=pruner)
            created = False
    check_study(study, identity)
    if study.direction.name.lower() != direction:
        raise SearchError(
            f"study {study.study_name!r} in the storage is set to {study.direction.name}, "
            f"but this search must {direction} its objective; use another study_name or the "
            f"same objective."
        )
    return study, created


class _StopAtMaxTrials:
    """Stops this process's loop once finished plus running trials reach ``max_trials``."""

    def __init__(self, max_trials: int | None) -> None:
        self.max_trials = max_trials

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if self.max_trials is not None and sum(counted_trials(study)) >= self.max_trials:
            study.stop()


class _FailDeadTrials:
    """Fails the running trials of dead processes between this process's trials, those that
    died before their first heartbeat included (:func:`fail_dead_trials`)."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def __call__(self, study: optuna.Study, trial: FrozenTrial | None = None) -> None:
        fail_dead_trials(study, self.seen)


class _StopOnRequest:
    """Stops this process's loop once the user pressed Ctrl-C."""

    def __init__(self, interrupt: SearchInterrupt) -> None:
        self.interrupt = interrupt

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if self.interrupt():
            study.stop()


class _StopAtDeadline:
    """Stops this process's loop once no trial may start: the objective keeps the time the
    final model needs, which grows as better trials are found."""

    def __init__(self, objective: Objective) -> None:
        self.objective = objective

    def seconds_left(self, study: optuna.Study) -> float | None:
        deadline = self.objective.start_deadline(study)
        return None if deadline is None else deadline - time.monotonic()

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        left = self.seconds_left(study)
        if left is not None and left <= 0:
            study.stop()


def _optimize(
    study: optuna.Study,
    objective: Objective,
    max_trials: int | None,
    progress: _Progress,
    interrupt: SearchInterrupt,
) -> None:
    """Run trials until ``max_trials`` count in the study, no trial may start or Ctrl-C,
    waiting for other workers' last trials where the storage can tell whether they are
    alive."""
    stop = _StopAtMaxTrials(max_trials)
    out_of_time = _StopAtDeadline(objective)
    asked = _StopOnRequest(interrupt)
    dead = _FailDeadTrials()
    while not interrupt():
        dead(study)
        finished, running = counted_trials(study)
        left = out_of_time.seconds_left(study)
        if left is not None and left <= 0:
            return
        if max_trials is None or finished + running < max_trials:
            study.optimize(
                objective,
                n_trials=None if max_trials is None else max_trials - finished - running,
                timeout=left,
                catch=(Exception,),
                callbacks=[dead, stop, out_of_time, asked, progress],
                gc_after_trial=True,
            )
        elif running and has_heartbeat(study):
            time.sleep(1.0)
        else:
            return


def run_search(
    study: optuna.Study,
    objective: Objective,
    *,
    max_trials: int | None,
    first_trials: Sequence[dict[str, Any]] = (),
    interrupt: SearchInterrupt | None = None,
    verbose: int = 0,
) -> bool:
    """Run the study until ``max_trials`` trials count in it, no trial may start within the
    objective's deadline, or Ctrl-C.

    Several processes may run this on one study in a shared storage: ``max_trials`` is then
    global, and with a heartbeat storage each waits for the others' last trials, so that all
    end with the same best trial.

    Parameters
    ----------
    study : optuna.Study
        From :func:`open_study`, with its sampler set.
    objective : Objective
        The trial function.
    max_trials : int or None
        Finished trials (complete, pruned or failed; a trial retried after its process died
        counts once) the study should hold, counting those of a resumed study. None: no cap,
        the objective's deadline ends the search.
    first_trials : sequence of dict
        Parameters enqueued before the sampler starts, on a study without trials: of each,
        what the objective's space asks for and allows (:meth:`Objective.within_space`).
        Give them in the process that created the study only (:func:`open_study`): two
        processes that enqueue at once may both enqueue every one.
    interrupt : SearchInterrupt, optional
        Ctrl-C flag shared with the objective.
    verbose : int
        1 or more shows a progress bar with a line per trial.

    Returns
    -------
    interrupted : bool
        True when the user stopped the search with Ctrl-C. Whether any trial completed is
        for :func:`check_completed` to say, once every process has stopped.
    """
    interrupt = interrupt or SearchInterrupt()
    with quiet_optuna():
        if not study.trials:
            for params in first_trials[:max_trials]:
                if kept := objective.within_space(params):
                    study.enqueue_trial(kept, skip_if_exists=True)
        finished, _ = counted_trials(study)
        total = None if max_trials is None else max(0, max_trials - finished)
        progress = _Progress(total, objective.deadline, verbose)
        interrupted = False
        try:
            with interrupt.installed():
                _optimize(study, objective, max_trials, progress, interrupt)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            progress.close()
    return interrupted or interrupt()


def check_completed(study: optuna.Study, interrupted: bool) -> None:
    """Once every process of the search has stopped: raise if no trial completed.

    Raises
    ------
    KeyboardInterrupt
        When Ctrl-C stopped the search before any trial completed.
    SearchError
        When no trial completed.
    """
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if interrupted:
            raise KeyboardInterrupt("the search was interrupted before any trial completed")
        raise SearchError(
            f"no trial completed out of {len(study.trials)}. First failure reasons: "
            f"{failure_summary(study)}. Check the data and the search space, or raise "
            f"time_budget."
        )
    if interrupted:
        logger.warning("search interrupted; keeping the best of the completed trials.")


def copy_to_memory(study: optuna.Study) -> optuna.Study:
    """A copy of ``study`` held in memory, for a study kept in a temporary file."""
    storage = optuna.storages.InMemoryStorage()
    with quiet_optuna():
        optuna.copy_study(
            from_study_name=study.study_name, from_storage=study._storage, to_storage=storage
        )
        return optuna.load_study(study_name=study.study_name, storage=storage)


def leaderboard(study: optuna.Study, ensemble: Any = None) -> pd.DataFrame:
    """One row per trial that ran, best first: number, state, score, epochs, parameters...,
    and with an :class:`~sknas.search.Ensemble`, each trial's weight in it."""
    rows = []
    trials = study.get_trials(deepcopy=False)
    retried = superseded(trials)
    for trial in trials:
        if trial.state not in (*FINISHED, TrialState.RUNNING):
            continue
        attrs = trial.user_attrs
        reason = attrs.get("fail_reason")
        if trial.number in retried:
            reason = "its process stopped during the trial; run again as a later trial"
        row = {
            "number": trial.number,
            "state": trial.state.name,
            "score": trial.value,
            "epochs": attrs.get("epochs"),
            "best_epoch": attrs.get("best_epoch"),
            "n_params": attrs.get("n_params"),
            "seconds": attrs.get("seconds"),
            "epoch_seconds": attrs.get("epoch_seconds"),
            "fail_reason": reason,
            "worker": attrs.get("worker"),
        }
        row.update({f"params/{k}": v for k, v in trial.params.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    if ensemble is not None:
        weights = dict(zip(ensemble.members, ensemble.weights))
        frame.insert(3, "ensemble_weight", frame["number"].map(weights).fillna(0.0))
    ascending = study.direction == optuna.study.StudyDirection.MINIMIZE
    return frame.sort_values(
        ["score", "number"], ascending=[ascending, True], na_position="last"
    ).reset_index(drop=True)
