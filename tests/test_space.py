"""The search space: hyperparameters, graph wiring, names, sampling and specs."""

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import FixedTrial

import sknas
from sknas.space import ArchitectureSpec, Graph, TensorInfo, TrainingSpace, presets, registry
from sknas.space import sample_architecture as sample
from sknas.space.presets import tabular_graph
from sknas.space.sampling import ReplayTrial

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
    by_backbone = {}
    for seed in range(20):
        spec = sample(tabular_graph("classification"), random_trial(seed), [TABLE], TrainingSpace())
        names = [n.name for n in spec.nodes]
        by_backbone[names[4]] = names
    assert sorted(by_backbone) == ["tabular_block_1/dense_block", "tabular_block_1/tabm_block"]
    for backbone, names in by_backbone.items():
        assert names == [
            "tabular_input_1",
            "tabular_block_1/normalization",
            "tabular_block_1/numeric_embedding",
            "tabular_block_1/categorical_encoding",
            backbone,
            "classification_head_1",
        ]
    assert spec.inputs == ("tabular_input_1",)
    assert spec.outputs == ("classification_head_1",)
    # names do not depend on how many blocks were created before
    for _ in range(3):
        sknas.DenseBlock()
    again = sample(tabular_graph("classification"), random_trial(19), [TABLE], TrainingSpace())
    assert again == spec


def test_categorical_encoding_is_left_out_for_numeric_tables():
    trial = random_trial()
    spec = sample(tabular_graph("regression"), trial, [NUMERIC], TrainingSpace())
    backbone = {"mlp": "dense_block", "tabm": "tabm_block"}
    assert [n.type for n in spec.nodes] == [
        "tabular_input",
        "normalization",
        "numeric_embedding",
        backbone[trial.params["tabular_block_1/backbone"]],
        "regression_head",
    ]


def test_spec_round_trips_through_json():
    spec = sample(tabular_graph("classification"), random_trial(3), [TABLE], TrainingSpace())
    assert ArchitectureSpec.from_json(spec.to_json()) == spec
    assert f"({spec.nodes[4].type})" in str(spec)


def _image_info(size):
    from sknas.data import ImageAdapter

    return ImageAdapter().fit(np.zeros((4, size, size), dtype=np.uint8)).info_


def _text_info():
    from sknas.data import TextAdapter

    return TextAdapter().fit(["some text here", "and more text", "a third one"]).info_for


#: each task's head in the presets' graphs
_HEADS = {"classification": sknas.ClassificationHead, "regression": sknas.RegressionHead}


def _preset_cases():
    """Every preset, with data sizes and devices that select each of its variants."""
    for task in ("classification", "regression"):
        for size, device in [(8, "cpu"), (8, "cuda"), (40, "cpu"), (40, "cuda:0")]:
            yield pytest.param(
                presets.image_graph(task),
                lambda graph, size=size, device=device: presets.image_first_trials(
                    graph, _image_info(size), device
                ),
                lambda size=size: _image_info(size),
                id=f"image-{task}-{size}px-{device}",
            )
        for n_samples, device in [(100, "cpu"), (20000, "cuda")]:
            yield pytest.param(
                presets.text_graph(task),
                lambda graph, n=n_samples, device=device, task=task: presets.text_first_trials(
                    graph, n, device, [_HEADS[task].type_name]
                ),
                _text_info,
                id=f"text-{task}-{n_samples}-{device}",
            )
        for info in (TABLE, NUMERIC, None):
            for n_samples, device in [(500, "cpu"), (5000, "cpu"), (5000, "cuda")]:
                yield pytest.param(
                    presets.tabular_graph(task),
                    lambda graph, n=n_samples, info=info, device=device: (
                        presets.tabular_first_trials(graph, n, info, device)
                    ),
                    lambda info=info: info or TABLE,
                    id=f"tabular-{task}-{'table' if info else 'unknown'}-"
                    f"{info.meta['cardinalities'] if info else ''}-{n_samples}-{device}",
                )


@pytest.mark.parametrize("graph, first_trials, info", list(_preset_cases()))
def test_every_first_trial_sets_exactly_the_parameters_its_space_samples(graph, first_trials, info):
    """A key the space does not sample is silently ignored by Optuna (the trial runs with
    other values than the preset meant); a key it samples but the preset misses is drawn at
    random. FixedTrial fails on a missing key and warns on a value outside the distribution."""
    # the estimators search batch mixing for images only, other spaces fix it
    mixing = None if isinstance(graph.inputs[0], sknas.ImageInput) else "none"
    for params in first_trials(graph):
        trial = FixedTrial(params)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            spec = sample(graph, trial, [info()], TrainingSpace(batch_mixing=mixing))
        unused = sorted(set(params) - set(trial.params))
        assert not unused, f"preset keys the space does not sample: {unused}"
        assert spec.training["learning_rate"] == params["training/learning_rate"]


def test_a_replayed_trial_keeps_the_values_the_space_asks_for_and_allows():
    inp = sknas.TabularInput()
    out = sknas.DenseBlock(
        num_layers=sknas.Int(1, 3, step=2), num_units=sknas.Choice([8, 16]), dropout=0.0
    )(inp)
    head = sknas.RegressionHead(dropout=sknas.Choice(list(np.linspace(0.0, 0.5, 3))))
    graph = Graph(inp, head(out))
    trial = ReplayTrial(
        {
            "dense_block_1/num_layers": 2,
            "dense_block_1/num_units": 16,
            "dense_block_1/dropout": 0.5,
            "dense_block_1/use_batchnorm": 1,
            "dense_block_1/activation": "gelu",
            "regression_head_1/dropout": 0.25,
            "training/learning_rate": 2e-3,
            "training/weight_decay": 1.0,
            "training/batch_size": 100,
            "training/optimizer": "adamw",
            "elsewhere/units": 4,
        }
    )
    spec = sample(graph, trial, [NUMERIC], TrainingSpace(lr_schedule="constant"))
    # off the step (2 layers), 1 for a bool, out of range (decay 1.0, batches of 100), fixed
    # by the user (dropout) or never asked: left out; 0.25 matches a NumPy choice
    assert trial.params == {
        "dense_block_1/num_units": 16,
        "dense_block_1/activation": "gelu",
        "regression_head_1/dropout": 0.25,
        "training/learning_rate": 2e-3,
        "training/optimizer": "adamw",
    }
    # what is left out is answered as the probe does: the lowest or first value
    dense = spec.nodes[1].config
    assert (dense["units"], dense["use_batchnorm"]) == ([16], False)
    assert spec.training["batch_size"] == 32


@pytest.mark.parametrize(
    "n_samples, device, backbones",
    [
        (1999, "cpu", ["mlp", "mlp", "mlp", "tabm", "mlp"]),
        (2000, "cpu", ["mlp", "mlp", "mlp"]),
        (50000, "cuda:0", ["mlp", "mlp", "mlp", "tabm"]),
    ],
)
def test_tabm_d_and_the_linear_model_start_the_search_where_they_pay(n_samples, device, backbones):
    """TabM-D's 32 members cost 32 networks' time on a CPU: it runs first on small tables and
    on a GPU only; the linear model on small tables."""
    trials = presets.tabular_first_trials(tabular_graph("regression"), n_samples, TABLE, device)
    assert [trial["tabular_block_1/backbone"] for trial in trials] == backbones
    assert [trial.get("tabular_block_1/dense_block/num_layers") for trial in trials][4:] == (
        [0] if n_samples < 2000 else []
    )
    tabm = [trial for trial in trials if trial["tabular_block_1/backbone"] == "tabm"]
    assert all(trial["tabular_block_1/tabm_block/num_units"] == 512 for trial in tabm)


def _two_input_graph(**tabular):
    table, text = sknas.TabularInput(name="table"), sknas.TextInput(name="notes")
    rows = sknas.TabularBlock(name="rows", **tabular)(table)
    trunk = sknas.Merge()([rows, sknas.TextBlock()(text)])
    heads = [sknas.RegressionHead(name="price")(trunk), sknas.ClassificationHead()(trunk)]
    return Graph([table, text], heads)


def test_hyperblock_first_trials_name_the_presets_as_the_users_graph_does():
    graph = _two_input_graph()
    infos = [TABLE, None]
    trials = presets.hyperblock_first_trials(graph, 500, infos)
    # the tabular presets (five below 2,000 rows) joined with the text ones (four)
    table = presets.tabular_first_trials(tabular_graph("regression"), 500, TABLE)
    text = presets.text_first_trials(presets.text_graph("regression"), 500, "cpu")
    assert len(trials) == len(table) == 5 and len(text) == 4
    for i, trial in enumerate(trials):
        names = {key.split("/")[0] for key in trial}
        expected = {"rows", "training", "price", "classification_head_1"}
        assert names == (expected if i == 4 else expected | {"notes", "text_block_1"})
        # the table's training settings; both heads take the preset's head dropout
        assert {k: v for k, v in trial.items() if k.startswith("training/")} == {
            k: v for k, v in table[i].items() if k.startswith("training/")
        }
        assert trial["classification_head_1/dropout"] == trial["price/dropout"] == 0.0
        assert {
            k.replace("rows/", "tabular_block_1/", 1) for k in trial if k.startswith("rows/")
        } == {k for k in table[i] if k.startswith("tabular_block_1/")}
        if i < 4:
            assert trial["notes/representation"] == text[i]["text_input_1/representation"]
        # each sets only parameters this graph samples, inside their ranges
        replayed = ReplayTrial(trial)
        sample(graph, replayed, [TABLE, _text_info()], TrainingSpace())
        assert set(trial) - set(replayed.params) == (
            # TabM's members feed heads only: behind a Merge the table's block is an MLP
            {"rows/backbone", *(key for key in trial if key.startswith("rows/tabm_block/"))}
            if trial["rows/backbone"] == "tabm"
            else {"rows/backbone"}
        )


def test_hyperblock_first_trials_leave_what_the_users_arguments_rule_out_to_the_sampler():
    graph = _two_input_graph(num_units=sknas.Choice([32, 64]), scaling="standard")
    trial = presets.hyperblock_first_trials(graph, 500, [TABLE, None])[0]
    replayed = ReplayTrial(trial)
    spec = sample(graph, replayed, [TABLE, _text_info()], TrainingSpace())
    dense = next(node for node in spec.nodes if node.type == "dense_block")
    # the user's one searched width replaces the preset's widths per layer; scaling is fixed
    assert trial["rows/dense_block/units_0"] == 128
    table = {key for key in replayed.params if key.startswith("rows/")}
    assert not {key for key in table if "units" in key or "normalization" in key}
    assert dense.config["units"] == [32, 32]
    assert replayed.params["rows/dense_block/num_layers"] == 2
    assert replayed.params["notes/representation"] == "ngram"


def test_hyperblock_first_trials_keep_blocks_with_overlapping_names_apart():
    first, second = sknas.TabularInput(), sknas.TabularInput()
    blocks = [sknas.TabularBlock(name="t")(first), sknas.TabularBlock(name="t2")(second)]
    graph = Graph([first, second], sknas.RegressionHead()(sknas.Merge()(blocks)))
    trials = presets.hyperblock_first_trials(graph, 5000, [TABLE, NUMERIC])
    table = presets.tabular_first_trials(tabular_graph("regression"), 5000, TABLE)
    numeric = presets.tabular_first_trials(tabular_graph("regression"), 5000, NUMERIC)
    for trial, one, two in zip(trials, table, numeric, strict=True):
        for name, preset in (("t", one), ("t2", two)):
            mine = {k.split("/", 1)[1]: v for k, v in trial.items() if k.startswith(f"{name}/")}
            assert mine == {
                k.split("/", 1)[1]: v for k, v in preset.items() if k.startswith("tabular_block_1/")
            }


def test_hyperblock_first_trials_weigh_ngrams_of_each_block_that_classifies():
    """Each TextBlock feeding one classification head gets the classifier's first trials (the
    linear one on naive Bayes weighted n-grams); one feeding a regression head does not."""
    texts = [sknas.TextInput(name=f"text{i}") for i in range(3)]
    heads = [
        sknas.ClassificationHead(name="a")(sknas.TextBlock(name="ta")(texts[0])),
        sknas.ClassificationHead(name="b")(sknas.TextBlock(name="tb")(texts[1])),
        sknas.RegressionHead(name="c")(sknas.TextBlock(name="tc")(texts[2])),
    ]
    trials = presets.hyperblock_first_trials(Graph(texts, heads), 100, [None] * 3)
    assert [trial.get("ta/nb_weighting") for trial in trials[:2]] == [False, True]
    assert [trial.get("tb/nb_weighting") for trial in trials[:2]] == [False, True]
    assert not any(key.startswith("tc/nb") for trial in trials for key in trial)


def test_hyperblock_first_trials_decay_a_text_regressors_linear_model_more():
    """A text regressor's linear first trial decays its weights by 3e-4; a classifier's, and
    that of a text block feeding two heads, by 1e-5 as the other text trials do."""

    def decays(graph):
        trials = presets.hyperblock_first_trials(graph, 500, [None])
        return [trial["training/weight_decay"] for trial in trials]

    assert decays(presets.text_graph("regression")) == [1e-5, 3e-4, 1e-5, 1e-5]
    assert decays(presets.text_graph("classification")) == [1e-5] * 4
    text = sknas.TextInput()
    trunk = sknas.TextBlock()(text)
    two_heads = Graph(text, [sknas.RegressionHead()(trunk), sknas.RegressionHead()(trunk)])
    assert decays(two_heads) == [1e-5] * 4


def test_graphs_without_hyperblocks_on_inputs_have_no_first_trials():
    inp = sknas.TabularInput()
    graph = Graph(inp, sknas.RegressionHead()(sknas.DenseBlock()(inp)))
    assert presets.hyperblock_first_trials(graph, 500, [NUMERIC]) == []


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


def _space_imports(root: Path) -> dict[str, set[str]]:
    """Module -> the sknas.space modules it imports, anywhere in its source (type-checking
    and function-level imports included), with the packages such an import runs first."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = ("sknas", "space", *path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules[name] = (path, name if is_package else name.rpartition(".")[0])
    imports: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, package) in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                origin = node.module or ""
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    origin = ".".join([*base, *([node.module] if node.module else [])])
                targets = [origin, *(f"{origin}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                # importing a.b.c runs a, a.b and a.b.c; the packages holding the importer
                # are already being imported
                pieces = target.split(".")
                for depth in range(1, len(pieces) + 1):
                    step = ".".join(pieces[:depth])
                    if step in modules and step != name and not name.startswith(step + "."):
                        imports[name].add(step)
    return imports


def _cycle(imports: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as a list of modules that ends where it starts, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "active"
        path.append(module)
        for target in sorted(imports[module]):
            if state.get(target) == "active":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(imports):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_imports_inside_space_run_one_way():
    imports = _space_imports(Path(sknas.space.__file__).parent)
    assert {"sknas.space.sampling", "sknas.space.spec"} <= imports["sknas.space.blocks.base"]
    assert "sknas.space.blocks" in imports["sknas.space.graph"], "a package import runs it"
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    cycle = _cycle(imports)
    assert cycle is None, f"import cycle inside sknas.space: {' -> '.join(cycle)}"


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


def test_tabular_block_searches_tabm_only_where_it_feeds_heads():
    inp = sknas.TabularInput()
    merged = sknas.Merge()([sknas.TabularBlock()(inp), sknas.DenseBlock()(inp)])
    graph = Graph(inp, sknas.ClassificationHead()(merged))
    for seed in range(10):
        trial = random_trial(seed)
        spec = sample(graph, trial, [TABLE], TrainingSpace())
        assert "tabular_block_1/backbone" not in trial.params
        assert "tabular_block_1/dense_block" in [n.name for n in spec.nodes]


@pytest.mark.parametrize(
    ("backbone", "num_layers", "into_merge"),
    [("tabm", None, True), (sknas.Choice(["mlp", "tabm"]), None, True), ("tabm", 0, False)],
)
def test_tabm_where_it_cannot_be_built_is_a_clear_error(backbone, num_layers, into_merge):
    inp = sknas.TabularInput()
    block = sknas.TabularBlock(backbone=backbone, num_layers=num_layers)(inp)
    out = sknas.Merge()([block, sknas.DenseBlock()(inp)]) if into_merge else block
    graph = Graph(inp, sknas.ClassificationHead()(out))
    with pytest.raises(sknas.GraphError, match=r"TabularBlock\(backbone=.*feed heads only"):
        sample(graph, random_trial(), [TABLE], TrainingSpace())


def test_a_linear_tabular_block_keeps_the_dense_backbone():
    inp = sknas.TabularInput()
    graph = Graph(inp, sknas.ClassificationHead()(sknas.TabularBlock(num_layers=0)(inp)))
    for seed in range(5):
        spec = sample(graph, random_trial(seed), [TABLE], TrainingSpace())
        assert spec.nodes[4].type == "dense_block"
        assert spec.nodes[4].config["units"] == []


def test_a_learned_input_scale_is_off_by_default_and_searched_where_asked():
    name = "tabular_block_1/dense_block/input_scale"
    for seed in range(10):
        trial = random_trial(seed)
        spec = sample(tabular_graph("classification"), trial, [TABLE], TrainingSpace())
        assert name not in trial.params
        assert all(n.config["input_scale"] is False for n in spec.nodes if n.type == "dense_block")
    inp = sknas.TabularInput()
    graph = Graph(inp, sknas.ClassificationHead()(sknas.TabularBlock(input_scale=None)(inp)))
    drawn = set()
    for seed in range(20):
        trial = random_trial(seed)
        spec = sample(graph, trial, [TABLE], TrainingSpace())
        dense = [n.config for n in spec.nodes if n.type == "dense_block"]
        if dense and dense[0]["units"]:
            drawn.add(trial.params[name])
            assert dense[0]["input_scale"] is trial.params[name]
        else:
            # TabM, or a linear model: nothing to scale before
            assert name not in trial.params
    assert drawn == {False, True}
    encoded = sknas.CategoricalEncoding()(inp)
    graph = Graph(inp, sknas.ClassificationHead()(sknas.DenseBlock(input_scale=True)(encoded)))
    spec = sample(graph, random_trial(), [TABLE], TrainingSpace())
    assert spec.nodes[-2].config["input_scale"] is True


@pytest.mark.parametrize(
    "heads, searched",
    [
        ([sknas.ClassificationHead], True),
        ([sknas.RegressionHead], False),
        ([sknas.ClassificationHead, sknas.ClassificationHead], False),
    ],
)
def test_text_blocks_weigh_ngrams_for_one_classification_head_only(heads, searched):
    inp = sknas.TextInput(representation="ngram")
    trunk = sknas.TextBlock()(inp)
    graph = Graph(inp, [head()(trunk) for head in heads])
    drawn = set()
    for seed in range(8):
        trial = random_trial(seed)
        spec = sample(graph, trial, [_text_info()], TrainingSpace())
        weighted = "nb_weighting" in {node.type for node in spec.nodes}
        assert ("text_block_1/nb_weighting" in trial.params) is searched
        assert weighted == trial.params.get("text_block_1/nb_weighting", False)
        drawn.add(weighted)
    assert drawn == ({True, False} if searched else {False})


def _weighing_graph(inp, head, trunk=lambda inp: inp, **block):
    return Graph(inp, head()(sknas.TextBlock(**block)(trunk(inp))))


@pytest.mark.parametrize(
    "make, info, message",
    [
        (
            lambda **block: _weighing_graph(sknas.TextInput(), sknas.RegressionHead, **block),
            _text_info,
            r"it feeds \['regression_head'\]",
        ),
        (
            lambda **block: _weighing_graph(
                sknas.TabularInput(), sknas.ClassificationHead, **block
            ),
            lambda: NUMERIC,
            "it reads a tabular input",
        ),
        (
            lambda **block: _weighing_graph(
                sknas.TextInput(), sknas.ClassificationHead, sknas.Embedding(), **block
            ),
            _text_info,
            "it reads another block",
        ),
    ],
)
@pytest.mark.parametrize("weigh", [True, sknas.Bool()], ids=["fixed", "searched"])
def test_text_blocks_asked_to_weigh_where_they_cannot_are_clear_errors(make, info, message, weigh):
    graph = make(nb_weighting=weigh)
    with pytest.raises(sknas.GraphError, match=message):
        sample(graph, random_trial(), [info()], TrainingSpace())
