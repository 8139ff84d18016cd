"""AutoModel: user-built graphs, several inputs and heads, multi-label, wiring errors."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import cross_val_score

import sknas
from sknas.space.presets import tabular_first_trials, tabular_graph

from .checks import CHECKS, assert_network_probabilities

FAST = {"max_trials": 1, "epochs": 2, "random_state": 0}


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.images[:240], data.target[:240]


def test_the_documented_multi_task_example_runs_as_written(digits):
    x_train, y_kind = digits
    y_quality = x_train.mean(axis=(1, 2))
    x_test = x_train[:10]
    input_node = sknas.ImageInput()
    out = sknas.Normalization()(input_node)
    out = sknas.ImageAugmentation(percentage=0.25, rotation_range=180, random_crop=True)(out)
    a = sknas.ConvBlock()(out)
    b = sknas.XceptionBlock()(out)
    c = sknas.ResNetBlock()(out)
    merged = sknas.Merge()([a, b, c])
    kind = sknas.ClassificationHead()(merged)
    quality = sknas.RegressionHead()(merged)
    model = sknas.AutoModel(inputs=input_node, outputs=[kind, quality], max_trials=2)
    model.fit(x_train, [y_kind, y_quality], epochs=2)
    y_kind_pred, y_quality_pred = model.predict(x_test)
    assert y_kind_pred.shape == (10,) and set(y_kind_pred) <= set(y_kind)
    assert y_quality_pred.shape == (10,) and np.isfinite(y_quality_pred).all()
    types = [n.type for n in model.best_architecture_.nodes]
    for block in ["conv_block", "xception_block", "resnet_block", "merge"]:
        assert types.count(block) == 1
    proba = model.predict_proba(x_test)
    assert proba.shape == (10, 10)
    with torch.no_grad():
        logits, quality_out = model.model_.module_(*model.export_preprocessor()(x_test))
    np.testing.assert_allclose(proba, torch.softmax(logits.double(), dim=1).numpy(), atol=1e-6)
    np.testing.assert_array_equal(y_kind_pred, model.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(y_quality_pred, quality_out.numpy().ravel())
    scores = [accuracy_score(y_kind[:10], y_kind_pred), r2_score(y_quality[:10], y_quality_pred)]
    assert model.score(x_test, [y_kind[:10], y_quality[:10]]) == pytest.approx(np.mean(scores))


def test_several_inputs_by_list_and_by_name(digits):
    images, labels = digits
    table = np.column_stack([images.mean(axis=(1, 2)), images.std(axis=(1, 2))])
    image_in, table_in = sknas.ImageInput(name="pixels"), sknas.TabularInput(name="stats")
    merged = sknas.Merge()([sknas.ImageBlock()(image_in), sknas.TabularBlock()(table_in)])
    model = sknas.AutoModel(
        inputs=[image_in, table_in], outputs=sknas.ClassificationHead()(merged), **FAST
    )
    model.fit([images, table], labels)
    by_list = model.predict_proba([images[:5], table[:5]])
    by_name = model.predict_proba({"stats": table[:5], "pixels": images[:5]})
    np.testing.assert_array_equal(by_list, by_name)
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict(images[:5])


def test_heads_only_get_default_hyperblocks(digits):
    images, labels = digits
    model = sknas.AutoModel(
        inputs=sknas.ImageInput(), outputs=[sknas.ClassificationHead()], **FAST
    ).fit(images, labels)
    types = {n.type for n in model.best_architecture_.nodes}
    assert "spatial_reduction" in types and "classification_head" in types


def test_multi_label_head_predicts_label_sets():
    X, y = load_iris(return_X_y=True)
    Y = np.column_stack([y == 0, y == 2, X[:, 0] > 5.8]).astype(int)
    inp = sknas.TabularInput()
    head = sknas.ClassificationHead(multi_label=True)(sknas.TabularBlock()(inp))
    model = sknas.AutoModel(inputs=inp, outputs=head, max_trials=3, epochs=20, random_state=0)
    model.fit(X, Y)
    pred = model.predict(X)
    assert pred.shape == Y.shape
    proba = model.predict_proba(X)
    with torch.no_grad():
        logits = model.model_.module_(*model.export_preprocessor()(X))
    # one sigmoid per label, not a softmax over the labels
    np.testing.assert_allclose(proba, torch.sigmoid(logits.double()).numpy(), atol=1e-6)
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    assert (pred == Y).mean() > 0.8
    with pytest.raises(ValueError, match="indicator matrix"):
        clone(model).fit(X, y)


def test_tabm_trains_several_heads_and_label_sets():
    X, y = load_iris(return_X_y=True)
    labels = np.column_stack([y == 0, y == 2, X[:, 0] > 5.8]).astype(int)
    inp = sknas.TabularInput()
    members = sknas.TabularBlock(backbone="tabm")(inp)
    heads = [
        sknas.ClassificationHead(multi_label=True)(members),
        sknas.RegressionHead()(members),
    ]
    model = sknas.AutoModel(
        inputs=inp, outputs=heads, max_trials=1, epochs=30, random_state=0, ensemble_size=1
    )
    model.fit(X, [labels, X[:, 3]])
    assert model.best_architecture_.nodes[-3].type == "tabm_block"
    sets, widths = model.predict(X)
    assert sets.shape == labels.shape and widths.shape == (len(X),)
    assert (sets == labels).mean() > 0.8
    assert r2_score(X[:, 3], widths) > 0.5


def test_hyperblocks_bring_their_estimators_first_trials():
    X, y = load_iris(return_X_y=True)
    inp = sknas.TabularInput()
    trunk = sknas.TabularBlock()(inp)
    heads = [sknas.ClassificationHead()(trunk), sknas.RegressionHead()(trunk)]
    model = sknas.AutoModel(inputs=inp, outputs=heads, max_trials=3, epochs=1, random_state=0)
    model.fit(X, [y, X[:, 3]])
    # the table estimator's first trials (120 training rows), for both heads; with a
    # regression head label smoothing is not searched, and the presets' value is left out
    presets = tabular_first_trials(
        tabular_graph("classification"), 120, model.input_adapters_[0].info_
    )
    assert len(model.study_.trials) == 3
    for trial, preset in zip(model.study_.trials, presets):
        expected = {k: v for k, v in preset.items() if k != "training/label_smoothing"}
        assert trial.params == {**expected, "regression_head_1/dropout": 0.0}


def test_loss_weights_and_objective_rules(digits):
    images, labels = digits
    inp = sknas.ImageInput()
    trunk = sknas.ImageBlock(block_type="conv")(inp)
    heads = [sknas.ClassificationHead()(trunk), sknas.RegressionHead(name="size")(trunk)]
    target = [labels, images.sum(axis=(1, 2))]
    model = sknas.AutoModel(
        inputs=inp, outputs=heads, loss_weights={"size": 0.5, "classification_head_1": 2}, **FAST
    )
    model.fit(images, target)
    assert model.model_.criterion_.weights == [2.0, 0.5]
    with pytest.raises(ValueError, match="objective='accuracy'"):
        clone(model).set_params(objective="accuracy").fit(images, target)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda i: sknas.DenseBlock()(i), "output of a head"),
        (lambda i: sknas.ClassificationHead()(sknas.ConvBlock(kernel_size=9)(i)), "kernel_size=9"),
        (lambda i: sknas.RegressionHead()(sknas.DenseBlock(num_units=-3)(i)), "num_units=-3"),
        (lambda i: sknas.ClassificationHead()(sknas.Embedding()(i)), "Embedding needs token ids"),
    ],
)
def test_wiring_errors_name_the_block_before_training(digits, build, message):
    images, labels = digits
    inp = sknas.ImageInput()
    model = sknas.AutoModel(inputs=inp, outputs=build(inp), **FAST)
    with pytest.raises(ValueError, match=message):
        model.fit(images, labels)
    assert not hasattr(model, "study_")


def test_an_input_that_reaches_no_head_is_an_error(digits):
    images, labels = digits
    used, unused = sknas.ImageInput(), sknas.TabularInput()
    model = sknas.AutoModel(
        inputs=[used, unused], outputs=sknas.ClassificationHead()(sknas.ImageBlock()(used)), **FAST
    )
    with pytest.raises(sknas.GraphError, match="TabularInput reaches no head"):
        model.fit([images, images.reshape(len(images), -1)], labels)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_single_head_automodel_keeps_the_sklearn_contract(check, digits):
    images, labels = digits
    inp = sknas.ImageInput()
    model = sknas.AutoModel(
        inputs=inp,
        outputs=sknas.ClassificationHead()(sknas.ImageBlock(block_type="conv")(inp)),
        **FAST,
    )
    check(model, images[:120], labels[:120])


def test_clone_pickle_and_cross_validation(digits):
    images, labels = digits
    model = sknas.AutoModel(inputs=sknas.ImageInput(), outputs=[sknas.ClassificationHead()], **FAST)
    twin = clone(model)
    assert twin.get_params()["inputs"] is not model.inputs
    model.fit(images, labels)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(images), model.predict_proba(images))
    assert_network_probabilities(restored, images)
    scores = cross_val_score(twin, images, labels, cv=2, error_score="raise")
    assert scores.shape == (2,) and np.isfinite(scores).all()
