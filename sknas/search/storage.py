"""Where a study lives: opening storages, heartbeats, retried trials and the study's identity.

A trial left RUNNING by a process that died is found through the storage's heartbeat, marked
failed and run again (Optuna's ``RetryHeartbeatStaleTrialCallback``). The failed copy is then
*superseded*: it does not count toward ``max_trials`` and does not shift the seeds of the trials
after it: each trial's weights are seeded by its place in the search, whichever process runs it.

A stored study records what search it holds (:func:`check_study`); resuming it with settings
that change what a score means is refused, so that no study mixes incomparable scores.
"""

from __future__ import annotations

import json
import time
import warnings
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RetryHeartbeatStaleTrialCallback, fail_stale_trials
from optuna.trial import FrozenTrial, TrialState

from ..exceptions import SearchError

__all__ = [
    "FINISHED",
    "FREE_PARAMS",
    "HEARTBEAT_INTERVAL",
    "check_folds",
    "check_study",
    "counted_trials",
    "fail_dead_trials",
    "has_heartbeat",
    "open_storage",
    "setting_differences",
    "superseded",
    "trial_index",
]

#: seconds between heartbeats of a running trial, for storages opened from a URL
HEARTBEAT_INTERVAL = 10

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

#: seconds an SQLite connection waits for another writer
SQLITE_TIMEOUT = 60

#: tries to open a database whose tables another worker may be creating at the same moment
SCHEMA_ATTEMPTS = 4

#: the study's user attributes that say what search it is
IDENTITY = ("sknas_estimator", "sknas_data")

#: the study's user attribute with a hash of its trials' cross-validation folds
FOLDS = "sknas_folds"

#: constructor parameters a resumed study may change: its budget, where and how it runs, and
#: what follows the search. Every other recorded parameter (objective, epochs, batch_size,
#: validation_split, max_model_size, class_weight, column_types, loss_weights...) changes the
#: space or what a trial's score means, and must stay as the study recorded it.
FREE_PARAMS = frozenset(
    {
        "device",
        "ensemble_size",
        "max_trials",
        "pruner",
        "random_state",
        "refit",
        "sampler",
        "time_budget",
    }
)

#: differing settings named in an error, at most
MAX_SHOWN = 6

#: a setting one side did not record
_ABSENT = object()


def retry_callback() -> RetryHeartbeatStaleTrialCallback:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback(max_retry=3)


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _database(url: str, heartbeat_interval: int, grace_period: int) -> Any:
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    # SQLite lets one writer in at a time: the heartbeat thread and the trial loop wait for
    # each other instead of failing with "database is locked"
    engine = {"connect_args": {"timeout": SQLITE_TIMEOUT}} if url.startswith("sqlite") else {}
    attempt = 0
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=engine,
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    heartbeat_stale_trial_callback=retry_callback(),
                )
        except (IntegrityError, ProgrammingError):
            # workers starting together on a new database race to create Optuna's tables
            # (a duplicate table or type); the loser finds them made a moment later
            attempt += 1
            if attempt == SCHEMA_ATTEMPTS:
                raise
            time.sleep(0.5 * attempt)


def open_storage(
    storage: Any,
    *,
    heartbeat_interval: int = HEARTBEAT_INTERVAL,
    grace_period: int | None = None,
) -> Any:
    """The Optuna storage of a search, checked reachable.

    Parameters
    ----------
    storage : str, optuna storage or None
        A database URL (``sqlite:///search.db``, ``postgresql://user@host/db``) is opened with
        heartbeats, so that trials of a killed process are run again; any other string is
        the path of an Optuna journal file; a storage object is returned as it is; None keeps
        the study in memory.
    heartbeat_interval : int, default=10
        Seconds between the heartbeats of a running trial, for a database URL.
    grace_period : int, optional
        Seconds without a heartbeat after which a running trial is taken for dead and run
        again; None means three heartbeat intervals.

    Returns
    -------
    optuna storage or None

    Raises
    ------
    SearchError
        When the storage cannot be opened (server down, wrong credentials, missing folder).
    """
    if storage is None or not isinstance(storage, str):
        return storage
    try:
        if "://" not in storage:
            backend = optuna.storages.journal.JournalFileBackend(storage)
            return optuna.storages.JournalStorage(backend)
        return _database(storage, heartbeat_interval, grace_period or 3 * heartbeat_interval)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SearchError(
            f"cannot open the study storage {_hide_password(storage)!r}: {reason}. Check that "
            f"the database server is running and reachable, the URL (driver, user, password, "
            f"database) and, for a file, that its folder exists."
        ) from exc


def has_heartbeat(study: optuna.Study) -> bool:
    """Whether the study's storage tells live running trials from dead ones."""
    interval = getattr(study._storage, "get_heartbeat_interval", None)
    return interval is not None and interval() is not None


def _retry_history(trial: FrozenTrial) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback.retry_history(trial)


def superseded(trials: list[FrozenTrial]) -> set[int]:
    """Numbers of the trials that died and were run again under a new number."""
    numbers: set[int] = set()
    for trial in trials:
        numbers.update(_retry_history(trial))
    return numbers


def counted_trials(study: optuna.Study) -> tuple[int, int]:
    """Finished trials that count toward ``max_trials``, and trials running now."""
    trials = study.get_trials(deepcopy=False)
    dead = superseded(trials)
    finished = sum(t.state in FINISHED and t.number not in dead for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    return finished, running


def trial_index(study: optuna.Study, number: int) -> int:
    """The place of trial ``number`` in the search: its number, less the superseded trials
    before it. A retried trial takes the place of the trial it repeats."""
    trials = study.get_trials(deepcopy=False)
    trial = next(t for t in trials if t.number == number)
    history = _retry_history(trial)
    place = history[0] if history else number
    dead = superseded([t for t in trials if t.number < number])
    return place - sum(n < place for n in dead)


def fail_dead_trials(study: optuna.Study, seen: set[int]) -> None:
    """Mark running trials without a recent heartbeat failed (and queue their retry).

    Optuna records a trial's first heartbeat just after the trial starts, so a process
    killed in between leaves a running trial that has none and would never turn stale. Each
    running trial not in ``seen`` (trial ids; updated here) is given one heartbeat: if its
    process lives, that process's own heartbeats follow; if not, the trial turns stale after
    the grace period like any other.

    Parameters
    ----------
    study : optuna.Study
        The study; nothing is done unless its storage records heartbeats.
    seen : set of int
        Ids of the running trials already given a heartbeat by this process; one set per
        search, kept between calls.
    """
    if not has_heartbeat(study):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        fail_stale_trials(study)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial._trial_id not in seen:
            study._storage.record_heartbeat(trial._trial_id)
            seen.add(trial._trial_id)


def _plain(value: Any) -> Any:
    """``value`` as a study's user attribute reads it back (tuples become lists...)."""
    return json.loads(json.dumps(value))


def _show(value: Any) -> str:
    return "not recorded" if value is _ABSENT else repr(value)


def _differences(stored: Any, new: Any, path: str) -> list[str]:
    """``path: stored X, this fit Y`` for every leaf where two JSON values differ."""
    if isinstance(stored, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in sorted(set(stored) | set(new)):
            where = f"{path}/{key}" if path else key
            found += _differences(stored.get(key, _ABSENT), new.get(key, _ABSENT), where)
        return found
    if stored == new:
        return []
    return [f"{path}: stored {_show(stored)}, this fit {_show(new)}"]


def setting_differences(stored: dict[str, Any], identity: dict[str, Any]) -> list[str]:
    """The settings that change what a score means and differ between a study and a fit.

    Parameters
    ----------
    stored : dict
        The study's user attributes.
    identity : dict
        This fit's ``sknas_*`` facts: ``sknas_params`` (the constructor parameters JSON can
        hold) and, where known, ``sknas_space`` (:func:`sknas.space.space_signature`).
        Each is compared only when the study recorded it too.

    Returns
    -------
    list of str
        One ``setting: stored X, this fit Y`` line per difference; empty when the fit may
        resume the study. Parameters in ``FREE_PARAMS`` are not compared.
    """
    found: list[str] = []
    if "sknas_params" in stored and "sknas_params" in identity:
        old, new = (
            {k: v for k, v in _plain(params).items() if k not in FREE_PARAMS}
            for params in (stored["sknas_params"], identity["sknas_params"])
        )
        found += _differences(old, new, "")
    if "sknas_space" in stored and "sknas_space" in identity:
        found += _differences(
            json.loads(stored["sknas_space"]), json.loads(identity["sknas_space"]), "search space"
        )
    return found


def check_folds(study: optuna.Study, folds_hash: str | None, cv: Any) -> None:
    """Record which folds a study's trials are scored on, or check that this fit's are the
    same.

    A cross-validation splitter is no setting that JSON holds, so :func:`check_study` cannot
    compare it; the folds it makes are compared here instead. A study that recorded none (one
    made before sknas recorded folds) records this fit's.

    Parameters
    ----------
    study : optuna.Study
        A new or loaded study.
    folds_hash : str or None
        A hash of this fit's (train, validation) row indices, fold by fold; None for one
        validation split.
    cv : object
        The estimator's ``cv``, named in the error.

    Raises
    ------
    SearchError
        When the study's trials were scored on other folds: their scores are not comparable
        with this fit's, nor their out-of-fold predictions with one another.
    """
    if FOLDS not in study.user_attrs:
        study.set_user_attr(FOLDS, folds_hash)
        return
    if study.user_attrs[FOLDS] != folds_hash:
        raise SearchError(
            f"study {study.study_name!r} scored its trials on other cross-validation folds "
            f"than cv={cv!r} makes for this fit, so their scores are not comparable. A "
            f"splitter that shuffles makes the same folds again only with a random_state, "
            f"and a study searched with a splitter is joined by passing that splitter (e.g. "
            f"sknas.io.estimator_from_study(storage, study_name, cv=...)); resume with the "
            f"study's folds, or use another study_name."
        )


def check_study(study: optuna.Study, identity: dict[str, Any]) -> None:
    """Record what search the study holds, or check that it holds this one.

    A study holds one search: one estimator class, one data set and one value of each setting
    that changes what a score means (``objective``, ``epochs``, ``batch_size``,
    ``validation_split``, the search space...). Its budget and where it runs may change
    between fits (``FREE_PARAMS``).

    Parameters
    ----------
    study : optuna.Study
        A new or loaded study.
    identity : dict
        This fit's ``sknas_*`` facts (see :func:`setting_differences`), recorded in a new
        study.

    Raises
    ------
    SearchError
        When the study was made by another kind of estimator, on other data, or with other
        settings; the message names each differing setting with both values.
    """
    stored = study.user_attrs
    if not any(key in stored for key in IDENTITY):
        for key, value in identity.items():
            study.set_user_attr(key, value)
        return
    if stored.get("sknas_estimator") != identity["sknas_estimator"]:
        raise SearchError(
            f"study {study.study_name!r} was made by {stored.get('sknas_estimator')}, not by "
            f"{identity['sknas_estimator']}; use another study_name or the same estimator."
        )
    if stored.get("sknas_data") != identity["sknas_data"]:
        raise SearchError(
            f"study {study.study_name!r} was searched on other training data (fingerprint "
            f"{stored.get('sknas_data')}, this fit's data: {identity['sknas_data']}); its "
            f"trials would not be comparable. Fit on the same data (and validation_data) to "
            f"resume it, or use another study_name."
        )
    differences = setting_differences(stored, identity)
    if differences:
        shown = "; ".join(differences[:MAX_SHOWN])
        more = len(differences) - MAX_SHOWN
        if more > 0:
            shown += f"; and {more} more"
        raise SearchError(
            f"study {study.study_name!r} was searched with other settings, so its scores are "
            f"not comparable with this fit's: {shown}. Resume it with the stored settings, or "
            f"use another study_name to start a new search with these. Only "
            f"{', '.join(sorted(FREE_PARAMS))} may change when a study is resumed."
        )
