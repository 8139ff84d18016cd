"""NASTabularClassifier and NASTabularRegressor on small real data."""

import datetime
import os
import pickle
import signal

import joblib
import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from skorch.callbacks import Callback

import sknas
from sknas import NASTabularClassifier, NASTabularRegressor
from sknas.nn import count_parameters
from sknas.space.presets import tabular_first_trials, tabular_graph

from .checks import assert_network_probabilities

FAST = {"max_trials": 2, "epochs": 3, "random_state": 0, "cv": None}
#: leaderboard columns that measure time, which differs run to run
TIMES = ["seconds", "epoch_seconds"]


class CountTraining(Callback):
    """Counts training runs across the per-trial copies."""

    runs = 0

    def on_train_begin(self, net, **kwargs):
        type(self).runs += 1


class FailSecondTrial(Callback):
    calls = 0

    def on_train_begin(self, net, **kwargs):
        type(self).calls += 1
        if type(self).calls == 2:
            raise RuntimeError("boom in the second trial")


class AlwaysFail(Callback):
    def on_train_begin(self, net, **kwargs):
        raise RuntimeError("this trial cannot train")


class CtrlCInSecondTrial(Callback):
    calls = 0

    def on_train_begin(self, net, **kwargs):
        type(self).calls += 1

    def on_epoch_end(self, net, **kwargs):
        if type(self).calls == 2:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def iris_split(iris):
    X, y = iris
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def test_classifier_learns_and_keeps_int_labels(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    clf = NASTabularClassifier(cv=None, max_trials=2, random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.85
    assert clf.predict(X_test).dtype == y_train.dtype
    proba = assert_network_probabilities(clf, X_test)
    assert proba.shape == (len(X_test), 3)
    assert (proba[np.arange(len(y_test)), y_test] > 0.5).mean() > 0.85


def test_classifier_on_a_mixed_frame_with_string_labels(mixed_frame):
    X, y = mixed_frame
    clf = NASTabularClassifier(**FAST).fit(X, y)
    pred = clf.predict(X.head(5))
    assert set(pred) <= {"setosa", "versicolor", "virginica"}
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.feature_names_in_.tolist() == list(X.columns)
    assert clf.n_features_in_ == X.shape[1]
    assert clf.score(X, y) > 0.6
    unseen = X.head(4).copy()
    unseen["colour"] = ["mauve", "teal", None, "red"]
    unseen["kind"] = pd.Categorical(["c", "a", "b", "c"])
    missing = unseen.copy()
    missing["colour"] = [None, None, None, "red"]
    missing["kind"] = pd.Categorical([None, "a", "b", None])
    # categories never seen in fit are read as missing values
    np.testing.assert_array_equal(clf.predict_proba(unseen), clf.predict_proba(missing))


def test_binary_classifier_with_balanced_class_weight(cancer):
    X, y = cancer
    keep = np.r_[np.flatnonzero(y == 0)[:40], np.flatnonzero(y == 1)]
    X, y = X[keep], y[keep]
    clf = NASTabularClassifier(class_weight="balanced", **FAST).fit(X, y)
    weight = clf.model_.criterion_.weight.numpy()
    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    assert weight[0] > 3 * weight[1]
    assert weight[0] / weight[1] == pytest.approx(expected[0] / expected[1], rel=0.1)
    assert balanced_accuracy_score(y, clf.predict(X)) > 0.85


def test_regressor_predicts_in_target_units_for_one_and_several_outputs(diabetes):
    X, y = diabetes
    reg = NASTabularRegressor(cv=None, max_trials=2, random_state=0).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (len(X),)
    assert reg.score(X, y) > 0.3
    assert abs(pred.mean() - y.mean()) < 0.2 * y.std()
    Y = np.column_stack([y, 1000 * y + 5000])
    multi = NASTabularRegressor(**FAST).fit(X, Y)
    pred = multi.predict(X)
    assert pred.shape == (len(X), 2)
    assert abs(pred[:, 1].mean() - Y[:, 1].mean()) < 0.5 * Y[:, 1].std()


def test_same_random_state_gives_the_same_search(iris):
    X, y = iris
    a = NASTabularClassifier(**FAST).fit(X, y)
    b = NASTabularClassifier(**FAST).fit(X, y)
    pd.testing.assert_frame_equal(
        a.leaderboard_.drop(columns=TIMES), b.leaderboard_.drop(columns=TIMES)
    )
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_leaderboard_and_fitted_attributes(iris):
    X, y = iris
    clf = NASTabularClassifier(cv=None, max_trials=3, epochs=3, random_state=0).fit(X, y)
    board = clf.leaderboard_
    assert len(board) == 3 == len(clf.study_.get_trials(states=[optuna.trial.TrialState.COMPLETE]))
    for column in ["number", "state", "score", "epochs", "n_params", "seconds"]:
        assert column in board
    assert board.loc[0, "number"] == clf.best_trial_.number
    assert board.loc[0, "score"] == clf.best_score_
    assert any(c.startswith("params/") for c in board)
    assert clf.best_params_ == clf.best_trial_.params
    spec = clf.best_architecture_
    assert spec.to_dict() == clf.best_trial_.user_attrs["architecture"]
    assert sknas.ArchitectureSpec.from_json(spec.to_json()) == spec
    assert count_parameters(clf.model_.module_) == board.loc[0, "n_params"]
    assert not clf.model_.module_.training


def test_known_good_configurations_run_first(iris):
    X, y = iris
    clf = NASTabularClassifier(cv=None, max_trials=5, epochs=2, random_state=0).fit(X, y)
    first = tabular_first_trials(tabular_graph("classification"), 120, clf.input_adapter_.info_)
    assert len(first) == 5
    for trial, preset in zip(clf.study_.trials, first):
        assert trial.params == preset
        # trained (the pruner may stop it), not failed
        assert trial.state != optuna.trial.TrialState.FAIL
        assert trial.user_attrs["epochs"] >= 1
    # TabM-D's defaults, 512 units wide on a small table
    tabm = clf.study_.trials[3].user_attrs["architecture"]["nodes"][-2]
    assert tabm["type"] == "tabm_block"
    assert tabm["config"] == {
        "k": 32,
        "num_layers": 3,
        "num_units": 512,
        "dropout": 0.1,
        "architecture": "tabm",
    }


def test_objective_scorer_validation_data_and_fit_overrides(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    clf = NASTabularClassifier(cv=None, max_trials=2, objective="accuracy", random_state=0)
    clf.fit(X_train, y_train, validation_data=(X_test, y_test), epochs=2)
    assert clf.epochs is None
    assert clf.study_.direction == optuna.study.StudyDirection.MAXIMIZE
    # accuracy on the 45 given validation rows: a whole number of them, well above chance
    assert (clf.best_score_ * len(y_test)) == pytest.approx(round(clf.best_score_ * len(y_test)))
    assert clf.best_score_ > 0.6
    assert clf.leaderboard_["epochs"].max() <= 2
    with pytest.raises(TypeError, match="unexpected keyword"):
        clf.fit(X_train, y_train, epoch=2)


def _search(iris, max_trials, epochs, **params):
    """A search on one split whose best trial's network is kept as it is (no refit:
    quicker)."""
    X, y = iris
    clf = NASTabularClassifier(
        max_trials=max_trials, epochs=epochs, refit=False, random_state=0, cv=None, **params
    )
    return clf.fit(X, y)


def test_a_sampler_instance_proposes_the_trials(iris):
    sampler = optuna.samplers.RandomSampler(seed=1)
    # trials 0 to 4 are the known-good configurations; the sampler proposes trial 5
    first = _search(iris, 6, 1, sampler=sampler).study_.trials[5].params
    assert _search(iris, 6, 1, sampler=sampler).study_.trials[5].params == first
    other = optuna.samplers.RandomSampler(seed=2)
    assert _search(iris, 6, 1, sampler=other).study_.trials[5].params != first


@pytest.mark.parametrize(
    "name, kind",
    [("random", optuna.samplers.RandomSampler), ("tpe", optuna.samplers.TPESampler)],
)
def test_sampler_names(iris, name, kind):
    clf = _search(iris, 1, 1, sampler=name)
    assert type(clf.study_.sampler) is kind
    assert clf.get_params()["sampler"] == name


class PruneAllButTheFirst(optuna.pruners.BasePruner):
    """Stops every trial but trial 0 at the first epoch it reports."""

    def prune(self, study, trial):
        return trial.number > 0


@pytest.mark.parametrize(
    "pruner, states",
    [
        (PruneAllButTheFirst(), ["COMPLETE", "PRUNED"]),
        (optuna.pruners.NopPruner(), ["COMPLETE", "COMPLETE"]),
        ("none", ["COMPLETE", "COMPLETE"]),
    ],
)
def test_the_pruner_stops_trials(iris, pruner, states):
    clf = _search(iris, 2, 2, pruner=pruner)
    assert clf.leaderboard_.sort_values("number")["state"].tolist() == states
    epochs = [sorted(t.intermediate_values) for t in clf.study_.trials]
    assert epochs == [[1] if state == "PRUNED" else [1, 2] for state in states]


def test_failing_trials_are_recorded_and_the_search_goes_on(iris):
    X, y = iris
    FailSecondTrial.calls = 0
    clf = NASTabularClassifier(
        cv=None, max_trials=3, epochs=2, random_state=0, callbacks=[FailSecondTrial()]
    ).fit(X, y)
    # the user's callbacks train the final model too
    assert FailSecondTrial.calls == 4
    states = clf.leaderboard_.set_index("number")["state"]
    assert states[1] == "FAIL" and states[0] == "COMPLETE" and states[2] == "COMPLETE"
    reason = clf.leaderboard_.set_index("number").loc[1, "fail_reason"]
    assert "boom in the second trial" in reason


def test_all_trials_failing_is_a_clear_error(iris):
    X, y = iris
    clf = NASTabularClassifier(cv=None, max_trials=2, epochs=2, callbacks=[AlwaysFail()])
    with pytest.raises(sknas.SearchError, match=r"no trial completed.*this trial cannot train"):
        clf.fit(X, y)
    tiny = NASTabularClassifier(cv=None, max_trials=2, epochs=2, max_model_size=10)
    with pytest.raises(sknas.SearchError, match="max_model_size=10"):
        tiny.fit(X, y)


def test_ctrl_c_keeps_the_best_so_far(iris):
    X, y = iris
    CtrlCInSecondTrial.calls = 0
    clf = NASTabularClassifier(
        cv=None, max_trials=5, epochs=3, random_state=0, callbacks=[CtrlCInSecondTrial()]
    ).fit(X, y)
    assert clf.search_interrupted_
    assert clf.leaderboard_["number"].tolist() == [0, 1]
    assert clf.best_trial_.number == 0
    assert clf.score(X, y) > 0.6


@pytest.mark.timing
def test_time_budget_stops_the_search_before_the_final_model(cancer):
    X, y = cancer
    start = datetime.datetime.now()
    clf = NASTabularClassifier(cv=None, max_trials=500, time_budget=10, random_state=0)
    clf.fit(X, y)
    assert len(clf.study_.trials) < 500
    # every trial, the one cut short included, ends before the final model starts, and the
    # final model ends within 5% of the budget (a budget of 10 s, so that a busy machine's
    # pauses stay inside that margin)
    last = max(t.datetime_complete for t in clf.study_.trials if t.datetime_complete)
    assert last <= start + datetime.timedelta(seconds=clf.search_seconds_)
    assert clf.fit_seconds_ <= 10 * 1.05


def test_resume_from_storage(tmp_path, iris):
    X, y = iris
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    first = NASTabularClassifier(storage=storage, study_name="iris", **FAST).fit(X, y)
    before = first.leaderboard_.sort_values("number")[["number", "score"]]
    assert before["number"].tolist() == [0, 1]
    params = {**FAST, "max_trials": 3}
    again = NASTabularClassifier(storage=storage, study_name="iris", **params).fit(X, y)
    after = again.leaderboard_.sort_values("number")[["number", "score"]]
    assert after["number"].tolist() == [0, 1, 2]
    pd.testing.assert_frame_equal(
        after.head(2).reset_index(drop=True), before.reset_index(drop=True)
    )
    assert again.score(X, y) > 0.6


def test_pipeline_with_column_transformer(mixed_frame):
    X, y = mixed_frame
    numeric = [c for c in X.columns if c.endswith("(cm)")]
    upstream = ColumnTransformer(
        [("scale", StandardScaler(), numeric)], remainder="passthrough"
    ).set_output(transform="pandas")
    pipe = make_pipeline(upstream, NASTabularClassifier(**FAST)).fit(X, y)
    assert pipe.score(X, y) > 0.5
    assert set(pipe.predict(X)) <= set(y)


def test_grid_search_and_cross_validation(iris):
    X, y = iris
    grid = GridSearchCV(
        NASTabularClassifier(cv=None, max_trials=1, epochs=3, random_state=0),
        {"validation_split": [0.2, 0.3]},
        cv=2,
    ).fit(X, y)
    assert (grid.cv_results_["mean_test_score"] > 0.6).all()
    assert grid.best_estimator_.score(X, y) > 0.6
    scores = cross_val_score(
        NASTabularClassifier(cv=None, max_trials=1, random_state=0), X, y, cv=3
    )
    assert scores.shape == (3,) and scores.mean() > 0.7


def test_clone_set_params_pickle_joblib_and_repr(tmp_path, iris):
    X, y = iris
    clf = NASTabularClassifier(**FAST)
    assert clone(clf).get_params() == clf.get_params()
    clf.set_params(max_trials=1, validation_split=0.25)
    assert clf.max_trials == 1 and clf.validation_split == 0.25
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    joblib.dump(clf, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert "NASTabularClassifier" in clf._repr_html_()
    assert not hasattr(clone(clf), "model_")


@pytest.mark.parametrize(
    "make_bad, message",
    [
        (lambda X, y: (X, np.where(np.arange(len(y)) == 3, np.nan, y)), "NaN"),
        (lambda X, y: (X, np.where(np.arange(len(y)) == 3, np.inf, y * 1.0)), "infinity"),
        (lambda X, y: (X[:, 0], y), "Expected 2D array"),
        (lambda X, y: (X[:-5], y), "inconsistent numbers of samples"),
        (lambda X, y: (X[:0], y[:0]), "0 sample"),
        (lambda X, y: (X, np.zeros_like(y)), "only one class"),
    ],
)
def test_bad_input_fails_before_training(iris, make_bad, message):
    X, y = iris
    CountTraining.runs = 0
    X_bad, y_bad = make_bad(X, y)
    with pytest.raises(ValueError, match=message):
        NASTabularClassifier(callbacks=[CountTraining()], **FAST).fit(X_bad, y_bad)
    assert CountTraining.runs == 0


def test_too_few_rows_for_a_validation_split(diabetes):
    X, y = diabetes
    CountTraining.runs = 0
    with pytest.raises(ValueError, match=r"too few samples .* got 1 samples"):
        NASTabularRegressor(callbacks=[CountTraining()], **FAST).fit(X[:1], y[:1])
    assert CountTraining.runs == 0


def test_bad_input_at_predict(mixed_frame, iris):
    X, y = iris
    clf = NASTabularClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but NASTabularClassifier"):
        clf.predict(X[:, :3])
    frame, labels = mixed_frame
    clf = NASTabularClassifier(**FAST).fit(frame, labels)
    with pytest.raises(ValueError, match="colour"):
        clf.predict(frame.drop(columns=["colour"]))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"max_trials": 0}, "max_trials"),
        ({"validation_split": 1.5}, "validation_split"),
        ({"sampler": "tpee"}, "Did you mean 'tpe'"),
        ({"pruner": "medain"}, "Did you mean 'median'"),
        ({"class_weight": "balance"}, "class_weight"),
        ({"class_weight": {7: 2.0}}, "not in y"),
    ],
)
def test_invalid_parameters_are_clear_errors(iris, params, message):
    X, y = iris
    CountTraining.runs = 0
    with pytest.raises(ValueError, match=message):
        NASTabularClassifier(callbacks=[CountTraining()], **{**FAST, **params}).fit(X, y)
    assert CountTraining.runs == 0
