"""Long searches: resume, data fingerprints, dead processes, n_jobs, PostgreSQL workers."""

import contextlib
import gc
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import psycopg
import pytest
import torch
from optuna.trial import TrialState
from sklearn.datasets import load_digits
from sklearn.model_selection import KFold
from skorch import NeuralNet
from skorch.callbacks import Callback

import sknas
from sknas import NASTabularClassifier, SearchError
from sknas.nn import GraphModule
from sknas.search.driver import SearchInterrupt, open_study
from sknas.search.storage import check_folds, check_study, fail_dead_trials

FAST = {"max_trials": 2, "epochs": 3, "random_state": 0, "cv": None}
#: trials that train for a second or more (the TabM first trial for several), so that a
#: process can be killed during one; the last is sampled, after the five first trials
SLOW = {
    "max_trials": 6,
    "epochs": 12,
    "random_state": 0,
    "pruner": "none",
    "batch_size": 32,
    "cv": None,
}


@pytest.fixture(scope="module")
def digits_csv(tmp_path_factory):
    """The digits as a table in a CSV file, and the same table read back."""
    X, y = load_digits(return_X_y=True, as_frame=True)
    frame = X.assign(digit=y).iloc[:900]
    path = tmp_path_factory.mktemp("data") / "digits.csv"
    frame.to_csv(path, index=False)
    table = pd.read_csv(path)
    return path, table.drop(columns="digit"), table["digit"]


def _study(storage, name):
    return optuna.load_study(study_name=name, storage=storage)


def _states(study):
    return [t.state for t in sorted(study.trials, key=lambda t: t.number)]


def _script(body: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(body)]


def _wait_for(predicate, timeout=300.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the search")


def _trial_states(storage, name):
    """The study's trial states, or None while it does not exist yet.

    An SQLite file is read read-only: opening it with Optuna while another process creates it
    can break that process.
    """
    if storage.startswith("sqlite:///"):
        path = storage[len("sqlite:///") :]
        if not os.path.exists(path):
            return None
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                rows = db.execute(
                    "SELECT t.state FROM trials t JOIN studies s ON t.study_id = s.study_id "
                    "WHERE s.study_name = ? ORDER BY t.number",
                    (name,),
                ).fetchall()
        except sqlite3.OperationalError:
            return None
        return [TrialState[state] for (state,) in rows]
    try:
        return _states(_study(storage, name))
    except KeyError:
        return None


def _running_after(storage, name, completed):
    def ready():
        states = _trial_states(storage, name)
        if states is None:
            return False
        return states.count(TrialState.COMPLETE) >= completed and TrialState.RUNNING in states

    return ready


def _beating_after(path, name, completed):
    """Like :func:`_running_after` for an SQLite study, once the running trial has recorded
    a heartbeat: Optuna records the first one just after the trial starts, and a trial killed
    before it turns stale only a grace period after the resumed search has seen it."""

    def ready():
        if not _running_after(f"sqlite:///{path}", name, completed)():
            return False
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            (beating,) = db.execute(
                "SELECT COUNT(*) FROM trials t JOIN studies s ON t.study_id = s.study_id "
                "JOIN trial_heartbeats h ON h.trial_id = t.trial_id "
                "WHERE s.study_name = ? AND t.state = 'RUNNING'",
                (name,),
            ).fetchone()
        return beating > 0

    return ready


def test_of_processes_opening_one_study_only_its_creator_enqueues_first_trials(tmp_path):
    """Two workers started together both found a study without trials, and both enqueued
    the first trials: one copy was left waiting after the search."""
    settings = {
        "storage": f"sqlite:///{tmp_path / 'study.db'}",
        "study_name": "shared",
        "direction": "minimize",
        "pruner": optuna.pruners.NopPruner(),
        "identity": {},
    }
    first, created = open_study(**settings)
    second, joined_created = open_study(**settings)
    assert created and not joined_created
    first.enqueue_trial({"x": 1.0})
    assert [t.system_attrs["fixed_params"] for t in second.trials] == [{"x": 1.0}]


def test_a_resumed_study_must_hold_the_same_data(tmp_path, iris):
    X, y = iris
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    NASTabularClassifier(storage=storage, study_name="s", **FAST).fit(X, y)
    with pytest.raises(SearchError, match=r"other training data.*another study_name"):
        NASTabularClassifier(storage=storage, study_name="s", **FAST).fit(X + 1.0, y)
    sknas.NASTabularRegressor(storage=storage, study_name="r", **FAST).fit(X, y)
    with pytest.raises(SearchError, match=r"made by sknas\.tabular\.NASTabularRegressor"):
        NASTabularClassifier(storage=storage, study_name="r", **FAST).fit(X, y)
    assert len(_study(storage, "s").trials) == 2, "no trial may run on mismatched data"


def test_a_resume_with_settings_that_change_scores_is_refused(tmp_path, iris):
    X, y = iris
    storage = str(tmp_path / "search.log")
    first = {**FAST, "objective": "accuracy", "storage": storage, "study_name": "s"}
    NASTabularClassifier(**first).fit(X, y)
    for change, named in [
        ({"epochs": 4}, r"epochs: stored 3, this fit 4"),
        ({"objective": "balanced_accuracy"}, r"objective: stored 'accuracy', this fit 'bal"),
        ({"validation_split": 0.3}, r"validation_split: stored 0\.2, this fit 0\.3"),
        ({"batch_size": 16}, r"batch_size: stored None, this fit 16"),
        ({"cv": "auto"}, r"cv: stored None, this fit 'auto'"),
    ]:
        with pytest.raises(SearchError, match=rf"other settings.*{named}.*another study_name"):
            NASTabularClassifier(**{**first, **change}).fit(X, y)
    with pytest.raises(SearchError, match=r"epochs: stored 3, this fit 5"):
        NASTabularClassifier(**first).fit(X, y, epochs=5)  # AutoKeras' per-call override
    study = optuna.load_study(study_name="s", storage=sknas.open_storage(storage))
    assert len(study.trials) == 2, "no trial may run with other settings"

    # a resume may raise the budget and change where and how it runs
    more = {"max_trials": 3, "time_budget": 600, "refit": False, "random_state": 1}
    resumed = NASTabularClassifier(**{**first, **more}).fit(X, y)
    assert sorted(resumed.leaderboard_["number"]) == [0, 1, 2]


def test_a_resume_on_other_cross_validation_folds_is_refused(tmp_path, diabetes):
    X, y = diabetes
    X, y = X[:150], y[:150]
    storage = str(tmp_path / "search.log")
    first = {**FAST, "storage": storage, "study_name": "s", "ensemble_size": 1}
    sknas.NASTabularRegressor(**{**first, "cv": KFold(3, shuffle=True, random_state=0)}).fit(X, y)
    # a splitter is no JSON setting: the folds it makes are compared
    other = {**first, "cv": KFold(3, shuffle=True, random_state=1)}
    with pytest.raises(SearchError, match=r"other cross-validation folds than cv=KFold.*random"):
        sknas.NASTabularRegressor(**other).fit(X, y)
    study = optuna.load_study(study_name="s", storage=sknas.open_storage(storage))
    assert len(study.trials) == 2, "no trial may run on other folds"
    # the same folds, from the same splitter, resume the study
    again = sknas.NASTabularRegressor(**{**first, "max_trials": 3})
    again.set_params(cv=KFold(3, shuffle=True, random_state=0)).fit(X, y)
    assert sorted(again.leaderboard_["number"]) == [0, 1, 2]


def test_a_resume_over_another_search_space_is_refused(tmp_path, iris):
    X, y = iris

    def search(num_layers):
        inp = sknas.TabularInput()
        head = sknas.ClassificationHead()(sknas.DenseBlock(num_layers=num_layers)(inp))
        return sknas.AutoModel(
            inputs=inp, outputs=head, storage=str(tmp_path / "s.log"), study_name="a", **FAST
        )

    search(sknas.Int(1, 2)).fit(X, y)
    search(sknas.Int(1, 2)).set_params(max_trials=3).fit(X, y)  # the same space, rebuilt
    with pytest.raises(
        SearchError,
        match=r"search space/nodes/dense_block_1/arguments/num_layers: stored "
        r"'Int\(low=1, high=2, step=1, log=False\)', this fit 1\.",
    ):
        search(1).fit(X, y)


def test_folds_are_recorded_by_a_study_that_has_none_and_then_compared():
    study = optuna.create_study()
    check_folds(study, None, None)  # one validation split
    with pytest.raises(SearchError, match=r"other cross-validation folds than cv=3 makes"):
        check_folds(study, "abc", 3)
    check_folds(study, None, None)
    earlier = optuna.create_study()  # made before studies recorded their folds
    check_folds(earlier, "abc", 3)
    assert earlier.user_attrs["sknas_folds"] == "abc"


def test_space_and_parameters_are_compared_only_where_the_study_recorded_them():
    study = optuna.create_study()
    identity = {"sknas_estimator": "E", "sknas_data": "d", "sknas_params": {"epochs": 3}}
    check_study(study, identity)  # recorded before sknas_space was
    check_study(study, {**identity, "sknas_space": "{}"})
    with pytest.raises(SearchError, match=r"objective: stored not recorded, this fit 'r2'"):
        check_study(study, {**identity, "sknas_params": {"epochs": 3, "objective": "r2"}})


def test_unreachable_storage_is_a_clear_error_that_hides_the_password(iris):
    X, y = iris
    url = "postgresql://sknas:secret@127.0.0.1:9/nowhere"
    with pytest.raises(SearchError, match="cannot open the study storage") as error:
        NASTabularClassifier(storage=url, study_name="s", **FAST).fit(X, y)
    assert "secret" not in str(error.value)
    with pytest.raises(SearchError, match="folder exists"):
        NASTabularClassifier(storage="sqlite:////no/such/dir/s.db", **FAST).fit(X, y)


def test_journal_file_storage_resumes(tmp_path, iris):
    X, y = iris
    path = str(tmp_path / "search.log")
    NASTabularClassifier(storage=path, study_name="j", **FAST).fit(X, y)
    again = NASTabularClassifier(storage=path, study_name="j", **{**FAST, "max_trials": 3})
    again.fit(X, y)
    assert sorted(again.leaderboard_["number"]) == [0, 1, 2]
    assert isinstance(again.study_._storage, optuna.storages.JournalStorage)


@pytest.mark.timing  # the second process must start before the first ends every trial
def test_n_jobs_runs_trials_in_several_processes(digits_csv):
    _, X, y = digits_csv
    clf = NASTabularClassifier(n_jobs=2, **SLOW).fit(X, y)
    board = clf.leaderboard_
    assert len(board) == 6 and set(board["state"]) == {"COMPLETE"}
    assert board["worker"].nunique() == 2, "both processes must have run trials"
    assert isinstance(clf.study_._storage, optuna.storages.InMemoryStorage)
    assert clf.score(X, y) > 0.8
    # each worker's sampler has its own seed (and TPE counts the others' running trials as
    # bad): the workers do not propose the same networks
    proposals = [json.dumps(t.params, sort_keys=True) for t in clf.study_.trials]
    assert len(set(proposals)) == len(proposals), "two workers proposed the same trial"


def test_n_jobs_workers_score_on_the_folds_of_the_first_process(diabetes):
    X, y = diabetes
    # a splitter that shuffles without a random_state makes other folds in each process; each
    # worker checks its folds against those the study recorded (before any trial, whether or
    # not it gets one), so a worker that split again would fail the fit
    cv = KFold(3, shuffle=True)
    reg = sknas.NASTabularRegressor(n_jobs=2, **{**FAST, "cv": cv})
    board = reg.fit(X[:200], y[:200]).leaderboard_
    assert len(board) == 2 and set(board["state"]) == {"COMPLETE"}


def test_kill_9_then_resume_loses_no_completed_trial(tmp_path, digits_csv):
    _, X, y = digits_csv
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    data = tmp_path / "data.npz"
    np.savez(data, X=X.to_numpy(), y=y.to_numpy())
    fit = f"""
        import numpy as np
        from sknas import NASTabularClassifier, open_storage
        data = np.load({str(data)!r})
        storage = open_storage({storage!r}, heartbeat_interval=1)
        NASTabularClassifier(storage=storage, study_name="k", **{SLOW!r}).fit(data["X"], data["y"])
    """
    process = subprocess.Popen(_script(fit))
    try:
        _wait_for(_beating_after(tmp_path / "search.db", "k", completed=2))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = {t.number: t.value for t in _study(storage, "k").trials if t.value is not None}
    killed = [t.number for t in _study(storage, "k").trials if t.state == TrialState.RUNNING]
    assert len(before) >= 2 and len(killed) == 1
    time.sleep(3.5)  # past the grace period: the running trial is dead

    resumed = NASTabularClassifier(
        storage=sknas.open_storage(storage, heartbeat_interval=1), study_name="k", **SLOW
    ).fit(X.to_numpy(), y.to_numpy())
    study = resumed.study_
    after = {t.number: t.value for t in study.trials}
    assert all(after[n] == v for n, v in before.items()), "a completed trial was lost"
    board = resumed.leaderboard_.set_index("number")
    assert "process stopped" in board.loc[killed[0], "fail_reason"]
    counted = [t for t in study.trials if t.number != killed[0]]
    assert len(counted) == SLOW["max_trials"]
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in counted)
    assert sorted(after) == list(range(len(after))), "trial numbers continue the study's"

    # the sampler is not replayed, so the resumed trials need not be an uninterrupted
    # search's; the result is the best over every trial of the study, before and after
    completed = {t.number: t.value for t in study.trials if t.state == TrialState.COMPLETE}
    best = min(completed, key=completed.get)  # objective=None minimizes the loss
    assert resumed.best_trial_.number == best
    assert resumed.best_score_ == completed[best]


def test_a_trial_whose_process_died_before_its_first_heartbeat_is_run_again(tmp_path, iris):
    X, y = iris
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    NASTabularClassifier(storage=storage, study_name="h", **FAST).fit(X, y)
    # a process that started a trial and died before the trial's first heartbeat
    with pytest.warns(UserWarning, match="Heartbeat"):
        orphan = _study(sknas.open_storage(storage, heartbeat_interval=1), "h").ask().number

    # two finished trials and the orphan make three: without its retry the resumed search
    # would wait for it until the time budget ends
    resumed = NASTabularClassifier(
        storage=sknas.open_storage(storage, heartbeat_interval=1),
        study_name="h",
        **{**FAST, "max_trials": 3, "time_budget": 120},
    ).fit(X, y)
    board = resumed.leaderboard_.set_index("number")
    assert "process stopped" in board.loc[orphan, "fail_reason"]
    assert _states(resumed.study_)[orphan] == TrialState.FAIL
    assert len(resumed.study_.trials) == 4, "the orphan's retry ran in the resumed search"
    assert resumed.study_.trials[3].state in (TrialState.COMPLETE, TrialState.PRUNED)


def test_only_trials_without_heartbeats_since_first_seen_are_failed(tmp_path):
    storage = sknas.open_storage(f"sqlite:///{tmp_path / 'h.db'}", heartbeat_interval=1)
    study = optuna.create_study(storage=storage, study_name="h")
    with pytest.warns(UserWarning, match="Heartbeat"):
        dead, alive = study.ask().number, study.ask().number  # neither has a heartbeat
    seen: set[int] = set()
    fail_dead_trials(study, seen)
    assert _states(study) == [TrialState.RUNNING] * 2, "a trial first seen is given time"
    # past the grace period (3 s; SQLite keeps whole seconds), the live trial's process beats
    time.sleep(4.5)
    storage.record_heartbeat(study.trials[alive]._trial_id)
    fail_dead_trials(study, seen)
    assert _states(study)[dead] == TrialState.FAIL
    assert _states(study)[alive] == TrialState.RUNNING
    assert study.trials[2].state == TrialState.WAITING, "the dead trial is queued again"


def test_ctrl_c_keeps_the_finished_trials_in_the_storage(tmp_path, digits_csv):
    path, _, _ = digits_csv
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    command = [
        sys.executable, "-m", "sknas.cli", "search", str(path), "--target", "digit",
        "--max-trials", "6", "--epochs", "12", "--storage", storage, "--study-name", "c",
        "--random-state", "0", "--cv", "none", "--verbose", "0",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _wait_for(_running_after(storage, "c", completed=2))
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    states = _states(_study(storage, "c"))
    assert states.count(TrialState.COMPLETE) >= 2 and TrialState.RUNNING not in states
    assert "best trial" in output


EPOCHS: list[int | str] = []


class _CtrlCDuringReport(Callback):
    """Presses Ctrl-C in the second trial's second epoch, right after that epoch's score was
    sent to the storage, and notes whether the code after the signal still ran (each trial
    trains a deep copy: the notes are global)."""

    def on_epoch_end(self, net, **kwargs):
        EPOCHS.append(len(net.history))
        if len(EPOCHS) == FAST["epochs"] + 2:
            os.kill(os.getpid(), signal.SIGINT)
            EPOCHS.append("after")


def test_ctrl_c_ends_the_running_training_at_its_next_batch(iris):
    X, y = iris
    EPOCHS.clear()
    clf = NASTabularClassifier(
        **{**FAST, "max_trials": 4}, pruner="none", callbacks=[_CtrlCDuringReport()]
    ).fit(X, y)
    # no exception in the middle of the callback: training ended at the next batch
    assert EPOCHS == [1, 2, 3, 1, 2, "after"]
    # the queued first trials after it never started
    states = [t.state for t in clf.study_.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING, TrialState.WAITING]
    assert clf.study_.trials[1].user_attrs["fail_reason"] == "interrupted by Ctrl-C"
    assert clf.search_interrupted_ and clf.best_trial_.number == 0


def test_a_second_ctrl_c_raises_at_once():
    interrupt = SearchInterrupt()
    with interrupt.installed():
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupt()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


LIVE: list[tuple[int, int, int]] = []


class _CountLiveNetworks(Callback):
    """Records, at the end of each training (every trial's, then the final model's), how many
    skorch nets, sknas modules and optimizers are still alive."""

    def on_train_end(self, net, **kwargs):
        gc.collect()
        with warnings.catch_warnings():
            # some lazily imported modules warn when isinstance looks at them
            warnings.simplefilter("ignore")
            alive = gc.get_objects()
            LIVE.append(
                (
                    sum(isinstance(o, NeuralNet) for o in alive),
                    sum(isinstance(o, GraphModule) for o in alive),
                    sum(isinstance(o, torch.optim.Optimizer) for o in alive),
                )
            )


def test_every_trial_releases_its_network(digits_csv):
    """A trial's net, module and optimizer are freed before the next one trains: memory does
    not grow with the number of trials (bench/images.py measures the peak across 30)."""
    _, X, y = digits_csv
    LIVE.clear()
    NASTabularClassifier(
        cv=None,
        max_trials=8,
        epochs=3,
        random_state=0,
        pruner="none",
        ensemble_size=1,
        callbacks=[_CountLiveNetworks()],
    ).fit(X, y)
    # one reading per trial (MLPs, TabM and a linear model among them), and one for the refit:
    # besides what other tests keep alive, only the network training at that moment is
    assert len(LIVE) == 8 + 1
    assert min(LIVE[0]) >= 1
    assert set(LIVE) == {LIVE[0]}, LIVE


#: trials of the PostgreSQL studies, all workers together: the first trials and one sampled
WORKER_TRIALS = 6


def _worker_script(url: str, name: str, out: Path) -> list[str]:
    """A fit on the shared study, as each machine of a search would run it."""
    return _script(
        f"""
        import json
        import pandas as pd
        import torch
        from sknas import NASTabularClassifier, open_storage
        torch.set_num_threads(1)  # two workers share this machine's cores
        table = pd.read_csv({str(out.parent / "digits.csv")!r})
        X, y = table.drop(columns="digit"), table["digit"]
        storage = open_storage({url!r}, heartbeat_interval=1)
        clf = NASTabularClassifier(storage=storage, study_name={name!r},
                                   max_trials={WORKER_TRIALS}, epochs=12, pruner="none",
                                   cv=None, random_state=0).fit(X, y)
        json.dump({{"best": clf.best_trial_.number, "score": clf.best_score_}},
                  open({str(out)!r}, "w"))
        """
    )


def _cli_worker(url: str, name: str, csv: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "sknas.cli", "worker", str(csv), "--target", "digit",
        "--storage", url, "--study-name", name, "--heartbeat-interval", "1",
        "--verbose", "0", "--out", str(out),
    ]  # fmt: skip


def _postgres_study_checks(url, name, max_trials):
    study = _study(url, name)
    trials = study.trials
    assert [t.number for t in trials] == list(range(len(trials)))
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    counted = [t for t in trials if t.number not in retried]
    assert len(counted) == max_trials, "max_trials is global"
    return study, retried


def _new_database(url: str, name: str) -> str:
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def test_two_workers_started_together_share_one_postgres_study(postgres_url, digits_csv, tmp_path):
    path, _, _ = digits_csv
    (tmp_path / "digits.csv").write_bytes(path.read_bytes())
    url = _new_database(postgres_url, "together")  # both race to create Optuna's tables
    name = "shared"
    workers = [
        subprocess.Popen(_worker_script(url, name, tmp_path / f"{i}.json")) for i in range(2)
    ]
    assert [w.wait(timeout=600) for w in workers] == [0, 0]
    study, retried = _postgres_study_checks(url, name, WORKER_TRIALS)
    assert not retried
    by_worker = {}
    for trial in study.trials:
        by_worker.setdefault(trial.user_attrs["worker"], []).append(trial.number)
    assert len(by_worker) == 2, f"each worker must have run trials: {by_worker}"
    for i in range(2):
        best = json.loads((tmp_path / f"{i}.json").read_text())
        assert best["best"] == study.best_trial.number, "every worker ends with the global best"


def test_a_killed_worker_leaves_its_trial_to_a_cli_worker(postgres_url, digits_csv, tmp_path):
    path, X, y = digits_csv
    csv = tmp_path / "digits.csv"
    csv.write_bytes(path.read_bytes())
    optuna.storages.RDBStorage(postgres_url)  # Optuna's tables, made once before anyone polls
    name = "killed"
    victim = subprocess.Popen(_worker_script(postgres_url, name, tmp_path / "victim.json"))
    _wait_for(_running_after(postgres_url, name, completed=1))
    survivor = subprocess.Popen(
        _cli_worker(postgres_url, name, csv, tmp_path / "model"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def victim_in_a_trial():
        study = _study(postgres_url, name)
        running = [
            t.user_attrs.get("worker", "") for t in study.trials if not t.state.is_finished()
        ]
        return len(study.trials) >= 3 and any(w.endswith(f":{victim.pid}") for w in running)

    _wait_for(victim_in_a_trial)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    output, errors = survivor.communicate(timeout=600)
    assert survivor.returncode == 0, errors
    study, retried = _postgres_study_checks(postgres_url, name, WORKER_TRIALS)
    assert len(retried) == 1, "the killed worker's trial must be run again"
    assert f"best trial {study.best_trial.number}," in output
    saved = sknas.load(tmp_path / "model")
    assert saved.best_trial_.number == study.best_trial.number
    assert saved.score(X, y) > 0.5


def test_worker_joins_only_an_existing_sknas_study(postgres_url, digits_csv):
    path, _, _ = digits_csv
    result = subprocess.run(
        _cli_worker(postgres_url, "nothing-here", path, path.parent / "m"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no study named 'nothing-here'" in result.stderr
