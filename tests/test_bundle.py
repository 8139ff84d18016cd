"""Bundle checks: signatures (authenticity), the exact skops types, and sknas.json's values."""

import io
import json
import shutil
import zipfile

import numpy as np
import pytest
import skops.io
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

import sknas
from sknas.data import (
    ClassificationTarget,
    ImageAdapter,
    MultiLabelTarget,
    RegressionTarget,
    TabularAdapter,
    TextAdapter,
)
from sknas.io import NODE_KINDS, TRUSTED_TYPES, BundleError

KEY = b"0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def fitted(mixed_frame):
    X, y = mixed_frame
    estimator = sknas.NASTabularClassifier(cv=None, max_trials=1, epochs=1, random_state=0).fit(
        X, y
    )
    return estimator, X


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundles") / "plain"
    sknas.save(fitted[0], folder, data={"target": "species"})
    return folder


@pytest.fixture
def folder(saved, tmp_path):
    return shutil.copytree(saved, tmp_path / "copy")


def _edit(folder, change):
    """Apply ``change`` to sknas.json's content; the file digests stay valid."""
    metadata = json.loads((folder / "sknas.json").read_text())
    change(metadata)
    (folder / "sknas.json").write_text(json.dumps(metadata))


def _rehash(folder):
    _edit(
        folder,
        lambda m: m.update(files={f: sknas.io._sha256(folder / f) for f in m["files"]}),
    )


# -- signatures -------------------------------------------------------------------------------


def test_a_signed_bundle_round_trips_with_its_key(fitted, tmp_path):
    estimator, X = fitted
    sknas.save(estimator, tmp_path / "signed", key=KEY)
    assert (tmp_path / "signed" / "signature.json").is_file()
    loaded = sknas.load(tmp_path / "signed", key=KEY)
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    # a str key is its UTF-8 bytes
    sknas.save(estimator, tmp_path / "text", key="pass phrase é")
    assert sknas.io.bundle_metadata(tmp_path / "text", key="pass phrase é".encode())["format"] == (
        sknas.io.FORMAT
    )


def test_a_wrong_key_is_refused(fitted, tmp_path):
    sknas.save(fitted[0], tmp_path / "signed", key=KEY)
    with pytest.raises(BundleError, match=r"signature of the bundle .* does not match"):
        sknas.load(tmp_path / "signed", key=b"another key")


def test_a_key_for_an_unsigned_bundle_is_refused(folder):
    with pytest.raises(BundleError, match=r"a key was given but the bundle .* is not signed"):
        sknas.load(folder, key=KEY)


def test_a_signed_bundle_needs_its_key(fitted, tmp_path):
    sknas.save(fitted[0], tmp_path / "signed", key=KEY)
    with pytest.raises(BundleError, match=r"is signed \(signature.json\) but no key was given"):
        sknas.load(tmp_path / "signed")
    with pytest.raises(BundleError, match="no key was given"):
        sknas.io.bundle_metadata(tmp_path / "signed")


def test_the_signature_covers_every_file(fitted, tmp_path):
    signed = tmp_path / "signed"
    sknas.save(fitted[0], signed, key=KEY)
    # a valid-looking edit of sknas.json alone
    _edit(signed, lambda m: m["data"].update(target="other"))
    with pytest.raises(BundleError, match="does not match"):
        sknas.load(signed, key=KEY)
    # another file changed and its digest fixed, as anyone can without the key
    sknas.save(fitted[0], signed, key=KEY)
    study = json.loads((signed / "study.json").read_text())
    study["name"] = "edited"
    (signed / "study.json").write_text(json.dumps(study))
    _rehash(signed)
    with pytest.raises(BundleError, match="does not match"):
        sknas.load(signed, key=KEY)


def test_saving_unsigned_over_a_signed_bundle_drops_the_signature(fitted, tmp_path):
    sknas.save(fitted[0], tmp_path / "b", key=KEY)
    sknas.save(fitted[0], tmp_path / "b")
    assert not (tmp_path / "b" / "signature.json").exists()
    sknas.load(tmp_path / "b")


def test_a_damaged_signature_file_is_refused(fitted, tmp_path):
    sknas.save(fitted[0], tmp_path / "b", key=KEY)
    (tmp_path / "b" / "signature.json").write_text('{"algorithm": "MD5", "hmac": "00"}')
    with pytest.raises(BundleError, match="holds algorithm 'MD5'"):
        sknas.load(tmp_path / "b", key=KEY)
    (tmp_path / "b" / "signature.json").write_text("[1, 2]")
    with pytest.raises(BundleError, match=r"signature.json .* is damaged"):
        sknas.load(tmp_path / "b", key=KEY)


@pytest.mark.parametrize(
    ("key", "error", "match"),
    [(123, TypeError, "key must be bytes or str; received int"), (b"", ValueError, "empty")],
)
def test_a_bad_key_is_refused(fitted, tmp_path, key, error, match):
    with pytest.raises(error, match=match):
        sknas.save(fitted[0], tmp_path / "b", key=key)


def test_without_a_key_only_corruption_and_invalid_values_are_caught(folder):
    """The digests are a corruption check: a valid edit of sknas.json loads unsigned."""
    _edit(folder, lambda m: m["data"].update(target="edited"))
    assert sknas.io.bundle_metadata(folder)["data"] == {"target": "edited"}


# -- the exact skops types --------------------------------------------------------------------


def _adapters(mixed_frame):
    """Fitted adapters of every kind sknas writes: tables, images, every text representation,
    and every kind of target."""
    X, labels = mixed_frame
    images = load_digits().images[:40]
    texts = ["a wonderful film", "dull plot and awful acting", "great fun, loved it"] * 10
    configs = [
        {"representation": "ngram", "analyzer": "word", "max_tokens": 100},
        {"representation": "ngram", "analyzer": "char", "max_tokens": 100},
        {"representation": "ngram", "analyzer": "word+char", "max_tokens": 100},
        {"representation": "hashed", "analyzer": "word+char"},
    ] + [
        {"representation": "sequence", "units": u, "max_tokens": 40, "sequence_length": 8}
        for u in ("word", "char", "subword")
    ]
    inputs = [
        TabularAdapter().fit(X),
        TabularAdapter().fit(X.iloc[:, :4].to_numpy()),
        ImageAdapter().fit(images),
        ImageAdapter().fit((images * 15).astype(np.uint8)[..., None]),
    ] + [TextAdapter().fit(texts).select(config) for config in configs]
    targets = [
        ClassificationTarget().fit(labels),
        ClassificationTarget().fit(np.arange(len(labels)) % 3),
        RegressionTarget().fit(np.arange(20.0).reshape(10, 2)),
        MultiLabelTarget().fit(np.eye(3, dtype=int)[[0, 1, 2, 0]] | np.eye(3, dtype=int)[1]),
    ]
    return inputs, targets


def test_trusted_types_are_exactly_what_sknas_writes(mixed_frame, tmp_path):
    inputs, targets = _adapters(mixed_frame)
    types, kinds = set(), set()
    for adapter in inputs + targets:
        data = skops.io.dumps({"inputs": [adapter], "targets": []})
        assert set(skops.io.get_untrusted_types(data=data)) <= TRUSTED_TYPES
        found = sknas.io._skops_types(tmp_path, data)
        types |= {t for t, _ in found}
        kinds |= {k for _, k in found}
    assert types == TRUSTED_TYPES
    assert kinds <= NODE_KINDS


def test_an_sklearn_type_sknas_never_writes_is_refused(folder, iris):
    """skops trusts RandomForestClassifier by default; sknas's exact list does not."""
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(*iris)
    adapters = skops.io.load(folder / "preprocessing.skops", trusted=sorted(TRUSTED_TYPES))
    adapters["targets"].append(forest)
    data = skops.io.dumps(adapters)
    assert not any("RandomForest" in t for t in skops.io.get_untrusted_types(data=data))
    (folder / "preprocessing.skops").write_bytes(data)
    _rehash(folder)
    with pytest.raises(
        BundleError,
        match=r"never writes: \['sklearn.ensemble._forest.RandomForestClassifier'",
    ):
        sknas.load(folder)


def test_a_callable_is_refused_even_of_a_trusted_name(folder):
    file = folder / "preprocessing.skops"
    with zipfile.ZipFile(file) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = members["schema.json"].decode()
    assert '"__loader__": "TypeNode"' in schema
    members["schema.json"] = schema.replace(
        '"__loader__": "TypeNode"', '"__loader__": "FunctionNode"', 1
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    file.write_bytes(buffer.getvalue())
    _rehash(folder)
    with pytest.raises(BundleError, match=r"stores values as \['FunctionNode'\]"):
        sknas.load(folder)


def test_preprocessing_that_does_not_fit_the_architecture_is_refused(folder):
    adapters = skops.io.load(folder / "preprocessing.skops", trusted=sorted(TRUSTED_TYPES))
    adapters["inputs"] = [ImageAdapter().fit(load_digits().images[:10])]
    (folder / "preprocessing.skops").write_bytes(skops.io.dumps(adapters))
    _rehash(folder)
    with pytest.raises(BundleError, match=r"needs a fitted TabularAdapter; .* holds ImageAdapter"):
        sknas.load(folder)


# -- values of sknas.json ---------------------------------------------------------------------


def _node(metadata, kind):
    return next(n for n in metadata["architecture"]["nodes"] if n["type"] == kind)


def _set(path, value):
    """A change that sets the (nested) field ``path`` of sknas.json to ``value``."""

    def change(metadata):
        *parents, last = path
        target = metadata
        for part in parents:
            target = target[part]
        target[last] = value

    return change


INVALID = {
    "fitted-score": (_set(["fitted", "best_score_"], "high"), "fitted.best_score_ is 'high'"),
    "fitted-nan": (_set(["fitted", "best_score_"], float("nan")), "fitted.best_score_ is nan"),
    "fitted-features": (_set(["fitted", "n_features_in_"], -3), "fitted.n_features_in_ is -3"),
    "fitted-flag": (_set(["fitted", "search_interrupted_"], "no"), "search_interrupted_ is 'no'"),
    "fitted-seconds": (_set(["fitted", "fit_seconds_"], -1.0), "fitted.fit_seconds_ is -1.0"),
    "fitted-status": (_set(["fitted", "refit_status_"], "hacked"), "refit_status_ is 'hacked'"),
    "fitted-names": (_set(["fitted", "feature_names_in_"], ["a", 3]), "feature_names_in_ is"),
    "fitted-names-count": (
        _set(["fitted", "feature_names_in_"], ["a", "b"]),
        r"allowed: 7 names \(fitted.n_features_in_\)",
    ),
    "fitted-unknown": (_set(["fitted", "predict"], 1), "fitted is 'predict'"),
    "param-value": (_set(["params", "max_trials"], -1), "'max_trials' parameter .* Got -1"),
    "param-unknown": (_set(["params", "evil"], 1), "params is 'evil'"),
    "param-storage": (_set(["params", "storage"], "sqlite:///x.db"), "params is 'storage'"),
    "left-out": (_set(["params_left_out"], ["nope"]), "params_left_out is"),
    "estimator": (_set(["estimator"], "os.system"), "estimator is 'os.system'"),
    "format": (_set(["format"], "1"), "format is '1'"),
    "best-trial": (_set(["best_trial"], 99), r"best_trial is 99; allowed: a completed trial"),
    "best-trial-type": (_set(["best_trial"], "0"), "best_trial is '0'"),
    "data": (_set(["data"], []), "data is"),
    "version": (_set(["sknas"], 2), "sknas is 2"),
    "unknown-field": (_set(["exec"], 1), r"holds unknown field\(s\) \['exec'\]"),
    "missing-field": (lambda m: m.pop("fitted"), r"lacks the field\(s\) \['fitted'\]"),
    "files": (_set(["files", "extra.bin"], "00"), "files is"),
    "learning-rate": (
        _set(["architecture", "training", "learning_rate"], -1),
        "architecture.training.learning_rate is -1",
    ),
    "optimizer": (
        _set(["architecture", "training", "optimizer"], "os.system"),
        "architecture.training.optimizer is 'os.system'",
    ),
    "lr-schedule": (
        _set(["architecture", "training", "lr_schedule"], "linear"),
        "architecture.training.lr_schedule is 'linear'",
    ),
    "label-smoothing": (
        _set(["architecture", "training", "label_smoothing"], 1.5),
        r"architecture.training.label_smoothing is 1.5.*\[0, 1\)",
    ),
    "batch-mixing": (
        _set(["architecture", "training", "batch_mixing"], "mosaic"),
        r"architecture.training.batch_mixing is 'mosaic'.*\['none', 'mixup', 'cutmix'\]",
    ),
    "training-field": (_set(["architecture", "training", "epochs"], 3), "architecture.training is"),
    "architecture-field": (_set(["architecture", "code"], "x"), "architecture is"),
    "block-type": (
        lambda m: _node(m, "classification_head").update(type="evil_block"),
        r"architecture.nodes\[\d+\].type is 'evil_block'",
    ),
    "wiring": (
        lambda m: _node(m, "classification_head").update(inputs=["nowhere"]),
        r"architecture.nodes\[\d+\].inputs is \['nowhere'\]",
    ),
    "input-type": (
        lambda m: m["architecture"]["nodes"][0].update(type=["image_input"]),
        r"architecture.nodes\[0\].type is \['image_input'\]",
    ),
    "config": (
        lambda m: _node(m, "classification_head").update(config=[1]),
        r"architecture.nodes\[\d+\].config is \[1\]",
    ),
    "outputs": (
        lambda m: m["architecture"].update(outputs=m["architecture"]["inputs"]),
        "architecture.outputs is 'tabular_input",
    ),
    "ensemble-field": (_set(["ensemble"], {"members": [0]}), "ensemble is"),
    "ensemble-weights": (_set(["ensemble", "weights"], [0.5]), r"ensemble.weights is \[0.5\]"),
    "ensemble-members": (
        _set(["ensemble", "members"], [7]),
        r"ensemble.members is \[7\]; allowed: completed trials of study.json \(\[0\]\)",
    ),
    "ensemble-rounds": (_set(["ensemble", "rounds"], 0), "ensemble.rounds is 0"),
    "ensemble-folds": (_set(["ensemble", "folds"], 0), "ensemble.folds is 0"),
    "ensemble-architectures": (
        lambda m: m["ensemble"].update(architectures=[m["architecture"]]),
        r"ensemble.architectures is .* allowed: 0 architectures",
    ),
}


def test_a_format_1_bundle_loads_as_its_best_trial_alone(folder, fitted):
    estimator, X = fitted

    def older(metadata):
        del metadata["ensemble"]
        metadata["format"] = 1
        # nor training settings beyond the optimizer's, rate, decay and batch size
        del metadata["architecture"]["training"]["lr_schedule"]
        del metadata["architecture"]["training"]["label_smoothing"]
        del metadata["architecture"]["training"]["batch_mixing"]

    _edit(folder, older)
    loaded = sknas.load(folder)
    assert loaded.ensemble_.members == [estimator.best_trial_.number]
    assert loaded.ensemble_.weights == [1.0]
    np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))


def test_a_format_2_bundle_without_its_ensemble_is_refused(folder):
    _edit(folder, lambda m: m.pop("ensemble"))
    with pytest.raises(BundleError, match="lacks the field 'ensemble' that bundle format 2"):
        sknas.load(folder)


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_values_in_sknas_json_are_refused_by_name(folder, case):
    change, match = INVALID[case]
    _edit(folder, change)
    with pytest.raises(BundleError, match=match):
        sknas.load(folder)


def test_sknas_json_that_is_not_an_object_is_refused(folder):
    (folder / "sknas.json").write_text("[1, 2]")
    with pytest.raises(BundleError, match="damaged: it holds a JSON list"):
        sknas.load(folder)


def test_layer_sizes_that_disagree_with_the_weights_are_refused_before_allocation(folder):
    """A huge layer in sknas.json is checked against the weights' shapes on the meta device,
    so the refusal costs no memory."""

    def enlarge(metadata):
        node = next(n for n in metadata["architecture"]["nodes"] if "units" in n["config"])
        node["config"]["units"] = [10**9] * len(node["config"]["units"])

    _edit(folder, enlarge)
    with pytest.raises(BundleError, match=r"do not match the bundle's architecture .* has shape"):
        sknas.load(folder)
