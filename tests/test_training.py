"""The skorch training layer: net construction and sknas's callbacks."""

import time

import numpy as np
import optuna
import pytest
import torch
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits

import sknas
from sknas.data import ImageAdapter, RegressionTarget, TabularAdapter
from sknas.nn import GraphModule
from sknas.space import Graph, TensorInfo, TrainingSpace, sample_architecture
from sknas.training import (
    DivergenceGuard,
    PruningReporter,
    TimeLimit,
    log_count_ratios,
    make_net,
)
from sknas.training.net import TrainingCrossEntropy


@pytest.fixture(scope="module")
def problem():
    X, y = load_diabetes(return_X_y=True)
    adapter = TabularAdapter().fit(X)
    target = RegressionTarget().fit(y)
    return adapter.transform(X), target.transform(y), adapter.info_, target.info_


def regression_net(problem, training, **kwargs):
    X, y, info, target = problem
    inp = sknas.TabularInput()
    dense = sknas.DenseBlock(
        num_layers=1,
        num_units=32,
        dropout=0.0,
        use_batchnorm=False,
        activation="relu",
        residual=False,
    )
    graph = Graph(inp, sknas.RegressionHead(dropout=0.0)(dense(inp)))
    trial = optuna.trial.FixedTrial({})
    training = {
        "lr_schedule": "constant",
        "label_smoothing": 0.0,
        "batch_mixing": "none",
        **training,
    }
    spec = sample_architecture(
        graph, trial, [info], TrainingSpace(**training, weight_decay=0.0, batch_size=64)
    )
    torch.manual_seed(0)
    module = GraphModule(spec, [info], [target])
    return make_net(module, spec, [target], **kwargs), X, y


def test_regression_net_learns_in_target_units(problem):
    net, X, y = regression_net(
        problem,
        {"optimizer": "adam", "learning_rate": 1e-2},
        max_epochs=30,
        valid=(problem[0][:80], problem[1][:80]),
        objective="r2",
        patience=5,
    )
    net.fit(X[80:], y[80:])
    scores = net.history[:, "score"]
    assert max(scores) > 0.3
    assert abs(net.predict(X).mean() - y.mean()) < 0.25 * y.std()


def test_divergence_fails_fast(problem):
    net, X, y = regression_net(
        problem,
        {"optimizer": "sgd", "learning_rate": 1e6},
        max_epochs=20,
        callbacks=[("divergence", DivergenceGuard())],
    )
    with pytest.raises(FloatingPointError, match="training diverged"):
        net.fit(X, y)
    assert len(net.history) <= 2


def test_time_limit_stops_at_the_next_batch(problem):
    limit = TimeLimit(time.monotonic())
    net, X, y = regression_net(
        problem,
        {"optimizer": "adam", "learning_rate": 1e-3},
        max_epochs=50,
        callbacks=[("time_limit", limit)],
    )
    net.fit(X, y)
    assert limit.expired_
    assert len(net.history) == 1 and len(net.history[-1]["batches"]) == 1


def test_pruning_reporter_reports_every_epoch_and_prunes(problem):
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=1e-9))
    trial = study.ask()
    net, X, y = regression_net(
        problem,
        {"optimizer": "adam", "learning_rate": 1e-3},
        max_epochs=10,
        valid=(problem[0][:80], problem[1][:80]),
        callbacks=[("pruning", PruningReporter(trial, "valid_loss"))],
    )
    with pytest.raises(optuna.TrialPruned, match="pruned at epoch 1"):
        net.fit(X[80:], y[80:])
    assert trial.storage.get_trial(trial._trial_id).intermediate_values.keys() == {1}
    assert np.isfinite(list(trial.storage.get_trial(trial._trial_id).intermediate_values.values()))


def test_mixed_precision_runs_the_forward_pass_in_bfloat16(problem):
    """On CUDA this is automatic; autocast works the same on the CPU, where it is tested."""
    net, X, y = regression_net(
        problem,
        {"optimizer": "adam", "learning_rate": 1e-2},
        max_epochs=30,
        valid=(problem[0][:80], problem[1][:80]),
        objective="r2",
        patience=5,
        mixed_precision=True,
    )
    seen = []
    net.initialize()
    net.module_.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    hidden = next(m for m in net.module_.modules() if isinstance(m, torch.nn.Linear))
    hidden.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    net.partial_fit(X[80:], y[80:])
    assert torch.bfloat16 in seen, "layers run in bfloat16"
    prediction = net.predict(X)
    assert prediction.dtype == np.float32, "outputs come back in float32"
    assert max(net.history[:, "score"]) > 0.3
    assert not regression_net(problem, {"optimizer": "adam", "learning_rate": 1e-2}, max_epochs=1)[
        0
    ].mixed_precision, "off on the CPU unless asked for"


def _rates(net):
    return np.array([batch["event_lr"] for epoch in net.history for batch in epoch["batches"]])


@pytest.mark.parametrize("schedule", ["constant", "cosine", "one_cycle", "flat_cosine"])
def test_learning_rate_schedules_span_the_whole_training(problem, schedule):
    X, y = problem[0][80:], problem[1][80:]
    net, _, _ = regression_net(
        problem,
        {"optimizer": "adam", "learning_rate": 1e-2, "lr_schedule": schedule},
        max_epochs=4,
        n_train=len(X),
    )
    net.fit(X, y)
    if schedule == "constant":
        assert "lr_scheduler" not in dict(net.callbacks_)
        return
    rates = _rates(net)
    # 362 rows in batches of 64: 6 batches an epoch, one step each
    assert len(rates) == 4 * 6
    assert rates.max() == pytest.approx(1e-2, rel=0.05) and rates[-1] < 1e-3
    if schedule == "cosine":
        assert rates[0] == pytest.approx(1e-2) and np.all(np.diff(rates) <= 0)
    elif schedule == "one_cycle":
        assert rates[0] < 1e-3 and 0 < rates.argmax() < len(rates) // 2
    else:
        assert np.all(rates[: len(rates) // 2] == pytest.approx(1e-2))
        assert np.all(np.diff(rates[len(rates) // 2 :]) < 0)


def test_label_smoothing_applies_to_training_losses_only():
    logits, y = torch.randn(20, 3), torch.randint(0, 3, (20,))
    loss = TrainingCrossEntropy(label_smoothing=0.1)
    smoothed = torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.1)
    assert loss(logits, y) == pytest.approx(smoothed.item())
    loss.eval()
    assert loss(logits, y) == pytest.approx(torch.nn.functional.cross_entropy(logits, y).item())
    assert smoothed.item() != pytest.approx(torch.nn.functional.cross_entropy(logits, y).item())


def test_classifier_searches_label_smoothing_and_regressor_does_not(iris):
    X, y = iris
    clf = sknas.NASTabularClassifier(cv=None, max_trials=3, epochs=2, random_state=0).fit(X, y)
    smoothing = [t.params["training/label_smoothing"] for t in clf.study_.trials]
    assert set(smoothing) <= {0.0, 0.1} and 0.1 in smoothing
    for trial in clf.study_.trials:
        training = trial.user_attrs["architecture"]["training"]
        assert training["label_smoothing"] == trial.params["training/label_smoothing"]
    assert clf.model_.criterion_.label_smoothing == clf.best_params_["training/label_smoothing"]
    Xr, yr = load_diabetes(return_X_y=True)
    reg = sknas.NASTabularRegressor(cv=None, max_trials=2, epochs=2, random_state=0).fit(Xr, yr)
    assert all("training/label_smoothing" not in t.params for t in reg.study_.trials)
    assert all("training/lr_schedule" in t.params for t in reg.study_.trials)


@pytest.mark.parametrize("mixing", ["mixup", "cutmix"])
def test_batch_mixing_trains_on_mixed_images_and_label_distributions(mixing):
    """Each training batch reaches the loss as mixed images with the matching label
    distributions (rows of probabilities, most strictly between 0 and 1); validation batches
    keep their images and class codes. Noise images: any pasted patch changes them."""
    torch.manual_seed(0)
    images = np.random.default_rng(0).random((96, 8, 8)).astype(np.float32)
    adapter = ImageAdapter().fit(images)
    X, y = adapter.transform(images), np.arange(96) % 10
    inp = sknas.ImageInput()
    block = sknas.ImageBlock(block_type="conv", augment=False)
    graph = Graph(inp, sknas.ClassificationHead()(block(inp)))
    training = TrainingSpace(
        optimizer="adam",
        learning_rate=1e-3,
        weight_decay=0.0,
        batch_size=32,
        lr_schedule="constant",
        label_smoothing=0.0,
        batch_mixing=mixing,
    )
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(0)).ask()
    spec = sample_architecture(graph, trial, [adapter.info_], training)
    classes = TensorInfo("classification", (10,))
    module = GraphModule(spec, [adapter.info_], [classes])
    net = make_net(module, spec, [classes], max_epochs=2, valid=(X[:32], y[:32]))
    seen = []
    loss = net.get_loss

    def spy(y_pred, y_true, *args, X=None, training=False, **kwargs):
        seen.append((training, X.detach().clone(), y_true.detach().clone()))
        return loss(y_pred, y_true, *args, X=X, training=training, **kwargs)

    net.get_loss = spy
    net.fit(X[32:], y[32:])
    assert clone(net).batch_mixing == mixing
    train = [(x, t) for training, x, t in seen if training]
    valid = [(x, t) for training, x, t in seen if not training]
    assert len(train) == 4 and len(valid) == 2
    given = torch.as_tensor(X[32:]).flatten(1)
    mixed_rows = 0
    for x, target in train:
        assert target.shape == (32, 10) and target.dtype == torch.float32
        torch.testing.assert_close(target.sum(dim=1), torch.ones(32))
        mixed = ((target > 0) & (target < 1)).any(dim=1)
        mixed_rows += int(mixed.sum())
        # a row with mixed labels has a mixed image: none of the given ones
        distances = torch.cdist(x[mixed].flatten(1), given)
        assert (distances.min(dim=1).values > 1e-3).all()
    # CutMix's patch may round to nothing on 8x8 images, leaving a batch unmixed
    assert mixed_rows > 0.5 * 32 * len(train)
    for x, target in valid:
        assert target.ndim == 1
        torch.testing.assert_close(x, torch.as_tensor(X[:32]))


def test_batch_mixing_needs_a_single_label_classifier(problem):
    with pytest.raises(ValueError, match=r"batch_mixing='mixup' mixes.*heads \['regression'\]"):
        regression_net(
            problem,
            {"optimizer": "adam", "learning_rate": 1e-2, "batch_mixing": "mixup"},
            max_epochs=1,
        )


def test_batch_mixing_needs_one_image_input(iris):
    adapter = TabularAdapter().fit(iris[0])
    inp = sknas.TabularInput()
    graph = Graph(inp, sknas.ClassificationHead()(sknas.DenseBlock(num_layers=1)(inp)))
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(0)).ask()
    spec = sample_architecture(graph, trial, [adapter.info_], TrainingSpace(batch_mixing="mixup"))
    classes = TensorInfo("classification", (3,))
    module = GraphModule(spec, [adapter.info_], [classes])
    with pytest.raises(ValueError, match=r"batch_mixing='mixup' mixes.*inputs \['tabular'\]"):
        make_net(module, spec, [classes], max_epochs=1)


def test_image_classifiers_search_batch_mixing_and_other_estimators_do_not(iris):
    images, labels = load_digits(return_X_y=True)
    X, y = images[:150].reshape(-1, 8, 8), labels[:150]
    clf = sknas.NASImageClassifier(max_trials=6, epochs=1, random_state=0).fit(X, y)
    mixing = [t.params["training/batch_mixing"] for t in clf.study_.trials]
    # the first trials train on unmixed batches; the sampler chooses among all three
    assert mixing[:3] == ["none"] * 3
    searched = clf.study_.trials[-1].distributions["training/batch_mixing"]
    assert searched.choices == ("none", "mixup", "cutmix")
    for trial in clf.study_.trials:
        training = trial.user_attrs["architecture"]["training"]
        assert training["batch_mixing"] == trial.params["training/batch_mixing"]
    reg = sknas.NASImageRegressor(max_trials=2, epochs=1, random_state=0).fit(X, y.astype(float))
    table = sknas.NASTabularClassifier(cv=None, max_trials=2, epochs=1, random_state=0)
    for estimator in (reg, table.fit(*iris)):
        assert all("training/batch_mixing" not in t.params for t in estimator.study_.trials)
        assert estimator.best_architecture_.training["batch_mixing"] == "none"


def test_naive_bayes_weights_are_log_count_ratios_by_hand():
    """Texts 0 and 1 are class 0, 2 and 3 class 1. Feature 0 occurs in both texts of class 0
    and none of class 1: counts plus one are p = (1, 3) in class 1, q = (3, 2) outside it,
    so its ratio is log((1/4) / (3/5)); feature 1 (once in class 0, twice in class 1) gets
    log((3/4) / (2/5)). TF-IDF values only say whether a feature occurs."""
    x = sparse.csr_matrix([[0.7, 0.0], [0.2, 0.9], [0.0, 0.4], [0.0, 1.0]])
    ratios = log_count_ratios(x, np.array([0, 0, 1, 1]))
    np.testing.assert_allclose(ratios, [abs(np.log(5 / 12)), np.log(15 / 8)])
    np.testing.assert_allclose(log_count_ratios(x.toarray(), np.array([1, 1, 0, 0])), ratios)
    # three classes, and the same as a 0/1 indicator matrix of labels: each class against
    # the rest, the largest magnitude kept
    x = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    codes = np.array([0, 1, 2])
    by_codes = log_count_ratios(x, codes)
    np.testing.assert_allclose(log_count_ratios(x, np.eye(3)[codes]), by_codes)
    # against class 2: p = (1, 2), q = (3, 3); against class 0 (or 1): p = (2, 2), q = (2, 3)
    np.testing.assert_allclose(by_codes, [abs(np.log((1 / 3) / (3 / 6))), np.log(4 / 3)])
    assert abs(np.log((2 / 4) / (2 / 5))) < by_codes[0]


def test_naive_bayes_weights_leave_out_what_the_rows_do_not_show():
    """A class missing from the rows (a fold without it) is left out, a constant label says
    nothing, and an n-gram that no row contains gets 0."""
    x = np.array([[0.7, 0.0, 0.0], [0.2, 0.9, 0.0], [0.0, 0.4, 0.0], [0.0, 1.0, 0.0]])
    two = log_count_ratios(x, np.array([0, 0, 1, 1]))
    assert two[2] == 0.0 and two[:2].min() > 0
    # codes of three classes, the third absent: the same as the two classes seen
    np.testing.assert_allclose(log_count_ratios(x, np.array([0, 0, 2, 2])), two)
    # as labels: a label no row has (or every row has) is left out
    labels = np.array([[1, 0, 1], [1, 0, 1], [0, 0, 1], [0, 0, 1]])
    np.testing.assert_allclose(log_count_ratios(x, labels), two)
    # nothing to compare: 1, but still 0 for the n-gram no row contains
    np.testing.assert_allclose(log_count_ratios(x, np.zeros(4, dtype=int)), [1.0, 1.0, 0.0])


def test_label_statistics_are_set_by_a_networks_first_fit_only():
    """The ratios come from the rows of the first fit; training on (partial_fit) keeps them,
    since the weights were learned with them."""
    inp = sknas.TextInput(representation="ngram")
    out = sknas.ClassificationHead()(
        sknas.DenseBlock(num_layers=0)(sknas.NaiveBayesWeighting()(inp))
    )
    x = sparse.csr_matrix(
        np.array([[1.0, 0.0, 0.5], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]] * 4, dtype=np.float32)
    )
    info = TensorInfo("text", (3,), {"representation": "ngram"})
    spec = sample_architecture(
        Graph(inp, out),
        optuna.create_study(sampler=optuna.samplers.RandomSampler(0)).ask(),
        [info],
        TrainingSpace(
            optimizer="adam",
            learning_rate=1e-2,
            weight_decay=0.0,
            batch_size=4,
            lr_schedule="constant",
            label_smoothing=0.0,
            batch_mixing="none",
        ),
    )
    classes = TensorInfo("classification", (2,))
    net = make_net(GraphModule(spec, [info], [classes]), spec, [classes], max_epochs=1)
    layer = net.initialize().module_.blocks["nb_weighting_1"]
    assert not layer.fitted
    first = np.array([0, 1, 1] * 4)
    net.fit(x, first)
    assert layer.fitted
    np.testing.assert_allclose(layer.ratio.numpy(), log_count_ratios(x, first), rtol=1e-6)
    # other labels, whose ratios differ
    second = np.array([1, 1, 0] * 4)
    assert not np.allclose(log_count_ratios(x, second), log_count_ratios(x, first))
    net.partial_fit(x, second)
    np.testing.assert_allclose(layer.ratio.numpy(), log_count_ratios(x, first), rtol=1e-6)
    # a network rebuilt from those weights keeps them when it trains
    rebuilt = GraphModule(spec, [info], [classes])
    rebuilt.load_state_dict(net.module_.state_dict())
    again = make_net(rebuilt, spec, [classes], max_epochs=1).fit(x, second)
    np.testing.assert_allclose(
        again.module_.blocks["nb_weighting_1"].ratio.numpy(), log_count_ratios(x, first), rtol=1e-6
    )
