"""Export (module, TorchScript, ONNX) parity and safe bundles (save/load, damaged files)."""

import json
import pickle
import shutil

import joblib
import numpy as np
import onnxruntime
import pytest
import skops.io
import torch
from sklearn.datasets import load_diabetes, load_digits
from sklearn.preprocessing import FunctionTransformer

import sknas
from sknas.data import RegressionTarget
from sknas.io import BundleError

FAST = {"max_trials": 2, "epochs": 2, "random_state": 0, "cv": None}
TEXTS = [
    "a wonderful film with a great cast",
    "dull plot and awful acting",
    "great fun, I loved it",
    "boring, far too long",
    "brilliant and moving",
    "terrible script, bad jokes",
] * 12
LABELS = np.array(["pos", "neg"] * 36)


def _digits():
    data = load_digits()
    return data.images[:300], data.target[:300]


def _sequence_text(block):
    text = sknas.TextInput(representation="sequence", sequence_length=16, max_tokens=200)
    out = sknas.TemporalReduction()(block(sknas.Embedding()(text)))
    return sknas.AutoModel(inputs=text, outputs=sknas.ClassificationHead()(out), **FAST)


def _multi_task():
    image = sknas.ImageInput()
    merged = sknas.Merge()([sknas.ResNetBlock()(image), sknas.XceptionBlock()(image)])
    outputs = [sknas.ClassificationHead()(merged), sknas.RegressionHead()(merged)]
    return sknas.AutoModel(inputs=image, outputs=outputs, max_trials=1, epochs=1, random_state=0)


#: AutoModels on a table, by the arguments of the TabularBlock they search
TABLE_BLOCKS = {
    "tabular-plr": {
        "scaling": "robust",
        "numeric_embedding": "periodic",
        "backbone": "mlp",
        "num_layers": 2,
        "input_scale": True,
    },
    "tabular-ple": {"scaling": "quantile", "numeric_embedding": "piecewise_linear"},
    "tabular-tabm": {"numeric_embedding": "periodic", "backbone": "tabm"},
    "tabular-tabm-regressor": {"numeric_embedding": "piecewise_linear", "backbone": "tabm"},
}


def _fit(kind, mixed_frame):
    images, digits = _digits()
    if kind == "tabular-classifier":
        X, y = mixed_frame
        return sknas.NASTabularClassifier(**{**FAST, "max_trials": 4}).fit(X, y), X
    if kind in TABLE_BLOCKS:
        X, y = mixed_frame if kind != "tabular-tabm-regressor" else load_diabetes(return_X_y=True)
        head = sknas.RegressionHead() if kind.endswith("regressor") else sknas.ClassificationHead()
        inp = sknas.TabularInput()
        block = sknas.TabularBlock(**TABLE_BLOCKS[kind])
        model = sknas.AutoModel(inputs=inp, outputs=head(block(inp)), **FAST).fit(X, y)
        if TABLE_BLOCKS[kind].get("input_scale"):
            # the parity below covers the learned scale only where it has moved from one
            scales = [m.weight for m in _layers(model, "ElementwiseAffine")]
            assert scales and not any(torch.equal(s, torch.ones_like(s)) for s in scales)
        return model, X
    if kind == "tabular-cv":
        X, y = load_diabetes(return_X_y=True)
        return sknas.NASTabularRegressor(**{**FAST, "cv": 3}).fit(X, y), X
    if kind == "tabular-regressor":
        X, y = load_diabetes(return_X_y=True)
        return sknas.NASTabularRegressor(**FAST).fit(X, y), X
    if kind == "image-classifier":
        return sknas.NASImageClassifier(**FAST).fit(images, digits), images
    if kind == "image-augmented":
        # augmentation only trains: the exported network must run without it, as predict does
        image = sknas.ImageInput()
        head = sknas.ClassificationHead()(sknas.ImageBlock(augment=True, block_type="conv")(image))
        model = sknas.AutoModel(inputs=image, outputs=head, **FAST).fit(images, digits)
        kinds = [n.type for n in model.best_architecture_.nodes]
        assert "image_augmentation" in kinds
        return model, images
    if kind == "image-regressor":
        return sknas.NASImageRegressor(**FAST).fit(images, digits / 9.0), images
    if kind == "text-classifier":
        return sknas.NASTextClassifier(**{**FAST, "max_trials": 3}).fit(TEXTS, LABELS), TEXTS
    if kind == "text-regressor":
        y = np.array([len(t) for t in TEXTS], dtype=float)
        return sknas.NASTextRegressor(**FAST).fit(TEXTS, y), TEXTS
    if kind == "text-hashed":
        text = sknas.TextInput(representation="hashed")
        head = sknas.ClassificationHead()(sknas.TextBlock()(text))
        return sknas.AutoModel(inputs=text, outputs=head, **FAST).fit(TEXTS, LABELS), TEXTS
    if kind == "text-nb":
        text = sknas.TextInput(representation="ngram")
        head = sknas.ClassificationHead()(sknas.TextBlock(nb_weighting=True)(text))
        model = sknas.AutoModel(inputs=text, outputs=head, **FAST).fit(TEXTS, LABELS)
        weights = [m.blocks["text_block_1__nb_weighting"].ratio for m in _networks(model)]
        # the parity below is worth something only with ratios set from the labels
        assert weights and not any(torch.equal(w, torch.ones_like(w)) for w in weights)
        return model, TEXTS
    if kind == "text-rnn":
        return _sequence_text(sknas.RNNBlock(layer_type="lstm")).fit(TEXTS, LABELS), TEXTS
    if kind == "text-transformer":
        return _sequence_text(sknas.TransformerBlock()).fit(TEXTS, LABELS), TEXTS
    if kind == "multi-task":
        model = _multi_task().fit(images, [digits, images.mean(axis=(1, 2))])
        return model, images
    raise AssertionError(kind)


def _networks(model):
    """The trained networks of a fitted estimator: its ensemble's members, or its network."""
    module = model.model_.module_
    return list(getattr(module, "members", [module]))


def _layers(model, kind):
    """The layers of class ``kind`` in a fitted estimator's networks."""
    return [m for net in _networks(model) for m in net.modules() if type(m).__name__ == kind]


KINDS = [
    "tabular-classifier",
    "tabular-plr",
    "tabular-ple",
    "tabular-tabm",
    "tabular-tabm-regressor",
    "tabular-cv",
    "tabular-regressor",
    "image-classifier",
    "image-augmented",
    "image-regressor",
    "text-classifier",
    "text-regressor",
    "text-hashed",
    "text-nb",
    "text-rnn",
    "text-transformer",
    "multi-task",
]
_FITTED = {}


@pytest.fixture(params=KINDS)
def fitted(request, mixed_frame):
    if request.param not in _FITTED:
        _FITTED[request.param] = _fit(request.param, mixed_frame)
    return (*_FITTED[request.param], request.param)


def _reference(estimator, X):
    """What predict_proba (classification heads) and predict (regression heads) give."""
    heads = estimator.target_adapters_
    predictions = estimator.predict(X)
    predictions = predictions if len(heads) > 1 else [predictions]
    classifying = [not isinstance(a, RegressionTarget) for a in heads]
    probas = estimator.predict_proba(X) if any(classifying) else []
    probas = iter(probas if sum(classifying) > 1 else [probas])
    return [
        next(probas) if is_class else np.reshape(p, (len(p), -1))
        for is_class, p in zip(classifying, predictions)
    ]


def _as_arrays(outputs):
    outputs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    return [np.asarray(o) for o in outputs]


#: ONNX Runtime's convolution kernels sum in another order than torch's; through the ~30
#: layers of an Xception plus a ResNet, float32 rounding reaches 3e-5 on the probabilities
ONNX_TOLERANCE = {"multi-task": 5e-5}


def _assert_parity(outputs, expected, atol=1e-5):
    """Agreement to 1e-5, or to float32's own resolution (1e-6 relative) for larger values."""
    assert len(outputs) == len(expected)
    for out, ref in zip(outputs, expected):
        np.testing.assert_allclose(out, ref, atol=atol, rtol=1e-6)


def test_exported_module_torchscript_and_onnx_agree_with_predict(fitted, tmp_path):
    estimator, X, kind = fitted
    expected = _reference(estimator, X)
    model = estimator.export_model()
    assert isinstance(model, torch.nn.Module) and not model.training
    inputs = estimator.export_preprocessor()(X)
    with torch.no_grad():
        _assert_parity(_as_arrays(model(*inputs)), expected)

    sknas.io.to_torchscript(estimator, tmp_path / "model.pt", X[:5])
    scripted = torch.jit.load(str(tmp_path / "model.pt"))
    with torch.no_grad():
        _assert_parity(_as_arrays(scripted(*inputs)), expected)

    sknas.io.to_onnx(estimator, tmp_path / "model.onnx", X[:5])
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    names = [i.name for i in session.get_inputs()]
    assert names == list(estimator.best_architecture_.inputs)
    feeds = {name: tensor.numpy() for name, tensor in zip(names, inputs)}
    _assert_parity(session.run(None, feeds), expected, atol=ONNX_TOLERANCE.get(kind, 1e-5))


def test_bundle_round_trip_predicts_the_same(fitted, tmp_path):
    estimator, X, _ = fitted
    sknas.save(estimator, tmp_path / "bundle")
    loaded = sknas.load(tmp_path / "bundle")
    assert type(loaded) is type(estimator)
    for got, ref in zip(_reference(loaded, X), _reference(estimator, X)):
        np.testing.assert_array_equal(got, ref)
    predicted = loaded.predict(X)
    for got, ref in zip(_as_arrays(predicted), _as_arrays(estimator.predict(X))):
        np.testing.assert_array_equal(got, ref)
    assert loaded.best_params_ == estimator.best_params_
    assert loaded.best_score_ == estimator.best_score_
    assert loaded.leaderboard_["number"].tolist() == estimator.leaderboard_["number"].tolist()
    assert str(loaded.best_architecture_) == str(estimator.best_architecture_)
    # pickle and joblib keep working beside bundles
    again = pickle.loads(pickle.dumps(loaded))
    joblib.dump(again, tmp_path / "model.joblib")
    restored = joblib.load(tmp_path / "model.joblib")
    for got, ref in zip(_as_arrays(restored.predict(X)), _as_arrays(predicted)):
        np.testing.assert_array_equal(got, ref)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, iris):
    X, y = iris
    estimator = sknas.NASTabularClassifier(cv=None, max_trials=1, epochs=2, random_state=0).fit(
        X, y
    )
    folder = tmp_path_factory.mktemp("bundles") / "iris"
    sknas.save(estimator, folder, data={"target": "species"})
    return folder, estimator


def _copy(bundle, tmp_path):
    return shutil.copytree(bundle[0], tmp_path / "copy")


def _rehash(folder):
    metadata = json.loads((folder / "sknas.json").read_text())
    metadata["files"] = {f: sknas.io._sha256(folder / f) for f in metadata["files"]}
    (folder / "sknas.json").write_text(json.dumps(metadata))


def test_bundle_layout_is_json_and_safetensors(bundle):
    folder, estimator = bundle
    assert sorted(p.name for p in folder.iterdir()) == [
        "preprocessing.skops",
        "sknas.json",
        "study.json",
        "weights.safetensors",
    ]
    metadata = sknas.io.bundle_metadata(folder)
    assert metadata["format"] == sknas.io.FORMAT and metadata["sknas"] == sknas.__version__
    assert metadata["torch"] == torch.__version__
    assert metadata["estimator"] == "NASTabularClassifier"
    assert metadata["architecture"] == json.loads(estimator.best_architecture_.to_json())
    assert metadata["data"] == {"target": "species"}


def test_corrupted_weights_are_refused(bundle, tmp_path):
    folder = _copy(bundle, tmp_path)
    weights = folder / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"weights.safetensors .* corrupted or changed"):
        sknas.load(folder)


def test_truncated_preprocessing_is_refused(bundle, tmp_path):
    folder = _copy(bundle, tmp_path)
    file = folder / "preprocessing.skops"
    file.write_bytes(file.read_bytes()[:100])
    with pytest.raises(BundleError, match="corrupted or changed: its SHA-256 differs"):
        sknas.load(folder)


def test_damaged_or_missing_metadata_is_refused(bundle, tmp_path):
    folder = _copy(bundle, tmp_path)
    (folder / "sknas.json").write_text("{not json")
    with pytest.raises(BundleError, match="damaged"):
        sknas.load(folder)
    with pytest.raises(BundleError, match="not an sknas model bundle"):
        sknas.load(tmp_path)


def test_a_newer_format_is_refused(bundle, tmp_path):
    folder = _copy(bundle, tmp_path)
    metadata = json.loads((folder / "sknas.json").read_text())
    metadata["format"] = 99
    (folder / "sknas.json").write_text(json.dumps(metadata))
    with pytest.raises(BundleError, match=r"format 99.*Upgrade sknas"):
        sknas.load(folder)


def test_weights_that_do_not_match_the_architecture_are_refused(bundle, tmp_path, diabetes):
    folder = _copy(bundle, tmp_path)
    X, y = diabetes
    other = sknas.NASTabularRegressor(cv=None, max_trials=1, epochs=1, random_state=0).fit(X, y)
    sknas.save(other, tmp_path / "other")
    shutil.copy(tmp_path / "other" / "weights.safetensors", folder / "weights.safetensors")
    _rehash(folder)
    with pytest.raises(BundleError, match="do not match the bundle's architecture"):
        sknas.load(folder)


def test_preprocessing_with_foreign_types_is_refused(bundle, tmp_path):
    folder = _copy(bundle, tmp_path)
    evil = FunctionTransformer(func=shutil.rmtree)
    skops.io.dump({"inputs": [evil], "targets": []}, folder / "preprocessing.skops")
    _rehash(folder)
    with pytest.raises(BundleError, match=r"never writes: \['shutil.rmtree', 'sklearn"):
        sknas.load(folder)


def test_a_model_saved_for_cuda_loads_on_the_cpu(bundle, tmp_path):
    folder = _copy(bundle, tmp_path)
    metadata = json.loads((folder / "sknas.json").read_text())
    metadata["params"]["device"] = "cuda"
    (folder / "sknas.json").write_text(json.dumps(metadata))
    loaded = sknas.load(folder)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert str(next(loaded.model_.module_.parameters()).device).startswith(expected)
    X = np.zeros((2, 4))
    assert loaded.predict(X).shape == (2,)


def test_save_needs_a_fitted_sknas_estimator(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        sknas.save(sknas.NASTabularClassifier(), tmp_path / "b")
