"""NASImageClassifier and NASImageRegressor."""

from __future__ import annotations

from typing import Any, ClassVar

from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import StrOptions

from ._docs import ATTRIBUTES_DOC, PARAMETERS_DOC
from .base import BaseNASEstimator
from .data import ImageAdapter
from .space.presets import image_graph
from .tasks import NASClassifierMixin, NASRegressorMixin

__all__ = ["NASImageClassifier", "NASImageRegressor"]

_CHANNELS_DOC = """
    channels_last : bool or None, default=None
        Layout of 4-D images: True for ``(n, h, w, c)``, False for ``(n, c, h, w)``. None
        detects it from the axis of size 1 to 4, preferring channels last when both fit."""

_IMAGE_ATTRIBUTES_DOC = """
    input_adapter_ : ImageAdapter
        The fitted layout, scaling and per-channel statistics."""


class _ImageMixin:
    auto_max_epochs: ClassVar[int] = 50
    auto_patience: ClassVar[int] = 5

    def _make_input_adapter(self) -> ImageAdapter:
        return ImageAdapter(channels_last=self.channels_last)

    def _default_graph(self):
        return image_graph(self._task)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class NASImageClassifier(_ImageMixin, NASClassifierMixin, ClassifierMixin, BaseNASEstimator):
    __doc__ = (
        "Neural architecture search for classifying images.\n\n"
        "    Takes arrays shaped (n, h, w), (n, h, w, c) or (n, c, h, w), uint8 (scaled to\n"
        "    [0, 1]) or float. Searches convolutional, residual and Xception-style networks sized\n"
        "    for the images (no resize), with optional augmentation, and refits the best.\n"
        + PARAMETERS_DOC
        + _CHANNELS_DOC
        + """
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the loss; "balanced" weighs them inversely to their
        frequency."""
        + ATTRIBUTES_DOC
        + _IMAGE_ATTRIBUTES_DOC
        + """
    classes_ : ndarray
        The class labels, in the order of ``predict_proba``'s columns.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknas import NASImageClassifier
    >>> digits = load_digits()
    >>> clf = NASImageClassifier(max_trials=1, epochs=2, random_state=0)
    >>> clf.fit(digits.images, digits.target).predict(digits.images[:3]).shape
    (3,)
    """
    )

    _task = "classification"
    _parameter_constraints: ClassVar[dict] = {
        **BaseNASEstimator._parameter_constraints,
        "channels_last": ["boolean", None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        *,
        max_trials: int | None = None,
        time_budget: float | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        validation_split: float = 0.2,
        objective: Any = None,
        sampler: Any = "tpe",
        pruner: Any = "median",
        storage: Any = None,
        study_name: str | None = None,
        n_jobs: int | None = None,
        callbacks: list | None = None,
        max_model_size: int | None = None,
        refit: bool | str = True,
        ensemble_size: int = 10,
        cv: Any = None,
        device: str = "auto",
        random_state: Any = None,
        verbose: int = 0,
        channels_last: bool | None = None,
        class_weight: Any = None,
    ) -> None:
        self.max_trials = max_trials
        self.time_budget = time_budget
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.objective = objective
        self.sampler = sampler
        self.pruner = pruner
        self.storage = storage
        self.study_name = study_name
        self.n_jobs = n_jobs
        self.callbacks = callbacks
        self.max_model_size = max_model_size
        self.refit = refit
        self.ensemble_size = ensemble_size
        self.cv = cv
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.channels_last = channels_last
        self.class_weight = class_weight


class NASImageRegressor(_ImageMixin, NASRegressorMixin, RegressorMixin, BaseNASEstimator):
    __doc__ = (
        "Neural architecture search for predicting real values from images.\n\n"
        "    Takes arrays shaped (n, h, w), (n, h, w, c) or (n, c, h, w), uint8 or float;\n"
        "    ``y`` is 1-D or (n_samples, n_outputs), predicted in its own units.\n"
        + PARAMETERS_DOC
        + _CHANNELS_DOC
        + ATTRIBUTES_DOC
        + _IMAGE_ATTRIBUTES_DOC
        + """

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknas import NASImageRegressor
    >>> digits = load_digits()
    >>> reg = NASImageRegressor(max_trials=1, epochs=2, random_state=0)
    >>> reg.fit(digits.images, digits.target.astype(float)).predict(digits.images[:3]).shape
    (3,)
    """
    )

    _task = "regression"
    _parameter_constraints: ClassVar[dict] = {
        **BaseNASEstimator._parameter_constraints,
        "channels_last": ["boolean", None],
    }

    def __init__(
        self,
        *,
        max_trials: int | None = None,
        time_budget: float | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        validation_split: float = 0.2,
        objective: Any = None,
        sampler: Any = "tpe",
        pruner: Any = "median",
        storage: Any = None,
        study_name: str | None = None,
        n_jobs: int | None = None,
        callbacks: list | None = None,
        max_model_size: int | None = None,
        refit: bool | str = True,
        ensemble_size: int = 10,
        cv: Any = None,
        device: str = "auto",
        random_state: Any = None,
        verbose: int = 0,
        channels_last: bool | None = None,
    ) -> None:
        self.max_trials = max_trials
        self.time_budget = time_budget
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.objective = objective
        self.sampler = sampler
        self.pruner = pruner
        self.storage = storage
        self.study_name = study_name
        self.n_jobs = n_jobs
        self.callbacks = callbacks
        self.max_model_size = max_model_size
        self.refit = refit
        self.ensemble_size = ensemble_size
        self.cv = cv
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.channels_last = channels_last
