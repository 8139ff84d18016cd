"""NASTextClassifier and NASTextRegressor."""

from __future__ import annotations

from typing import Any, ClassVar

from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import StrOptions

from ._docs import ATTRIBUTES_DOC, PARAMETERS_DOC
from .base import BaseNASEstimator
from .data import TextAdapter
from .space.presets import text_graph
from .tasks import NASClassifierMixin, NASRegressorMixin

__all__ = ["NASTextClassifier", "NASTextRegressor"]

_TEXT_ATTRIBUTES_DOC = """
    input_adapter_ : TextAdapter
        The best trial's fitted vectorizer (TF-IDF n-grams or token ids), applied to raw
        strings at predict time."""


class _TextMixin:
    auto_max_epochs: ClassVar[int] = 30
    auto_patience: ClassVar[int] = 4

    def _make_input_adapter(self) -> TextAdapter:
        return TextAdapter()

    def _default_graph(self):
        return text_graph(self._task)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class NASTextClassifier(_TextMixin, NASClassifierMixin, ClassifierMixin, BaseNASEstimator):
    __doc__ = (
        "Neural architecture search for classifying raw texts.\n\n"
        "    Takes a list, 1-D array or Series of strings: no tokenizer, vocabulary or padding\n"
        "    to prepare. Searches TF-IDF n-gram networks and embedding + CNN / RNN / transformer\n"
        "    networks with their vocabulary, and keeps the text preprocessing inside itself.\n"
        + PARAMETERS_DOC
        + """
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the loss; "balanced" weighs them inversely to their
        frequency."""
        + ATTRIBUTES_DOC
        + _TEXT_ATTRIBUTES_DOC
        + """
    classes_ : ndarray
        The class labels, in the order of ``predict_proba``'s columns.

    Examples
    --------
    >>> from sknas import NASTextClassifier
    >>> texts = ["win a free prize now", "see you at lunch", "claim your free reward",
    ...          "running late, sorry", "free entry, text WIN", "call me later"] * 5
    >>> labels = ["spam", "ham", "spam", "ham", "spam", "ham"] * 5
    >>> clf = NASTextClassifier(max_trials=1, epochs=2, random_state=0).fit(texts, labels)
    >>> clf.predict(["a free prize for you"]).shape
    (1,)
    """
    )

    _task = "classification"
    _parameter_constraints: ClassVar[dict] = {
        **BaseNASEstimator._parameter_constraints,
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
        refit: bool | str = "members",
        ensemble_size: int = 10,
        cv: Any = None,
        device: str = "auto",
        random_state: Any = None,
        verbose: int = 0,
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
        self.class_weight = class_weight


class NASTextRegressor(_TextMixin, NASRegressorMixin, RegressorMixin, BaseNASEstimator):
    __doc__ = (
        "Neural architecture search for predicting real values from raw texts.\n\n"
        "    Takes a list, 1-D array or Series of strings; ``y`` is 1-D or (n_samples,\n"
        "    n_outputs), predicted in its own units.\n"
        + PARAMETERS_DOC
        + ATTRIBUTES_DOC
        + _TEXT_ATTRIBUTES_DOC
        + """

    Examples
    --------
    >>> from sknas import NASTextRegressor
    >>> texts = ["great film", "awful plot", "fine acting", "loved it", "boring"] * 6
    >>> scores = [0.9, 0.1, 0.6, 1.0, 0.2] * 6
    >>> reg = NASTextRegressor(max_trials=1, epochs=2, random_state=0).fit(texts, scores)
    >>> reg.predict(["great plot"]).shape
    (1,)
    """
    )

    _task = "regression"
    _parameter_constraints: ClassVar[dict] = {
        **BaseNASEstimator._parameter_constraints,
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
        refit: bool | str = "members",
        ensemble_size: int = 10,
        cv: Any = None,
        device: str = "auto",
        random_state: Any = None,
        verbose: int = 0,
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
