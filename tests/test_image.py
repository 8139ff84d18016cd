"""NASImageClassifier, NASImageRegressor, the image adapter and the image blocks."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

import sknas
from sknas import NASImageClassifier, NASImageRegressor
from sknas.data import ImageAdapter
from sknas.nn.layers.preprocessing import ImageAugmenter

from .checks import CHECKS

FAST = {"max_trials": 1, "epochs": 2, "random_state": 0}


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    keep = np.r_[:200]
    return data.images[keep].astype(np.float32), data.target[keep]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("make", [NASImageClassifier, NASImageRegressor])
def test_sklearn_contract_on_images(make, check, digits):
    X, y = digits
    target = y if make is NASImageClassifier else y.astype(float)
    check(make(**FAST), X, target)


def test_digits_classifier_learns_and_keeps_labels():
    data = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        data.images, data.target, test_size=0.25, stratify=data.target, random_state=0
    )
    clf = NASImageClassifier(max_trials=1, epochs=8, random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.9
    assert clf.predict(X_test).dtype.kind == "i"
    first = clf.best_architecture_
    assert [n.type for n in first.nodes][:3] == ["image_input", "normalization", "conv_block"]


def test_layouts_and_dtypes_give_the_same_tensors():
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, size=(5, 6, 7, 3), dtype=np.uint8)
    chw = hwc.transpose(0, 3, 1, 2)
    a = ImageAdapter().fit(hwc)
    b = ImageAdapter().fit(chw)
    assert a.channels_last_ and not b.channels_last_
    np.testing.assert_array_equal(a.transform(hwc), b.transform(chw))
    assert a.transform(hwc).max() <= 1.0 and a.info_.shape == (3, 6, 7)
    gray = ImageAdapter().fit(hwc[..., 0])
    assert gray.info_.shape == (1, 6, 7)
    forced = ImageAdapter(channels_last=False).fit(hwc)
    assert forced.info_.shape == (6, 7, 3)
    stats = a.info_.meta["stats"]
    np.testing.assert_allclose(stats["mean"], a.transform(hwc).mean(axis=(0, 2, 3)), rtol=1e-5)


def test_image_input_errors_are_clear(digits):
    X, y = digits
    with pytest.raises(ValueError, match="received shape"):
        NASImageClassifier(**FAST).fit(X.reshape(len(X), -1), y)
    with pytest.raises(ValueError, match="cannot tell the channel axis"):
        ImageAdapter().fit(np.zeros((2, 8, 8, 8)))
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        NASImageClassifier(**FAST).fit(bad, y)
    clf = NASImageClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"fitted on images shaped \(8, 8\)"):
        clf.predict(np.zeros((2, 7, 8)))
    with pytest.raises(ValueError, match="fitted on images"):
        clf.predict(np.zeros((2, 8, 8, 3)))


def test_regressor_predicts_the_digit_value(digits):
    X, y = digits
    reg = NASImageRegressor(max_trials=1, epochs=10, random_state=0).fit(X, y.astype(float))
    pred = reg.predict(X)
    assert pred.shape == (len(X),)
    assert reg.score(X, y) > 0.5


@pytest.mark.parametrize(
    "option, value",
    [
        ("rotation_range", 90.0),
        ("random_crop", True),
        ("horizontal_flip", True),
        ("vertical_flip", True),
        ("translation_factor", 0.3),
        ("zoom_factor", 0.3),
        ("contrast_factor", 0.5),
    ],
)
def test_every_augmentation_option_changes_training_images_only(option, value):
    config = {
        "percentage": 1.0,
        "rotation_range": 0.0,
        "random_crop": False,
        "horizontal_flip": False,
        "vertical_flip": False,
        "translation_factor": 0.0,
        "zoom_factor": 0.0,
        "contrast_factor": 0.0,
    }
    torch.manual_seed(0)
    x = torch.rand(16, 1, 12, 12)
    identity = ImageAugmenter(config, (1, 12, 12))
    torch.testing.assert_close(identity(x), x, atol=1e-5, rtol=0)
    module = ImageAugmenter({**config, option: value}, (1, 12, 12))
    out = module(x)
    assert out.shape == x.shape
    changed = (out - x).abs().flatten(1).amax(dim=1) > 1e-3
    assert changed.sum() >= 4
    module.eval()
    assert torch.equal(module(x), x)


def test_each_augmented_image_draws_its_own_transformation():
    """torchvision's transforms draw one set of parameters per call: the augmenter calls them
    per image, so copies of one image come out differently, and non-square images keep their
    shape through a crop."""
    torch.manual_seed(0)
    config = {
        "percentage": 1.0,
        "rotation_range": 20.0,
        "random_crop": True,
        "horizontal_flip": False,
        "vertical_flip": False,
        "translation_factor": 0.1,
        "zoom_factor": 0.1,
        "contrast_factor": 0.0,
    }
    x = torch.rand(1, 1, 10, 14).repeat(8, 1, 1, 1)
    out = ImageAugmenter(config, (1, 10, 14))(x)
    assert out.shape == x.shape
    distinct = {tuple(image.flatten().round(decimals=4).tolist()) for image in out}
    assert len(distinct) == 8


def test_augmented_images_keep_their_values_under_mixed_precision():
    """Under bfloat16 autocast (mixed precision on a GPU; the CPU's autocast behaves alike),
    torchvision would build its sampling grid in bfloat16 and round the resampled images to
    integers."""
    torch.manual_seed(0)
    config = {
        "percentage": 1.0,
        "rotation_range": 10.0,
        "random_crop": False,
        "horizontal_flip": False,
        "vertical_flip": False,
        "translation_factor": 0.0,
        "zoom_factor": 0.1,
        "contrast_factor": 0.0,
    }
    x = torch.randn(4, 1, 12, 12)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = ImageAugmenter(config, (1, 12, 12))(x)
    assert out.dtype == torch.float32
    assert (out != out.round()).float().mean() > 0.5


def test_augmentation_percentage_is_the_share_of_images_changed():
    torch.manual_seed(0)
    config = {
        "percentage": 0.25,
        "rotation_range": 30.0,
        "random_crop": False,
        "horizontal_flip": False,
        "vertical_flip": False,
        "translation_factor": 0.0,
        "zoom_factor": 0.0,
        "contrast_factor": 0.0,
    }
    x = torch.rand(400, 1, 10, 10)
    augmenter = ImageAugmenter(config, (1, 10, 10))
    changed = ((augmenter(x) - x).abs().flatten(1).amax(dim=1) > 1e-3).float()
    assert 0.15 < changed.mean().item() < 0.35


@pytest.mark.parametrize("size", [8, 28, 64])
@pytest.mark.parametrize("family", ["conv", "resnet", "xception"])
def test_families_fit_small_and_large_images_without_resizing(family, size):
    import optuna

    from sknas.nn import GraphModule
    from sknas.space import Graph, TensorInfo, TrainingSpace, sample_architecture

    info = TensorInfo("image", (3, size, size), {"stats": {"mean": [0.0] * 3, "scale": [1.0] * 3}})
    inp = sknas.ImageInput()
    graph = Graph(inp, sknas.ClassificationHead()(sknas.ImageBlock(block_type=family)(inp)))
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(size)).ask()
    spec = sample_architecture(graph, trial, [info], TrainingSpace())
    module = GraphModule(spec, [info], [TensorInfo("classification", (4,))])
    out = module(torch.rand(2, 3, size, size))
    assert out.shape == (2, 4)
    assert not torch.allclose(out[0], out[1]), "the output depends on the image"
    if size <= 32:
        assert sknas.nn.count_parameters(module) < 2_000_000


def test_kernel_larger_than_the_image_is_a_clear_error():
    X = np.random.default_rng(0).random((40, 4, 4)).astype(np.float32)
    inp = sknas.ImageInput()
    out = sknas.ConvBlock(kernel_size=7)(inp)
    clf_graph = sknas.space.Graph(inp, sknas.ClassificationHead()(out))
    import optuna

    from sknas.nn import GraphModule
    from sknas.space import TensorInfo, TrainingSpace, sample_architecture

    info = ImageAdapter().fit(X).info_
    spec = sample_architecture(clf_graph, optuna.create_study().ask(), [info], TrainingSpace())
    with pytest.raises(sknas.GraphError, match="conv_block_1: kernel_size=7 is larger"):
        GraphModule(spec, [info], [TensorInfo("classification", (2,))])


class _OutOfMemoryAbove(Callback):
    """Acts as a GPU that cannot hold batches larger than ``limit``."""

    def __init__(self, limit):
        self.limit = limit

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and len(batch[0]) > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_a_trial_out_of_gpu_memory_is_retried_with_smaller_batches(digits):
    X, y = digits
    clf = NASImageClassifier(
        max_trials=1, epochs=1, batch_size=64, random_state=0, callbacks=[_OutOfMemoryAbove(16)]
    ).fit(X, y)
    trial = clf.best_trial_
    assert trial.state.name == "COMPLETE"
    assert trial.user_attrs["oom_batch_size"] == 16
    assert clf.best_architecture_.training["batch_size"] == 16
    assert clf.model_.batch_size == 16


def test_a_trial_out_of_memory_even_with_small_batches_fails_alone(digits):
    X, y = digits
    clf = NASImageClassifier(
        max_trials=2, epochs=1, random_state=0, callbacks=[_OutOfMemoryAbove(2)]
    )
    with pytest.raises(sknas.SearchError, match="OutOfMemoryError: CUDA out of memory"):
        clf.fit(X, y)
