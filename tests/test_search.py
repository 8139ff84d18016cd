"""The search as a whole: the budget covers the fit, trials see no validation rows, the refit."""

import os
import signal
import time
import warnings

import numpy as np
import optuna
import pytest
from sklearn.datasets import make_regression
from sklearn.metrics import log_loss
from skorch.callbacks import Callback

import sknas
import sknas.search.final
import sknas.search.objective
from sknas import NASTabularClassifier, NASTabularRegressor
from sknas.data import validation_indices
from sknas.nn import GraphModule
from sknas.search.objective import (
    RESERVE_FIXED,
    RESERVE_MARGIN,
    expected_seconds,
    final_model_seconds,
)
from sknas.training import TimeLimit

FAST = {"max_trials": 1, "epochs": 2, "random_state": 0, "cv": None}


def _train_split(estimator, n_samples, stratify=None):
    """The rows the estimator's trials trained on."""
    seed = estimator.study_.user_attrs["sknas_seed"]
    return validation_indices(n_samples, estimator.validation_split, seed, stratify)


def _refit_rows(net):
    """Rows seen in the first epoch of a skorch net's training."""
    return sum(batch["train_batch_size"] for batch in net.history[0, "batches"])


# -- x= as in AutoKeras ---------------------------------------------------------------------
def test_fit_accepts_lowercase_x(iris):
    X, y = iris
    clf = NASTabularClassifier(**FAST).fit(x=X, y=y)
    reference = NASTabularClassifier(**FAST).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(X))


def test_fit_refuses_both_x_and_X(iris):
    X, y = iris
    with pytest.raises(TypeError, match="both X and x"):
        NASTabularClassifier(**FAST).fit(X, y, x=X)
    with pytest.raises(TypeError, match="missing the training inputs"):
        NASTabularClassifier(**FAST).fit(y=y)


def test_automodel_fit_with_lowercase_x_and_two_heads(diabetes):
    X, y = diabetes
    inp = sknas.TabularInput()
    trunk = sknas.DenseBlock()(inp)
    model = sknas.AutoModel(
        inputs=inp,
        outputs=[sknas.RegressionHead()(trunk), sknas.ClassificationHead()(trunk)],
        **FAST,
    )
    model.fit(x=X, y=[y, y > np.median(y)])
    value, label = model.predict(X[:5])
    assert value.shape == (5,) and set(label) <= {False, True}


# -- leakage ----------------------------------------------------------------------------------
def test_trial_preprocessing_is_fitted_on_training_rows_only(diabetes):
    X, y = diabetes
    reg = NASTabularRegressor(refit=False, **FAST).fit(X, y)
    train, _ = _train_split(reg, len(y))
    stats = reg.input_adapter_.info_.meta["stats"]
    np.testing.assert_allclose(stats["mean"], X[train].mean(axis=0), rtol=1e-6, atol=1e-9)
    assert not np.allclose(stats["mean"], X.mean(axis=0), rtol=1e-6, atol=1e-9)
    target = reg.target_adapter_.info_.meta
    np.testing.assert_allclose(target["mean"], [y[train].mean()], rtol=1e-6)
    assert not np.isclose(target["mean"][0], y.mean(), rtol=1e-6)


def test_text_vocabulary_of_trials_comes_from_training_texts_only():
    texts = [f"word{i} {'good' if i % 2 else 'bad'}" for i in range(80)]
    labels = np.array([i % 2 for i in range(80)])

    def words_model(refit):
        inp = sknas.TextInput(representation="ngram", analyzer="word")
        head = sknas.ClassificationHead()(sknas.DenseBlock()(inp))
        return sknas.AutoModel(inputs=inp, outputs=head, refit=refit, **FAST)

    search_only = words_model(refit=False).fit(texts, labels)
    _, valid = _train_split(search_only, len(texts), labels)
    words = set(" ".join(search_only.input_adapter_.vectorizer_.vocabulary_).split())
    seen = {f"word{i}" for i in range(80)} & words
    assert seen == {f"word{i}" for i in range(80)} - {f"word{i}" for i in valid}
    refit = words_model(refit=True).fit(texts, labels)
    words = set(" ".join(refit.input_adapter_.vectorizer_.vocabulary_).split())
    assert {f"word{i}" for i in range(80)} <= words


# -- the refit ---------------------------------------------------------------------------------
def test_refit_trains_on_train_and_validation_rows_for_the_best_epoch_count(iris):
    X, y = iris
    clf = NASTabularClassifier(cv=None, max_trials=2, epochs=4, random_state=0).fit(X, y)
    assert clf.refit_status_ == "refit"
    assert len(clf.model_.history) == clf.best_trial_.user_attrs["best_epoch"]
    assert _refit_rows(clf.model_) == len(y)
    assert clf.refit_seconds_ > 0 and clf.search_seconds_ > 0
    assert clf.fit_seconds_ >= clf.search_seconds_ + clf.refit_seconds_


def test_refit_keeps_validation_data_held_back_unless_asked(diabetes):
    X, y = diabetes
    split = {"validation_data": (X[300:], y[300:])}
    held = NASTabularRegressor(**FAST).fit(X[:300], y[:300], **split)
    assert _refit_rows(held.model_) == 300
    means = held.input_adapter_.info_.meta["stats"]["mean"]
    np.testing.assert_allclose(means, X[:300].mean(0), rtol=1e-5, atol=1e-7)
    both = NASTabularRegressor(**FAST).fit(X[:300], y[:300], refit_on_validation_data=True, **split)
    assert _refit_rows(both.model_) == len(y)
    means = both.input_adapter_.info_.meta["stats"]["mean"]
    np.testing.assert_allclose(means, X.mean(0), rtol=1e-5, atol=1e-7)


def test_without_refit_the_best_trial_weights_are_kept(iris):
    X, y = iris
    clf = NASTabularClassifier(cv=None, refit=False, max_trials=2, epochs=3, random_state=0).fit(
        X, y
    )
    assert clf.refit_status_ == "trial_weights"
    assert not clf.model_.history  # not trained again
    _, valid = _train_split(clf, len(y), y)
    # the kept network reproduces its trial's validation loss, the search's score
    loss = log_loss(y[valid], clf.predict_proba(X[valid]), labels=clf.classes_)
    assert loss == pytest.approx(clf.best_score_, rel=1e-4)


# -- time budget -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def long_regression():
    """Noise-free data whose validation loss improves for many epochs: a trial uses all the
    time it is given, and its refit would take as long again. A tiny fit first pays PyTorch's
    one-time start-up in this process (its optimizers import their compiler modules on first
    use), which the budget's promise leaves out."""
    X, y = make_regression(n_samples=2000, n_features=30, noise=0.0, random_state=0)
    NASTabularRegressor(cv=None, max_trials=1, epochs=1, random_state=0).fit(X[:100], y[:100])
    return X, y


def _measured(seconds: float, **attrs) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(value=0.0, user_attrs={"seconds": seconds, **attrs})


def test_the_final_model_time_scales_each_trials_epochs_to_the_final_rows():
    first = _measured(9.0, train_rows=100, prep_seconds=2.0, epoch_seconds=0.5, best_epoch=4)
    second = _measured(9.0, train_rows=200, prep_seconds=7.0, epoch_seconds=1.0, best_epoch=3)
    # the first trial's preparation (once), then each network's best epochs, per final row
    expected = 2.0 * 3 + 0.5 * 4 * 3 + 1.0 * 3 * 1.5
    assert expected_seconds([first, second], 300) == pytest.approx(expected)
    # a trial that did not time its epochs counts its whole time
    assert expected_seconds([_measured(9.0, train_rows=300)], 300) == pytest.approx(9.0)
    assert final_model_seconds([first, second], 300) == pytest.approx(
        RESERVE_MARGIN * expected + RESERVE_FIXED
    )


@pytest.mark.timing
def test_time_budget_covers_search_and_refit(long_regression, monkeypatch):
    X, y = long_regression
    budget = 10.0
    # the default margin (20 %, its arithmetic tested above) covers a quiet machine's noise;
    # on a busy one the refit can run slower than its trial by more than that, and the fit
    # then keeps the trial's weights instead: a margin of 2.5 times lets the refit finish on
    # a machine up to about twice as slow during the refit as during the search
    monkeypatch.setattr(sknas.search.objective, "RESERVE_MARGIN", 2.5)
    started = time.monotonic()
    reg = NASTabularRegressor(
        time_budget=budget, epochs=500, pruner="none", random_state=0, batch_size=64
    ).fit(X, y)
    took = time.monotonic() - started
    assert took <= budget * 1.05 + 0.5
    assert reg.refit_status_ == "refit"
    # the search trained until only the refit's share was left, then the refit used it
    assert reg.best_trial_.user_attrs["stopped_by"] == "time_budget"
    assert len(reg.model_.history) == reg.best_trial_.user_attrs["best_epoch"] > 1
    assert reg.search_seconds_ + reg.refit_seconds_ <= reg.fit_seconds_


@pytest.mark.timing
def test_time_budget_alone_runs_more_than_the_default_trials(iris):
    X, y = iris
    budget = 8.0
    clf = NASTabularClassifier(cv=None, time_budget=budget, epochs=1, random_state=0).fit(X, y)
    # one-epoch trials on iris take a fraction of a second: 20 of them end well before 8 s
    assert clf.fit_seconds_ <= budget * 1.05 + 1.0
    assert clf.fit_seconds_ >= 0.7 * budget
    assert len(clf.study_.trials) > 5
    capped = NASTabularClassifier(epochs=1, random_state=0)
    assert capped._max_trials() == 20


class _InterruptAt(Callback):
    """Sends Ctrl-C (SIGINT) to this process at a training batch of the final model."""

    def __init__(self, batch: int) -> None:
        self.batch = batch

    def initialize(self):
        self.seen_ = 0
        return self

    def on_batch_end(self, net, training, **kwargs):
        if training:
            self.seen_ += 1
            if self.seen_ == self.batch:
                os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_during_the_refit_keeps_the_best_trial_weights(iris, monkeypatch):
    X, y = iris
    params = {"max_trials": 2, "epochs": 5, "batch_size": 16, "random_state": 0, "cv": None}
    trial_weights = NASTabularClassifier(refit=False, **params).fit(X, y)
    make_net = sknas.search.final.make_net

    pressed = []

    def interrupted_net(*args, callbacks=(), **kwargs):
        pressed.append(_InterruptAt(3))
        return make_net(*args, callbacks=[*callbacks, ("ctrl_c", pressed[-1])], **kwargs)

    monkeypatch.setattr(sknas.search.final, "make_net", interrupted_net)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = NASTabularClassifier(**params).fit(X, y)
    assert clf.refit_status_ == "interrupted"
    # the refit (5 epochs of 10 batches) ended at the end of the next batch, before this
    # callback (the last) saw it: at the first batch otherwise, no refit was trained
    assert [cb.seen_ for cb in pressed if cb.seen_] == [3]
    assert any("interrupted" in str(w.message) for w in caught)
    np.testing.assert_allclose(clf.predict_proba(X), trial_weights.predict_proba(X), atol=1e-6)


class _OutOfTime(TimeLimit):
    """A time limit that runs out at the second training batch of the final model."""

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history[-1, "batches"]) == 2:
            self.expired_ = True
            raise KeyboardInterrupt


def test_a_refit_out_of_time_falls_back_to_the_trial_weights(iris, monkeypatch):
    X, y = iris
    params = {"max_trials": 2, "epochs": 5, "batch_size": 16, "random_state": 0, "cv": None}
    trial_weights = NASTabularClassifier(refit=False, **params).fit(X, y)
    monkeypatch.setattr(sknas.search.final, "TimeLimit", _OutOfTime)
    with pytest.warns(UserWarning, match="ran out of time"):
        clf = NASTabularClassifier(**params).fit(X, y)
    assert clf.refit_status_ == "out_of_time"
    np.testing.assert_allclose(clf.predict_proba(X), trial_weights.predict_proba(X), atol=1e-6)
    # with the preprocessing the trial was trained with: fitted on its training rows only
    train, _ = _train_split(clf, len(y), y)
    means = clf.input_adapter_.info_.meta["stats"]["mean"]
    np.testing.assert_allclose(means, X[train].mean(axis=0), rtol=1e-5)


def test_a_best_trial_of_an_earlier_session_is_trained_again(tmp_path, iris, monkeypatch):
    X, y = iris
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    params = {"max_trials": 2, "epochs": 3, "random_state": 0, "study_name": "s", "cv": None}
    NASTabularClassifier(storage=storage, **params).fit(X, y)
    # nothing left to search: the best trial's weights are not held by this process
    again = NASTabularClassifier(storage=storage, refit=False, **params).fit(X, y)
    assert again.refit_status_ == "retrained"
    assert len(again.model_.history) == again.best_trial_.user_attrs["best_epoch"]
    train, _ = _train_split(again, len(y), y)
    assert _refit_rows(again.model_) == len(train)
    assert again.score(X, y) > 0.6
    monkeypatch.setattr(sknas.search.final, "TimeLimit", _OutOfTime)
    with pytest.warns(UserWarning, match="fewer epochs than its best trial"):
        cut = NASTabularClassifier(storage=storage, **params).fit(X, y)
    assert cut.refit_status_ == "partial"
    assert len(cut.model_.history) == 1


def test_a_cross_validated_best_trial_of_an_earlier_session_is_one_network(tmp_path, iris):
    X, y = iris
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    params = {"max_trials": 2, "epochs": 3, "random_state": 0, "study_name": "s", "cv": 3}
    NASTabularClassifier(storage=storage, **params).fit(X, y)
    # its fold models are not held here: it is trained again as one network, not a bag
    again = NASTabularClassifier(storage=storage, **params).fit(X, y)
    assert again.refit_status_ == "retrained" and again.ensemble_.folds == 1
    assert isinstance(again.model_.module_, GraphModule)
    # on every row, as the fold models together were
    assert _refit_rows(again.model_) == len(y)
    sknas.save(again, tmp_path / "model")
    loaded = sknas.load(tmp_path / "model")
    np.testing.assert_allclose(loaded.predict_proba(X), again.predict_proba(X), atol=1e-6)
