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
from collections.abc import Iterator, Sequence
from typing import Any

import optuna
import pandas as pd
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, TrialState
from sklearn.utils._param_validation import InvalidParameterError
from tqdm.auto import tqdm

from ..exceptions import SearchError
from .objective import Objective

__all__ = ["SearchInterrupt", "leaderboard", "make_pruner", "make_sampler", "run_search"]

logger = logging.getLogger("sknas")

SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "hyperband", "none")
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def _unknown(param: str, value: str, allowed: Sequence[str], instance_of: str) -> Exception:
    close = difflib.get_close_matches(value, allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return InvalidParameterError(
        f"unknown {param} {value!r}.{hint} Allowed: {', '.join(map(repr, allowed))}, or an "
        f"instance of {instance_of}."
    )


def make_sampler(sampler: Any, seed: int) -> optuna.samplers.BaseSampler:
    """An Optuna sampler from a name or a copy of a sampler instance."""
    if isinstance(sampler, optuna.samplers.BaseSampler):
        return copy.deepcopy(sampler)
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise _unknown("sampler", str(sampler), SAMPLERS, "optuna.samplers.BaseSampler")


def make_pruner(pruner: Any, max_epochs: int) -> optuna.pruners.BasePruner:
    """An Optuna pruner from a name, None, or a copy of a pruner instance."""
    if isinstance(pruner, optuna.pruners.BasePruner):
        return copy.deepcopy(pruner)
    if pruner is None or pruner == "none":
        return optuna.pruners.NopPruner()
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=3)
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs)
    raise _unknown("pruner", str(pruner), PRUNERS, "optuna.pruners.BasePruner")


class SearchInterrupt:
    """Turns Ctrl-C during a search into a flag plus KeyboardInterrupt.

    skorch ends a training run quietly on KeyboardInterrupt; the flag lets the objective tell a
    user's interrupt from an early stop and end the search.
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
            self.requested = True
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


class _Progress:
    """A line per finished trial, and a tqdm bar over trials on a terminal."""

    def __init__(self, total: int, deadline: float | None, verbose: int) -> None:
        interactive = sys.stderr.isatty()
        self.bar = tqdm(
            total=total, disable=verbose < 1 or not interactive, unit="trial", leave=False
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


def run_search(
    objective: Objective,
    *,
    max_trials: int,
    deadline: float | None,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    storage: Any = None,
    study_name: str | None = None,
    first_trials: Sequence[dict[str, Any]] = (),
    interrupt: SearchInterrupt | None = None,
    verbose: int = 0,
) -> tuple[optuna.Study, bool]:
    """Run the study until ``max_trials`` trials have finished, the budget ends, or Ctrl-C.

    Parameters
    ----------
    objective : Objective
        The trial function.
    max_trials : int
        Finished trials (complete, pruned or failed) the study should hold, counting those of
        a resumed study.
    deadline : float or None
        ``time.monotonic()`` value after which no trial starts (running ones are stopped by
        the objective, which shares it).
    sampler, pruner
        Optuna sampler and pruner.
    storage : str or optuna storage, optional
        None keeps the study in memory.
    study_name : str, optional
        Name of the study in ``storage``; an existing study is resumed.
    first_trials : sequence of dict
        Parameters enqueued before the sampler starts, on a new study only.
    interrupt : SearchInterrupt, optional
        Ctrl-C flag shared with the objective.
    verbose : int
        1 or more shows a progress bar with a line per trial.

    Returns
    -------
    study : optuna.Study
    interrupted : bool
        True when the user stopped the search with Ctrl-C.

    Raises
    ------
    SearchError
        When no trial completed.
    """
    interrupt = interrupt or SearchInterrupt()
    with _quiet_optuna():
        study = optuna.create_study(
            storage=storage,
            sampler=sampler,
            pruner=pruner,
            study_name=study_name,
            direction=objective.direction,
            load_if_exists=True,
        )
        if study.direction.name.lower() != objective.direction:
            raise SearchError(
                f"study {study.study_name!r} in the storage is set to {study.direction.name}, "
                f"but this search must {objective.direction} its objective; use another "
                f"study_name or the same objective."
            )
        if not study.trials:
            for params in first_trials:
                study.enqueue_trial(params, skip_if_exists=True)
        finished = len(study.get_trials(deepcopy=False, states=FINISHED))
        progress = _Progress(max(0, max_trials - finished), deadline, verbose)
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        interrupted = False
        try:
            with interrupt.installed():
                study.optimize(
                    objective,
                    n_trials=max(0, max_trials - finished),
                    timeout=timeout,
                    catch=(Exception,),
                    callbacks=[MaxTrialsCallback(max_trials, states=FINISHED), progress],
                    gc_after_trial=True,
                )
        except KeyboardInterrupt:
            interrupted = True
        finally:
            progress.close()
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
    return study, interrupted


def leaderboard(study: optuna.Study) -> pd.DataFrame:
    """One row per trial that ran, best first: number, state, score, epochs, parameters..."""
    rows = []
    for trial in study.get_trials(deepcopy=False, states=(*FINISHED, TrialState.RUNNING)):
        attrs = trial.user_attrs
        row = {
            "number": trial.number,
            "state": trial.state.name,
            "score": trial.value,
            "epochs": attrs.get("epochs"),
            "best_epoch": attrs.get("best_epoch"),
            "n_params": attrs.get("n_params"),
            "seconds": attrs.get("seconds"),
            "fail_reason": attrs.get("fail_reason"),
        }
        row.update({f"params/{k}": v for k, v in trial.params.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    ascending = study.direction == optuna.study.StudyDirection.MINIMIZE
    return frame.sort_values(
        ["score", "number"], ascending=[ascending, True], na_position="last"
    ).reset_index(drop=True)
