"""Ensembles of trials (greedy selection, the averaged module, the estimators using it) and
cross-validated trials whose fold models are bagged."""

import datetime
import json
import pickle
import warnings

import numpy as np
import onnxruntime
import optuna
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import KFold, ShuffleSplit, train_test_split

import sknas
import sknas.base
import sknas.search
import sknas.search.final
import sknas.search.objective
from sknas import NASTabularClassifier, NASTabularRegressor
from sknas.exceptions import InvalidInputError
from sknas.io import BundleError
from sknas.nn import EnsembleModule, GraphModule
from sknas.search import EnsembleLoss, select_ensemble
from sknas.search.ensemble import PREDICTIONS, pack_predictions, unpack_predictions
from sknas.space import TensorInfo

FAST = {"max_trials": 6, "epochs": 8, "random_state": 3, "cv": None}
#: past the time a search keeps for a refit of 8 s in a budget of 20 s
LATE = datetime.timedelta(seconds=12.5)
REGRESSION = TensorInfo("regression", (1,), {"scale": [1.0]})
CLASSES = TensorInfo("classification", (2,))


def test_selection_finds_an_average_better_than_every_member():
    # two networks err in opposite directions; their average is exact
    y = np.zeros((50, 1))
    predictions = {3: np.full((50, 1), 1.0), 5: np.full((50, 1), -1.0), 7: np.full((50, 1), 2.0)}
    loss = EnsembleLoss([REGRESSION], y, ["out"])
    assert [loss(p) for p in predictions.values()] == [1.0, 1.0, 4.0]
    ensemble = select_ensemble(predictions, 3, loss, rounds=6)
    assert ensemble.members == [3, 5]
    assert ensemble.weights == [0.5, 0.5]
    assert ensemble.score == 0.0 and ensemble.rounds == 2


def test_selection_of_classifiers_beats_each_member_on_log_loss():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    # each member is confidently wrong on a different half of the rows
    halves = [np.arange(200) < 100, np.arange(200) >= 100]
    predictions = {}
    for number, wrong in enumerate(halves):
        p_true = np.where(wrong, 0.3, 0.95)
        proba = np.zeros((200, 2))
        proba[np.arange(200), y] = p_true
        proba[np.arange(200), 1 - y] = 1 - p_true
        predictions[number] = proba
    loss = EnsembleLoss([CLASSES], y, ["out"])
    singles = [log_loss(y, p) for p in predictions.values()]
    np.testing.assert_allclose([loss(p) for p in predictions.values()], singles)
    ensemble = select_ensemble(predictions, 0, loss, rounds=10)
    assert ensemble.members == [0, 1]
    assert ensemble.score < min(singles)
    average = sum(w * predictions[n] for n, w in zip(ensemble.members, ensemble.weights))
    assert ensemble.score == pytest.approx(log_loss(y, average))


def test_selection_keeps_the_best_trial_alone_when_no_average_helps():
    y = np.zeros((20, 1))
    predictions = {0: np.zeros((20, 1)), 1: np.ones((20, 1))}
    ensemble = select_ensemble(predictions, 0, EnsembleLoss([REGRESSION], y, ["out"]), 5)
    assert ensemble.members == [0] and ensemble.weights == [1.0] and ensemble.rounds == 1


def test_a_scorer_objective_selects_by_the_scorer():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    noisy = [np.clip(y + rng.normal(0, 0.8, 300), 0, 1) for _ in range(3)]
    predictions = {n: np.column_stack([1 - p, p]) for n, p in enumerate(noisy)}
    loss = EnsembleLoss([CLASSES], y, ["out"], objective="roc_auc")
    assert loss(predictions[0]) == pytest.approx(-roc_auc_score(y, noisy[0]))
    ensemble = select_ensemble(predictions, 0, loss, rounds=6, sign=-1.0)
    average = sum(w * predictions[n][:, 1] for n, w in zip(ensemble.members, ensemble.weights))
    assert ensemble.score == pytest.approx(roc_auc_score(y, average))
    assert ensemble.score > max(roc_auc_score(y, p) for p in noisy)


def test_class_weights_and_heads_weigh_the_selection_loss():
    y = {"label": np.array([0, 1, 1]), "value": np.array([[1.0], [2.0], [3.0]])}
    proba = np.array([[0.8, 0.2], [0.4, 0.6], [0.1, 0.9]])
    values = np.array([[1.0], [2.0], [5.0]])
    scale = TensorInfo("regression", (1,), {"scale": [2.0]})
    loss = EnsembleLoss([CLASSES, scale], y, ["label", "value"], class_weight=np.array([1.0, 3.0]))
    weighted = log_loss(y["label"], proba, sample_weight=np.array([1.0, 3.0, 3.0]))
    assert loss(np.hstack([proba, values])) == pytest.approx(weighted + (2.0 / 2.0) ** 2 / 3)


def test_predictions_pack_to_text_and_back():
    values = np.random.default_rng(0).random((7, 3)).astype(np.float32)
    text = pack_predictions(values)
    assert isinstance(text, str)
    np.testing.assert_array_equal(unpack_predictions(text), values)


class _Fixed(torch.nn.Module):
    """Returns fixed raw outputs for a two-head network, whatever the input."""

    def __init__(self, logits, values):
        super().__init__()
        self.logits, self.values = logits, values

    def forward(self, x):
        return self.logits.expand(len(x), -1), self.values.expand(len(x), -1)


def test_the_ensemble_module_averages_probabilities_and_values_per_head():
    heads = [CLASSES, TensorInfo("classification", (2,), {"multi_label": True}), REGRESSION]
    a = _Fixed(torch.tensor([[2.0, 0.0]]), torch.tensor([[1.0]]))
    b = _Fixed(torch.tensor([[0.0, 1.0]]), torch.tensor([[4.0]]))
    module = EnsembleModule([a, b], [0.75, 0.25], [heads[0], heads[2]])
    logits, values = module(torch.zeros(3, 1))
    expected = 0.75 * torch.softmax(a.logits, 1) + 0.25 * torch.softmax(b.logits, 1)
    torch.testing.assert_close(torch.softmax(logits, 1), expected.expand(3, -1))
    torch.testing.assert_close(values, torch.full((3, 1), 0.75 * 1.0 + 0.25 * 4.0))
    labels = EnsembleModule([a, b], [0.5, 0.5], [heads[1], heads[2]])
    logits, _ = labels(torch.zeros(1, 1))
    expected = 0.5 * torch.sigmoid(a.logits) + 0.5 * torch.sigmoid(b.logits)
    torch.testing.assert_close(torch.sigmoid(logits), expected)
    with pytest.raises(ValueError, match="one weight per member"):
        EnsembleModule([a, b], [1.0], heads[:2])


@pytest.fixture(scope="module")
def cancer_split(cancer):
    return train_test_split(*cancer, random_state=0)


@pytest.fixture(scope="module")
def ensemble_fit(cancer_split):
    X_train, _, y_train, _ = cancer_split
    return NASTabularClassifier(**FAST).fit(X_train, y_train)


def _member_average(estimator, X):
    """The weighted average of the members' own probabilities, member by member."""
    inputs = estimator.export_preprocessor()(X)
    module = estimator.model_.module_
    with torch.no_grad():
        probas = [torch.softmax(member(*inputs), 1).double() for member in module.members]
    return sum(w * p for w, p in zip(estimator.ensemble_.weights, probas)).numpy()


def test_a_fit_averages_the_selected_trials(ensemble_fit, cancer_split):
    clf = ensemble_fit
    X_test = cancer_split[1]
    ensemble = clf.ensemble_
    assert len(ensemble.members) > 1 and ensemble.members[0] == clf.best_trial_.number
    assert sum(ensemble.weights) == pytest.approx(1.0)
    # selection starts from the best trial: the average is at least as good on validation
    assert ensemble.score <= clf.best_score_
    assert isinstance(clf.model_.module_, EnsembleModule)
    assert len(clf.model_.module_.members) == len(ensemble.members)
    np.testing.assert_allclose(clf.predict_proba(X_test), _member_average(clf, X_test), atol=1e-6)
    board = clf.leaderboard_.set_index("number")["ensemble_weight"]
    assert board[ensemble.members].tolist() == ensemble.weights
    assert board.drop(ensemble.members).eq(0.0).all()
    # every completed trial recorded its validation predictions
    completed = clf.study_.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert len(completed) > 2
    n_valid = round(len(X_test) * 3 * 0.2)
    for trial in completed:
        assert unpack_predictions(trial.user_attrs[PREDICTIONS]).shape in {
            (n, 2) for n in (n_valid - 1, n_valid, n_valid + 1)
        }
    # the members keep their trials' weights and the trials' preprocessing
    assert clf.refit_status_ == "trial_weights"
    stats = clf.input_adapter_.info_.meta["stats"]
    assert not np.allclose(stats["mean"], cancer_split[0].mean(axis=0), rtol=1e-5)


def test_refit_members_refits_each_on_every_row(ensemble_fit, cancer_split):
    X_train, X_test, y_train, _ = cancer_split
    clf = NASTabularClassifier(**FAST, refit="members").fit(X_train, y_train)
    assert clf.ensemble_ == ensemble_fit.ensemble_  # the same trials, the same selection
    assert clf.refit_status_ == "refit"
    stats = clf.input_adapter_.info_.meta["stats"]
    np.testing.assert_allclose(stats["mean"], X_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X_test), _member_average(clf, X_test), atol=1e-6)
    assert not np.allclose(clf.predict_proba(X_test), ensemble_fit.predict_proba(X_test))


def test_an_ensemble_exports_as_one_module(ensemble_fit, cancer_split, tmp_path):
    clf = ensemble_fit
    X_test = cancer_split[1]
    expected = clf.predict_proba(X_test)
    inputs = clf.export_preprocessor()(X_test)
    with torch.no_grad():
        np.testing.assert_allclose(clf.export_model()(*inputs).numpy(), expected, atol=1e-6)
    sknas.io.to_torchscript(clf, tmp_path / "model.pt", X_test[:5])
    with torch.no_grad():
        scripted = torch.jit.load(str(tmp_path / "model.pt"))(*inputs).numpy()
    np.testing.assert_allclose(scripted, expected, atol=1e-6)
    sknas.io.to_onnx(clf, tmp_path / "model.onnx", X_test[:5])
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    (onnx,) = session.run(None, {session.get_inputs()[0].name: inputs[0].numpy()})
    np.testing.assert_allclose(onnx, expected, atol=1e-5)


def test_an_ensemble_survives_bundles_pickle_and_clone(ensemble_fit, cancer_split, tmp_path):
    clf = ensemble_fit
    X_test = cancer_split[1]
    sknas.save(clf, tmp_path / "bundle")
    loaded = sknas.load(tmp_path / "bundle")
    np.testing.assert_array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test))
    assert loaded.ensemble_ == clf.ensemble_
    assert loaded.leaderboard_["ensemble_weight"].tolist() == (
        clf.leaderboard_["ensemble_weight"].tolist()
    )
    # the bundle's study leaves the validation predictions out
    assert all(PREDICTIONS not in t.user_attrs for t in loaded.study_.trials)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X_test), clf.predict_proba(X_test))
    assert clone(clf).get_params()["ensemble_size"] == 10


def test_a_bundle_with_a_changed_member_architecture_is_refused(ensemble_fit, tmp_path):
    folder = sknas.save(ensemble_fit, tmp_path / "bundle")
    metadata = json.loads((folder / "sknas.json").read_text())
    metadata["ensemble"]["architectures"][0]["nodes"][1]["type"] = "evil_block"
    (folder / "sknas.json").write_text(json.dumps(metadata))
    with pytest.raises(BundleError, match=r"ensemble.architectures\[0\].nodes\[1\].type is 'evil"):
        sknas.load(folder)


def test_ensemble_size_one_keeps_the_best_network_alone(cancer_split):
    X_train, _, y_train, _ = cancer_split
    clf = NASTabularClassifier(**FAST, ensemble_size=1).fit(X_train, y_train)
    assert isinstance(clf.model_.module_, GraphModule)
    assert clf.ensemble_.members == [clf.best_trial_.number]
    assert clf.ensemble_.weights == [1.0]
    assert all(PREDICTIONS not in t.user_attrs for t in clf.study_.trials)


def test_an_ensemble_keeps_trial_weights_when_its_refit_would_overrun(monkeypatch, diabetes):
    X, y = diabetes
    monkeypatch.setattr(sknas.search.final, "expected_seconds", lambda trials, rows: 1e6)
    with pytest.warns(UserWarning, match=r"refit='members': the \d+ members .* not be refit"):
        reg = NASTabularRegressor(**FAST, time_budget=600, refit="members")
        reg.fit(X[:300], y[:300])
    assert len(reg.ensemble_.members) > 1
    assert reg.refit_status_ == "trial_weights"
    # the trials' preprocessing: fitted on the search's training rows, not every row
    mean = reg.input_adapter_.info_.meta["stats"]["mean"]
    assert not np.allclose(mean, X[:300].mean(axis=0), rtol=1e-5)
    assert reg.score(X[300:], y[300:]) > 0.2


def test_a_two_headed_automodel_averages_each_head():
    data = load_digits()
    X, y = data.data[:400], data.target[:400]
    inp = sknas.TabularInput()
    hidden = sknas.DenseBlock()(inp)
    outputs = [sknas.ClassificationHead(name="digit")(hidden), sknas.RegressionHead()(hidden)]
    model = sknas.AutoModel(
        inputs=inp, outputs=outputs, max_trials=6, epochs=30, pruner="none", random_state=0
    )
    model.fit(X, [y, X.mean(axis=1)])
    assert len(model.ensemble_.members) > 1
    module = model.model_.module_
    inputs = model.export_preprocessor()(X[:20])
    with torch.no_grad():
        members = [m(*inputs) for m in module.members]
    weights = model.ensemble_.weights
    proba = sum(w * torch.softmax(m[0], 1).double() for w, m in zip(weights, members))
    value = sum(w * m[1].double() for w, m in zip(weights, members))
    np.testing.assert_allclose(model.predict_proba(X[:20]), proba.numpy(), atol=1e-6)
    predicted = model.predict(X[:20])
    np.testing.assert_allclose(predicted[1].ravel(), value.numpy().ravel(), rtol=1e-5)


@pytest.fixture(scope="module")
def bagged(diabetes):
    X, y = diabetes
    reg = NASTabularRegressor(max_trials=3, epochs=4, random_state=0, cv=3, ensemble_size=1)
    return reg.fit(X[:300], y[:300])


def test_cv_scores_each_trial_on_every_fold(bagged):
    completed = bagged.study_.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert completed
    for trial in completed:
        folds = trial.user_attrs["fold_values"]
        assert len(folds) == 3
        assert trial.value == pytest.approx(np.mean(folds))
        # each fold reported its score as one step, for pruning across folds
        assert trial.intermediate_values == dict(enumerate(folds))
        assert trial.user_attrs["train_rows"] == 200


def test_cv_bags_the_fold_models_of_the_best_trial(bagged, diabetes):
    X = diabetes[0]
    assert bagged.refit_status_ == "bagged"
    assert bagged.ensemble_.folds == 3
    bag = bagged.model_.module_
    assert isinstance(bag, EnsembleModule) and len(bag.members) == 3
    assert all(isinstance(m, GraphModule) for m in bag.members)
    inputs = bagged.export_preprocessor()(X[300:])
    with torch.no_grad():
        mean = torch.stack([m(*inputs) for m in bag.members]).mean(0).double().numpy()
    np.testing.assert_allclose(bagged.predict(X[300:]), mean.ravel(), rtol=1e-5)
    # the fold models differ: each trained on its own rows
    assert not np.allclose(*[m(*inputs).detach().numpy() for m in bag.members[:2]])
    # the preprocessing is fitted once on every row, shared by the folds
    stats = bagged.input_adapter_.info_.meta["stats"]
    np.testing.assert_allclose(stats["mean"], X[:300].mean(axis=0), rtol=1e-5)


def test_cv_out_of_fold_predictions_cover_every_row(diabetes):
    X, y = diabetes
    reg = NASTabularRegressor(max_trials=4, epochs=4, random_state=0, cv=3, pruner="none")
    reg.fit(X[:300], y[:300])
    for trial in reg.study_.get_trials(states=[optuna.trial.TrialState.COMPLETE]):
        assert unpack_predictions(trial.user_attrs[PREDICTIONS]).shape == (300, 1)
    ensemble = reg.ensemble_
    assert ensemble.folds == 3 and reg.refit_status_ == "bagged"
    members = reg.model_.module_.members if len(ensemble.members) > 1 else [reg.model_.module_]
    assert all(len(bag.members) == 3 for bag in members)
    # the ensemble's out-of-fold loss is that of its weighted average
    loss = EnsembleLoss([reg.target_adapter_.info_], y[:300].reshape(-1, 1), ["out"])
    trials = {t.number: t for t in reg.study_.trials}
    average = sum(
        w * unpack_predictions(trials[n].user_attrs[PREDICTIONS])
        for n, w in zip(ensemble.members, ensemble.weights)
    )
    assert ensemble.score == pytest.approx(loss(average), rel=1e-6)


def test_cv_takes_a_splitter_or_explicit_folds(diabetes):
    X, y = diabetes
    folds = [(np.arange(100, 200), np.arange(0, 100)), (np.arange(0, 100), np.arange(100, 200))]
    for cv, n in [(KFold(4), 4), (folds, 2)]:
        reg = NASTabularRegressor(max_trials=1, epochs=2, random_state=0, cv=cv)
        reg.fit(X[:200], y[:200])
        assert len(reg.best_trial_.user_attrs["fold_values"]) == n
        assert len(reg.model_.module_.members) == n
    # every row must be validated once, so that out-of-fold predictions cover it
    with pytest.raises(InvalidInputError, match="every row in exactly one validation fold"):
        NASTabularRegressor(max_trials=1, epochs=2, cv=ShuffleSplit(3)).fit(X[:200], y[:200])


def test_tabular_estimators_cross_validate_small_tables_by_default(diabetes):
    X, y = diabetes
    small = NASTabularRegressor(max_trials=1, epochs=2, random_state=0).fit(X, y)
    assert len(small.best_trial_.user_attrs["fold_values"]) == sknas.base.CV_FOLDS
    assert small.refit_status_ == "bagged"
    # from 1,000 training rows on, one validation split and a refit
    many = NASTabularRegressor(max_trials=1, epochs=2, random_state=0, ensemble_size=1)
    many.fit(np.vstack([X] * 3), np.concatenate([y] * 3))
    assert "fold_values" not in many.best_trial_.user_attrs
    assert many.refit_status_ == "refit"
    # fewer rows than folds: one split
    tiny = NASTabularRegressor(max_trials=1, epochs=2, random_state=0).fit(X[:4], y[:4])
    assert "fold_values" not in tiny.best_trial_.user_attrs
    # the other estimators keep one split unless asked
    assert sknas.NASTextRegressor().cv is None and sknas.AutoModel().cv is None
    # with validation_data, "auto" keeps that held-back set
    held = NASTabularRegressor(max_trials=1, epochs=2, random_state=0, cv="auto")
    held.fit(X[:300], y[:300], validation_data=(X[300:], y[300:]))
    assert "fold_values" not in held.best_trial_.user_attrs
    with pytest.raises(TypeError, match=r"cv=3 cross-validates .* pass one of them"):
        NASTabularRegressor(max_trials=1, epochs=2, cv=3).fit(
            X[:300], y[:300], validation_data=(X[300:], y[300:])
        )


def test_auto_keeps_one_split_where_a_class_has_fewer_rows_than_folds(iris, recwarn):
    X, y = iris
    # 50, 50 and 4 rows: a stratified fold would miss the third class
    clf = NASTabularClassifier(max_trials=1, epochs=2, random_state=0).fit(X[:104], y[:104])
    assert "fold_values" not in clf.best_trial_.user_attrs
    assert not [w for w in recwarn if "cannot stratify" in str(w.message)]


def test_cross_validated_trials_are_pruned_across_folds():
    with warnings.catch_warnings():
        # the default is no experimental choice of the user's: Optuna's warning is not shown
        warnings.simplefilter("error", optuna.exceptions.ExperimentalWarning)
        pruner = sknas.search.make_pruner("median", 100, folds=5)
    assert isinstance(pruner, optuna.pruners.WilcoxonPruner)
    assert isinstance(sknas.search.make_pruner("median", 100), optuna.pruners.MedianPruner)


class PruneLaterTrialsFrom(optuna.pruners.BasePruner):
    """Asks to prune every trial after the first once it has reported step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def prune(self, study, trial) -> bool:
        return trial.number > 0 and max(trial.intermediate_values) >= self.step


def test_a_cross_validated_trial_is_pruned_between_folds_never_after_the_last(diabetes):
    X, y = diabetes
    states = {}
    for step in (1, 2):
        reg = NASTabularRegressor(
            max_trials=2, epochs=2, random_state=0, cv=3, pruner=PruneLaterTrialsFrom(step)
        )
        second = reg.fit(X[:150], y[:150]).study_.trials[1]
        states[step] = (second.state, len(second.intermediate_values))
    # after fold 2 of 3 the last fold is saved
    assert states[1] == (optuna.trial.TrialState.PRUNED, 2)
    # after the last fold nothing is: the trained trial completes and can join an ensemble
    assert states[2] == (optuna.trial.TrialState.COMPLETE, 3)


@pytest.mark.timing
def test_an_ensemble_searches_on_into_the_time_kept_for_a_refit(monkeypatch, diabetes):
    X, y = diabetes
    # the best trial's refit is estimated at 8 s of the 20: the search keeps that back
    monkeypatch.setattr(sknas.search.objective, "final_model_seconds", lambda trials, rows: 8.0)
    starts = {}
    # a seed whose best trials differ enough to be averaged (on some seeds one network wins
    # every round of the selection, and the ensemble of one is refit)
    for size in (1, 10):
        started = datetime.datetime.now()
        reg = NASTabularRegressor(
            cv=None, time_budget=20, epochs=3, random_state=2, ensemble_size=size
        )
        reg.fit(X[:300], y[:300])
        late = [t for t in reg.study_.trials if (t.datetime_start or started) > started + LATE]
        starts[size] = (len(late), reg.refit_status_, len(reg.ensemble_.members))
    # the best network alone is refit in the kept time; no trial starts in it
    assert starts[1] == (0, "refit", 1)
    # an ensemble needs no refit: trials run in the kept time, and nothing is refit
    assert starts[10][0] > 0 and starts[10][1:] == ("trial_weights", starts[10][2])
    assert starts[10][2] > 1


@pytest.mark.timing
def test_refit_members_keeps_the_time_every_member_needs(monkeypatch, diabetes):
    X, y = diabetes
    # each member's refit is estimated at 5 s of the 30: the search keeps 5 s per member
    monkeypatch.setattr(
        sknas.search.objective, "final_model_seconds", lambda trials, rows: 5.0 * len(trials)
    )
    readings = []

    class Recorded(sknas.search.MemberTrials):
        def __call__(self, study, best, objective):
            trials = super().__call__(study, best, objective)
            readings.append((datetime.datetime.now(), len(trials)))
            return trials

    monkeypatch.setattr(sknas.base, "MemberTrials", Recorded)
    started = datetime.datetime.now()
    reg = NASTabularRegressor(cv=None, time_budget=30, epochs=3, random_state=2, refit="members")
    reg.fit(X[:300], y[:300])
    assert len(reg.ensemble_.members) > 1 and reg.refit_status_ == "refit"
    assert max(members for _, members in readings) > 1
    # no trial started once the time left was only that of the members selected before it
    deadline = started + datetime.timedelta(seconds=30.5)
    for trial in reg.study_.trials:
        if trial.datetime_start is None:
            continue
        before = [members for at, members in readings if at <= trial.datetime_start]
        if before:
            assert trial.datetime_start <= deadline - datetime.timedelta(seconds=5 * before[-1])
