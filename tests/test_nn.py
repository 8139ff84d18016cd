"""Module building: every registered block builds, runs forward and backward, round-trips."""

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
from sklearn.preprocessing import QuantileTransformer, RobustScaler, StandardScaler

import sknas
from sknas.data import ImageAdapter, TabularAdapter, TextAdapter
from sknas.nn import GraphModule, count_parameters
from sknas.nn.builder import BUILDERS
from sknas.nn.layers.tabular import NumericScaler
from sknas.space import ArchitectureSpec, Graph, TensorInfo, TrainingSpace, registry
from sknas.space import sample_architecture as sample
from sknas.training.net import MultiTaskLoss, StandardizedMSELoss, TrainingCrossEntropy


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=64),
            "b": rng.exponential(size=64),
            "c": rng.choice(["x", "y", "z"], size=64),
        }
    )
    adapter = TabularAdapter().fit(frame)
    return torch.as_tensor(adapter.transform(frame)), adapter.info_


CLASSES = TensorInfo("classification", (3,))
VALUES = TensorInfo("regression", (2,), {"mean": [1.0, -1.0], "scale": [2.0, 0.5]})
IMAGE_BLOCKS = {
    "image_input",
    "image_block",
    "image_augmentation",
    "conv_block",
    "resnet_block",
    "xception_block",
    "spatial_reduction",
}


TEXT_BLOCKS = {
    "text_input",
    "text_block",
    "embedding",
    "ngram_embedding",
    "nb_weighting",
    "rnn_block",
    "transformer_block",
    "temporal_reduction",
}
TEXTS = [
    "free entry to win a prize now",
    "see you at lunch tomorrow",
    "call me when you land",
    "winner! claim your reward today",
    "",
    "ok \N{THUMBS UP SIGN} thanks",
] * 3


@pytest.fixture(scope="module")
def texts():
    return TextAdapter().fit(TEXTS)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(16, 12, 12, 3), dtype=np.uint8)
    adapter = ImageAdapter().fit(pixels)
    return torch.as_tensor(adapter.transform(pixels)), adapter.info_


def graph_with(type_name):
    """A small graph that uses the block registered as ``type_name``."""
    cls = registry.get(type_name)
    if type_name in TEXT_BLOCKS:
        inp = sknas.TextInput()
        if type_name in ("text_input", "text_block"):
            trunk = sknas.TextBlock()(inp)
        elif type_name == "ngram_embedding":
            trunk = cls()(inp)
        elif type_name == "nb_weighting":
            inp = sknas.TextInput(representation="ngram")
            trunk = sknas.DenseBlock()(cls()(inp))
        else:
            hidden = sknas.Embedding()(inp)
            if type_name in ("rnn_block", "transformer_block"):
                hidden = cls()(hidden)
            trunk = sknas.TemporalReduction()(hidden)
        return Graph(inp, sknas.ClassificationHead()(trunk))
    if type_name in IMAGE_BLOCKS:
        inp = sknas.ImageInput()
        if type_name in ("image_input", "image_block"):
            trunk = sknas.ImageBlock()(inp)
        elif type_name == "spatial_reduction":
            trunk = cls()(sknas.ConvBlock()(inp))
        else:
            trunk = cls()(sknas.Normalization()(inp))
        return Graph(inp, sknas.ClassificationHead()(trunk))
    inp = sknas.TabularInput()
    encoded = sknas.CategoricalEncoding()(sknas.Normalization()(inp))
    if type_name in ("tabular_input", "tabular_block"):
        trunk = sknas.TabularBlock()(inp)
    elif type_name in ("normalization", "categorical_encoding"):
        trunk = encoded
    elif type_name == "numeric_embedding":
        embedded = cls(method="periodic")(sknas.Normalization(method="robust")(inp))
        trunk = sknas.CategoricalEncoding()(embedded)
    elif type_name == "merge":
        trunk = cls()([sknas.DenseBlock()(encoded), sknas.DenseBlock()(encoded)])
    elif issubclass(cls, sknas.space.blocks.Head):
        trunk = encoded
    else:
        trunk = cls()(encoded)
    head = sknas.RegressionHead() if type_name == "regression_head" else sknas.ClassificationHead()
    return Graph(inp, head(trunk))


@pytest.mark.parametrize("type_name", registry.names())
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_block_builds_runs_and_learns(type_name, seed, table, images, texts):
    graph = graph_with(type_name)
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed)).ask()
    if type_name in TEXT_BLOCKS:
        spec = sample(graph, trial, [texts.info_for], TrainingSpace())
        config = spec.input_configs()[0]
        X, info = texts.transform(TEXTS, config), texts.info_for(config)
        X = torch.as_tensor(X.toarray() if hasattr(X, "toarray") else X)
    else:
        X, info = images if type_name in IMAGE_BLOCKS else table
        spec = sample(graph, trial, [info], TrainingSpace())
    kinds = {n.type for n in spec.nodes} | {n.name.split("/")[0][:-2] for n in spec.nodes}
    assert type_name in kinds
    target = VALUES if graph.heads[0].task == "regression" else CLASSES
    module = GraphModule(spec, [info], [target])
    out = module(X)
    # in training mode a TabM network returns each member's output
    members = [n.config["k"] for n in spec.nodes if n.type == "tabm_block"]
    assert out.shape == (len(X), *members, target.shape[0])
    out.sum().backward()
    grads = [p.grad for p in module.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads)
    assert count_parameters(module) > 0
    rebuilt = GraphModule(ArchitectureSpec.from_json(spec.to_json()), [info], [target])
    rebuilt.load_state_dict(module.state_dict())
    module.eval()
    rebuilt.eval()
    torch.testing.assert_close(rebuilt(X), module(X))


def test_robust_scaling_clips_smoothly():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.standard_cauchy(size=300), rng.normal(size=300)])
    robust = RobustScaler(unit_variance=True).fit(X)
    scaler = NumericScaler(
        "robust", {"median": robust.center_.tolist(), "iqr_scale": robust.scale_.tolist()}
    )
    got = scaler(torch.as_tensor(X, dtype=torch.float32)).numpy()
    z = robust.transform(X)
    np.testing.assert_allclose(got, z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-5, atol=1e-5)
    # outliers end below 3, small values barely move
    assert np.abs(got).max() < 3.0 and np.abs(z).max() > 30
    small = np.abs(z) < 0.3
    np.testing.assert_allclose(got[small], z[small], atol=2e-3)


def test_robust_scaling_divides_a_column_without_spread_by_half_its_range():
    # a capital gain: zero in most rows, so its interquartile range is zero
    gain = np.r_[np.zeros(90), [500, 1000, 2000, 5000, 8000, 10000, 15000, 20000, 50000, 100000]]
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"gain": gain, "age": rng.normal(40, 10, 100), "flat": np.full(100, 7.0)})
    adapter = TabularAdapter().fit(X)
    stats = adapter.info_.meta["stats"]
    robust = RobustScaler(unit_variance=True).fit(X)
    np.testing.assert_allclose(stats["iqr_scale"][0], 100000 / 2)
    np.testing.assert_allclose(stats["iqr_scale"][1], robust.scale_[1], rtol=1e-5)
    got = NumericScaler("robust", stats)(torch.as_tensor(adapter.transform(X))).numpy()
    z = gain[90:] / 50000
    np.testing.assert_allclose(got[90:, 0], z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-5)
    # the gains stay apart instead of every one clipping to about 3; a constant column is 0
    assert np.all(np.diff(got[90:, 0]) > 0.005) and np.all(got[:90, 0] == 0.0)
    assert np.all(got[:, 2] == 0.0)


def test_periodic_embeddings_replace_the_numeric_columns(table):
    X, info = table
    built, out = BUILDERS["numeric_embedding"](
        {"method": "periodic", "embedding_dim": 4, "frequency_scale": 0.5}, [info], None
    )
    n = info.meta["n_numerical"]
    assert out.meta["n_numerical"] == 4 * n
    assert out.meta["cardinalities"] == info.meta["cardinalities"]
    assert built(X).shape == (len(X), out.shape[0])
    # the categorical codes pass through unchanged, after the embeddings
    torch.testing.assert_close(built(X)[:, 4 * n :], X[:, n:])
    identity, same = BUILDERS["numeric_embedding"]({"method": "none"}, [info], None)
    assert same == info and torch.equal(identity(X), X)


@pytest.mark.parametrize("method", ["standard", "quantile", "robust"])
def test_piecewise_linear_embeddings_cut_scaled_values_at_the_scaled_quantiles(table, method):
    X, info = table
    scaler, scaled = BUILDERS["normalization"]({"method": method}, [info], None)
    raw = info.meta["stats"]["bins"]
    n = info.meta["n_numerical"]
    assert len(raw) == n and all(np.all(np.diff(edges) > 0) for edges in raw)
    # 64 rows: up to 48 bins from the quantiles, from the smallest value to the largest
    assert len(raw[0]) == 49 and raw[0][0] == pytest.approx(X[:, 0].min().item())
    built, out = BUILDERS["numeric_embedding"](
        {"method": "piecewise_linear", "embedding_dim": 4}, [scaled], None
    )
    assert out.shape == (info.shape[0] + 3 * n,) and "bins" not in out.meta
    encoding = built.embeddings.impl
    for column, edges in enumerate(scaled.meta["bins"]):
        # the edges are the raw ones mapped through the scaler, which is increasing
        padded = torch.zeros(len(raw[column]), info.shape[0])
        padded[:, column] = torch.tensor(raw[column])
        mapped = scaler(padded)[:, column]
        np.testing.assert_allclose(edges, torch.unique(mapped).numpy(), rtol=1e-6)
        # a value at the k-th edge fills the first k bins and leaves the others empty
        k = len(edges) // 2
        x = torch.zeros(1, n)
        x[0, column] = edges[k]
        code = encoding(x)[0, column, : len(edges) - 1]
        torch.testing.assert_close(code[:k], torch.ones(k))
        torch.testing.assert_close(code[k:], torch.zeros(len(edges) - 1 - k))
    assert built(scaler(X)).shape == (len(X), out.shape[0])


def test_a_constant_column_gets_one_bin():
    from sknas.data.tabular import quantile_bins

    bins = quantile_bins(np.column_stack([np.full(10, 2.0), np.arange(10.0)]))
    assert bins[0] == [2.0, 3.0] and bins[1][0] == 0.0 and bins[1][-1] == 9.0


def test_standard_and_quantile_scaling_match_scikit_learn():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.exponential(size=300), rng.integers(0, 4, size=300)])
    quantile = QuantileTransformer(n_quantiles=100, output_distribution="normal").fit(X)
    scaler = NumericScaler(
        "quantile",
        {"quantiles": quantile.quantiles_.tolist(), "references": quantile.references_.tolist()},
    )
    X_test = np.vstack([X[:50], [[-1.0, 9.0]]])
    got = scaler(torch.as_tensor(X_test, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(got, quantile.transform(X_test), atol=2e-3)
    standard = StandardScaler().fit(X)
    scaler = NumericScaler(
        "standard", {"mean": standard.mean_.tolist(), "scale": standard.scale_.tolist()}
    )
    got = scaler(torch.as_tensor(X_test, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(got, standard.transform(X_test), rtol=1e-5, atol=1e-5)


def test_regression_head_outputs_target_units(table):
    X, info = table
    inp = sknas.TabularInput()
    graph = Graph(inp, sknas.RegressionHead(dropout=0.0)(sknas.TabularBlock(backbone="mlp")(inp)))
    trial = optuna.create_study().ask()
    module = GraphModule(sample(graph, trial, [info], TrainingSpace()), [info], [VALUES])
    head = module.blocks["regression_head_1"]
    torch.nn.init.zeros_(head.body[-1].weight)
    torch.nn.init.zeros_(head.body[-1].bias)
    torch.testing.assert_close(module(X)[0], torch.tensor([1.0, -1.0]))


def test_shape_errors_name_the_block(table):
    _, info = table
    inp = sknas.TabularInput()
    graph = Graph(inp, sknas.ClassificationHead()(sknas.DenseBlock()(inp)))
    spec = sample(graph, optuna.create_study().ask(), [info], TrainingSpace())
    with pytest.raises(sknas.GraphError, match=r"dense_block_1: .*CategoricalEncoding"):
        GraphModule(spec, [info], [CLASSES])
    graph = Graph(inp, sknas.ClassificationHead()(sknas.TabularBlock()(inp)))
    spec = sample(graph, optuna.create_study().ask(), [info], TrainingSpace())
    with pytest.raises(sknas.GraphError, match=r"classification_head_1: .*classification target"):
        GraphModule(spec, [info], [VALUES])


def test_conv_block_runs_over_token_sequences(texts):
    inp = sknas.TextInput(representation="sequence", sequence_length=16)
    hidden = sknas.ConvBlock(kernel_size=3, max_pooling=True)(sknas.Embedding()(inp))
    graph = Graph(inp, sknas.ClassificationHead()(sknas.TemporalReduction()(hidden)))
    spec = sample(graph, optuna.create_study().ask(), [texts.info_for], TrainingSpace())
    config = spec.input_configs()[0]
    module = GraphModule(spec, [texts.info_for(config)], [CLASSES])
    out = module(torch.as_tensor(texts.transform(TEXTS, config)))
    assert out.shape == (len(TEXTS), 3)


def test_sequence_blocks_need_an_embedding(texts):
    inp = sknas.TextInput(representation="ngram")
    graph = Graph(inp, sknas.ClassificationHead()(sknas.RNNBlock()(inp)))
    spec = sample(graph, optuna.create_study().ask(), [texts.info_for], TrainingSpace())
    info = texts.info_for(spec.input_configs()[0])
    with pytest.raises(sknas.GraphError, match=r"rnn_block_1: .*Put an Embedding first"):
        GraphModule(spec, [info], [CLASSES])


def test_normal_quantile_matches_torch_to_double_precision():
    from sknas.nn.layers.tabular import ndtri

    p = torch.cat(
        [
            torch.linspace(1e-7, 1 - 1e-7, 20001, dtype=torch.float64),
            torch.tensor([1e-7, 0.075, 0.5, 0.925, 1 - 1e-7], dtype=torch.float64),
        ]
    )
    torch.testing.assert_close(ndtri(p), torch.special.ndtri(p), rtol=0, atol=1e-12)


def _tabm_network(info, target, head, embedding="none"):
    inp = sknas.TabularInput()
    scaled = sknas.Normalization(method="robust")(inp)
    embedded = sknas.NumericEmbedding(method=embedding, embedding_dim=8)(scaled)
    trunk = sknas.CategoricalEncoding(method="one_hot")(embedded)
    members = sknas.TabMBlock(k=4, num_layers=2, num_units=16, dropout=0.0, architecture="tabm")(
        trunk
    )
    graph = Graph(inp, head(dropout=0.0)(members))
    spec = sample(graph, optuna.create_study().ask(), [info], TrainingSpace())
    return GraphModule(spec, [info], [target])


MULTI_LABEL = TensorInfo("classification", (3,), {"multi_label": True})


@pytest.mark.parametrize(
    ("target", "head", "average"),
    [
        (CLASSES, sknas.ClassificationHead, lambda z: torch.softmax(z, -1).mean(1).log()),
        (MULTI_LABEL, sknas.ClassificationHead, lambda z: torch.sigmoid(z).mean(1).logit()),
        (
            VALUES,
            sknas.RegressionHead,
            lambda z: (z * torch.tensor([2.0, 0.5]) + torch.tensor([1.0, -1.0])).mean(1),
        ),
    ],
)
def test_tabm_members_train_apart_and_predict_their_average(table, target, head, average):
    X, info = table
    module = _tabm_network(info, target, head)
    trunk = torch.nn.Sequential(
        *(module.blocks[key] for key in module.blocks if not key.endswith("head_1"))
    )
    output_layer = module.blocks[list(module.blocks)[-1]].body
    units = (torch.tensor([2.0, 0.5]), torch.tensor([1.0, -1.0])) if target is VALUES else (1, 0)
    member_outputs = output_layer(trunk(X)) * units[0] + units[1]
    # training mode: each member's raw output, (rows, members, outputs)
    assert member_outputs.shape == (len(X), 4, 3 if target is not VALUES else 2)
    torch.testing.assert_close(module(X), member_outputs)
    module.eval()
    with torch.no_grad():
        torch.testing.assert_close(module(X), average(output_layer(trunk(X))))


def test_losses_average_the_members_losses():
    torch.manual_seed(0)
    k, n = 4, 6
    logits = torch.randn(n, k, 3)
    labels = torch.randint(0, 3, (n,))
    by_member = torch.stack(
        [torch.nn.functional.cross_entropy(logits[:, m], labels) for m in range(k)]
    )
    torch.testing.assert_close(TrainingCrossEntropy()(logits, labels), by_member.mean())
    smoothed = TrainingCrossEntropy(label_smoothing=0.1)
    smoothed_by_member = [
        torch.nn.functional.cross_entropy(logits[:, m], labels, label_smoothing=0.1)
        for m in range(k)
    ]
    torch.testing.assert_close(smoothed(logits, labels), torch.stack(smoothed_by_member).mean())
    values, y = torch.randn(n, k, 2), torch.randn(n, 2)
    scale = torch.tensor([2.0, 0.5])
    expected = torch.stack([(((values[:, m] - y) / scale) ** 2).mean() for m in range(k)]).mean()
    torch.testing.assert_close(StandardizedMSELoss([2.0, 0.5])(values, y), expected)
    multi = MultiTaskLoss(["a", "b"], [CLASSES.to_dict(), VALUES.to_dict()], [1.0, 1.0])
    torch.testing.assert_close(
        multi((logits, values), {"a": labels, "b": y}), by_member.mean() + expected
    )
    # a network without members: (rows, outputs), unchanged
    plain = torch.nn.functional.cross_entropy(logits[:, 0], labels)
    torch.testing.assert_close(TrainingCrossEntropy()(logits[:, 0], labels), plain)


def test_tabm_first_scaling_is_one_value_per_embedded_column(table):
    _, info = table
    module = _tabm_network(info, CLASSES, sknas.ClassificationHead, embedding="periodic")
    first = next(m for m in module.modules() if hasattr(m, "r")).r
    # two numeric columns embedded 8 wide, then the one-hot column of 4 codes
    assert first.shape == (4, 2 * 8 + 4)
    for start, width in [(0, 8), (8, 8), (16, 4)]:
        chunk = first[:, start : start + width]
        torch.testing.assert_close(chunk, chunk[:, :1].expand_as(chunk))
    assert not torch.allclose(first[:, 0], first[:, 8])


def test_tabm_first_scaling_is_random_signs_without_numeric_embeddings(table):
    _, info = table
    module = _tabm_network(info, CLASSES, sknas.ClassificationHead)
    first = next(m for m in module.modules() if hasattr(m, "r")).r
    # two numeric columns, then the one-hot column of 4 codes sharing one sign
    assert first.shape == (4, 2 + 4)
    torch.testing.assert_close(first.abs(), torch.ones_like(first))
    torch.testing.assert_close(first[:, 2:], first[:, 2:3].expand(4, 4))


def test_input_scale_learns_one_factor_per_input_value_from_one(table):
    X, info = table
    inp = sknas.TabularInput()
    trunk = sknas.CategoricalEncoding(method="one_hot")(sknas.Normalization()(inp))
    block = sknas.DenseBlock(num_layers=1, num_units=8, input_scale=True)
    graph = Graph(inp, sknas.ClassificationHead(dropout=0.0)(block(trunk)))
    spec = sample(graph, optuna.create_study().ask(), [info], TrainingSpace())
    module = GraphModule(spec, [info], [CLASSES])
    scale = next(m for m in module.modules() if type(m).__name__ == "ElementwiseAffine").weight
    # two numeric columns, then the one-hot column of 4 codes
    torch.testing.assert_close(scale.detach(), torch.ones(2 + 4))
    y = torch.as_tensor(np.arange(len(X)) % 3)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.05)
    for _ in range(20):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(X), y).backward()
        optimizer.step()
    assert not torch.allclose(scale.detach(), torch.ones(6))


def test_tabm_members_feed_heads_only(table):
    _, info = table
    inp = sknas.TabularInput()
    trunk = sknas.CategoricalEncoding()(sknas.Normalization()(inp))
    graph = Graph(inp, sknas.ClassificationHead()(sknas.DenseBlock()(sknas.TabMBlock()(trunk))))
    spec = sample(graph, optuna.create_study().ask(), [info], TrainingSpace())
    with pytest.raises(sknas.GraphError, match=r"dense_block_1: .*TabMBlock.*ClassificationHead"):
        GraphModule(spec, [info], [CLASSES])


def test_naive_bayes_weighting_scales_by_its_ratios_once_set():
    from sknas.nn.layers.text import LogCountRatio

    layer = LogCountRatio(3)
    x = torch.tensor([[2.0, 1.0, 4.0]])
    torch.testing.assert_close(layer(x), x)
    assert not layer.fitted
    layer.set_ratios(np.array([0.5, 2.0, 0.0]))
    assert layer.fitted and layer.ratio.dtype == torch.float32
    torch.testing.assert_close(layer(x), torch.tensor([[1.0, 2.0, 0.0]]))
    assert set(layer.state_dict()) == {"ratio", "fitted"}


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda inp: sknas.RegressionHead()(
                sknas.DenseBlock()(sknas.NaiveBayesWeighting()(inp))
            ),
            "a regression head",
        ),
        (
            lambda inp: sknas.ClassificationHead()(
                sknas.NaiveBayesWeighting()(sknas.NaiveBayesWeighting()(inp))
            ),
            "must read a TextInput directly",
        ),
        (
            lambda inp: [
                sknas.ClassificationHead(name=name)(trunk)
                for trunk in [sknas.DenseBlock()(sknas.NaiveBayesWeighting()(inp))]
                for name in ("a", "b")
            ],
            r"feeds \['a', 'b'\]",
        ),
    ],
)
def test_naive_bayes_weighting_needs_the_input_and_one_classification_head(make, message, texts):
    inp = sknas.TextInput(representation="ngram")
    graph = Graph(inp, make(inp))
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(0)).ask()
    spec = sample(graph, trial, [texts.info_for], TrainingSpace())
    target = VALUES if graph.heads[0].task == "regression" else CLASSES
    with pytest.raises(sknas.GraphError, match=message):
        GraphModule(spec, [texts.info_for(spec.input_configs()[0])], [target] * len(graph.heads))
