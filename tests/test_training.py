"""The skorch training layer: net construction and sknas's callbacks."""

import time

import numpy as np
import optuna
import pytest
import torch
from sklearn.datasets import load_diabetes

import sknas
from sknas.data import RegressionTarget, TabularAdapter
from sknas.nn import GraphModule
from sknas.space import Graph, TrainingSpace, sample_architecture
from sknas.training import DivergenceGuard, PruningReporter, TimeLimit, make_net


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
