"""The search space: hyperparameters, graph wiring, names, sampling and specs."""

import subprocess
import sys

import numpy as np
import optuna
import pytest
from optuna.trial import FixedTrial

import sknas
from sknas.space import ArchitectureSpec, Graph, TensorInfo, TrainingSpace, registry
from sknas.space import sample_architecture as sample
from sknas.space.presets import tabular_first_trials, tabular_graph

TABLE = TensorInfo("tabular", (5,), {"n_numerical": 4, "cardinalities": [3]})
NUMERIC = TensorInfo("tabular", (4,), {"n_numerical": 4, "cardinalities": []})


def random_trial(seed=0):
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed)).ask()


@pytest.mark.parametrize(
    "make",
    [
        lambda: sknas.Int(3, 1),
        lambda: sknas.Int(0, 4, log=True),
        lambda: sknas.Float(1.0, float("inf")),
        lambda: sknas.Float(0.0, 1.0, log=True),
        lambda: sknas.Choice([]),
        lambda: sknas.Choice([1, 1]),
        lambda: sknas.Choice([[1, 2]]),
    ],
)
def test_invalid_hyperparameters_are_clear_errors(make):
    with pytest.raises(sknas.GraphError, match="received"):
        make()


def test_hyperparameters_compare_by_value():
    assert sknas.Choice([1, 2]) == sknas.Choice([1, 2])
    assert sknas.Int(1, 3) != sknas.Int(1, 4)
    assert repr(sknas.Float(0.1, 1, log=True)) == "Float(low=0.1, high=1.0, log=True)"


def test_default_tabular_space_names_are_hierarchical_and_stable():
    spec = sample(tabular_graph("classification"), random_trial(), [TABLE], TrainingSpace())
    names = [n.name for n in spec.nodes]
    assert names == [
        "tabular_input_1",
        "tabular_block_1/normalization",
        "tabular_block_1/categorical_encoding",
        "tabular_block_1/dense_block",
        "classification_head_1",
    ]
    assert spec.inputs == ("tabular_input_1",)
    assert spec.outputs == ("classification_head_1",)
    # names do not depend on how many blocks were created before
    for _ in range(3):
        sknas.DenseBlock()
    again = sample(tabular_graph("classification"), random_trial(), [TABLE], TrainingSpace())
    assert again == spec


def test_categorical_encoding_is_left_out_for_numeric_tables():
    spec = sample(tabular_graph("regression"), random_trial(), [NUMERIC], TrainingSpace())
    assert [n.type for n in spec.nodes] == [
        "tabular_input",
        "normalization",
        "dense_block",
        "regression_head",
    ]


def test_spec_round_trips_through_json():
    spec = sample(tabular_graph("classification"), random_trial(3), [TABLE], TrainingSpace())
    assert ArchitectureSpec.from_json(spec.to_json()) == spec
    assert "dense_block" in str(spec)


def test_first_trials_use_exactly_the_parameter_names_of_the_space():
    graph = tabular_graph("classification")
    for params in tabular_first_trials(graph, 500):
        trial = FixedTrial(params)
        spec = sample(graph, trial, [TABLE], TrainingSpace())
        assert set(trial.params) <= set(params)
        assert spec.training["learning_rate"] == params["training/learning_rate"]


def test_user_values_fix_or_narrow_the_space():
    inp = sknas.TabularInput()
    out = sknas.DenseBlock(num_layers=2, num_units=sknas.Choice([8]), dropout=0.0)(inp)
    graph = Graph(inp, sknas.RegressionHead(dropout=0.0)(out))
    trial = random_trial()
    spec = sample(graph, trial, [NUMERIC], TrainingSpace(batch_size=16, optimizer="sgd"))
    dense = spec.nodes[1].config
    assert dense["units"] == [8, 8]
    assert dense["dropout"] == 0.0
    assert spec.training["batch_size"] == 16
    assert "dense_block_1/num_layers" not in trial.params
    assert "dense_block_1/num_units" in trial.params


def test_impossible_block_arguments_name_the_block_and_argument():
    inp = sknas.TabularInput()
    out = sknas.DenseBlock(num_units=-4)(inp)
    graph = Graph(inp, sknas.RegressionHead()(out))
    with pytest.raises(sknas.GraphError, match=r"dense_block_1: argument num_units=-4"):
        sample(graph, random_trial(), [NUMERIC], TrainingSpace())
    inp = sknas.TabularInput()
    out = sknas.DenseBlock(activation=sknas.Choice(["relu", "swishy"]))(inp)
    graph = Graph(inp, sknas.RegressionHead()(out))
    with pytest.raises(sknas.GraphError, match="'swishy' is not one of"):
        sample(graph, random_trial(), [NUMERIC], TrainingSpace())


def test_wiring_errors_are_clear():
    inp = sknas.TabularInput()
    dense = sknas.DenseBlock()
    hidden = dense(inp)
    with pytest.raises(sknas.GraphError, match="already applied"):
        dense(inp)
    with pytest.raises(sknas.GraphError, match="must be applied to graph nodes"):
        sknas.DenseBlock()("not a node")
    with pytest.raises(sknas.GraphError, match="output of a head"):
        Graph(inp, hidden)
    other = sknas.TabularInput()
    with pytest.raises(sknas.GraphError, match="reaches no head"):
        Graph([inp, other], sknas.ClassificationHead()(hidden))
    with pytest.raises(sknas.GraphError, match="not listed in inputs"):
        Graph(other, sknas.ClassificationHead()(sknas.DenseBlock()(inp)))
    with pytest.raises(sknas.GraphError, match="takes 1 input"):
        sknas.DenseBlock()([inp, other])


def test_graph_copies_the_users_blocks():
    inp = sknas.TabularInput()
    block = sknas.DenseBlock()
    graph = Graph(inp, sknas.RegressionHead()(block(inp)))
    assert graph.order[1].block is not block
    assert block.inputs_[0] is inp


def test_registry_lists_blocks_and_suggests_names():
    assert {"dense_block", "tabular_block", "merge", "classification_head"} <= set(registry.names())
    assert registry.get("dense_block") is sknas.DenseBlock
    with pytest.raises(sknas.GraphError, match="Did you mean 'dense_block'"):
        registry.get("dense_blok")


def test_space_imports_no_torch():
    code = "import sys, sknas.space; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "graph, info",
    [
        (tabular_graph("classification"), TABLE),
        (sknas.space.presets.image_graph("classification"), None),
        (sknas.space.presets.text_graph("regression"), None),
    ],
)
def test_a_parameter_name_keeps_one_distribution_across_trials(graph, info):
    """Optuna refuses a name whose choices change between trials: every branch of a space
    must give each name the same distribution."""
    from sknas.data import ImageAdapter, TextAdapter

    if info is None and graph.inputs[0].kind == "image":
        info = ImageAdapter().fit(np.zeros((4, 8, 8), dtype=np.uint8)).info_
    elif info is None:
        info = TextAdapter().fit(["some text here", "and more text"]).info_for
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(0))
    for _ in range(60):
        sample(graph, study.ask(), [info], TrainingSpace())
