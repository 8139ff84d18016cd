"""NASTabularClassifier and NASTabularRegressor."""

from __future__ import annotations

from typing import Any, ClassVar

from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from ._docs import ATTRIBUTES_DOC, PARAMETERS_DOC
from .base import BaseNASEstimator
from .data import TabularAdapter
from .space.presets import tabular_graph
from .tasks import NASClassifierMixin, NASRegressorMixin

__all__ = ["NASTabularClassifier", "NASTabularRegressor"]

_COLUMN_TYPES_DOC = """
    column_types : dict, optional
        ``{column: "categorical" | "numerical"}`` overriding the inferred column types.
        Columns are named as in the DataFrame, or by position for arrays."""

_TABLE_ATTRIBUTES_DOC = """
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame with string column names.
    input_adapter_ : TabularAdapter
        The fitted column typing, imputation and encoding."""


class _TabularMixin:
    def _make_input_adapter(self) -> TabularAdapter:
        return TabularAdapter(column_types=self.column_types)

    def _default_graph(self):
        return tabular_graph(self._task)

    def _check_features(self, X, reset: bool) -> None:
        validate_data(self, X, skip_check_array=True, reset=reset)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


class NASTabularClassifier(_TabularMixin, NASClassifierMixin, ClassifierMixin, BaseNASEstimator):
    __doc__ = (
        "Neural architecture search for classifying rows of a table.\n\n"
        "    Takes numeric, categorical (object, string, category, bool) and missing values, as\n"
        "    a 2-D array or a DataFrame. Searches dense networks and TabM ensembles, numeric\n"
        "    scaling and embeddings, categorical encoding and training settings with Optuna.\n"
        + PARAMETERS_DOC
        + _COLUMN_TYPES_DOC
        + """
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the loss; "balanced" weighs them inversely to their
        frequency."""
        + ATTRIBUTES_DOC
        + _TABLE_ATTRIBUTES_DOC
        + """
    classes_ : ndarray
        The class labels, in the order of ``predict_proba``'s columns.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sknas import NASTabularClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = NASTabularClassifier(max_trials=2, epochs=3, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """
    )

    _task = "classification"
    _parameter_constraints: ClassVar[dict] = {
        **BaseNASEstimator._parameter_constraints,
        "column_types": [dict, None],
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
        cv: Any = "auto",
        device: str = "auto",
        random_state: Any = None,
        verbose: int = 0,
        column_types: dict | None = None,
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
        self.column_types = column_types
        self.class_weight = class_weight


class NASTabularRegressor(_TabularMixin, NASRegressorMixin, RegressorMixin, BaseNASEstimator):
    __doc__ = (
        "Neural architecture search for predicting real values from rows of a table.\n\n"
        "    Takes numeric, categorical (object, string, category, bool) and missing values, as\n"
        "    a 2-D array or a DataFrame; ``y`` is 1-D or (n_samples, n_outputs). Targets are\n"
        "    standardized inside and predictions come back in their own units.\n"
        + PARAMETERS_DOC
        + _COLUMN_TYPES_DOC
        + ATTRIBUTES_DOC
        + _TABLE_ATTRIBUTES_DOC
        + """

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sknas import NASTabularRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = NASTabularRegressor(max_trials=2, epochs=3, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """
    )

    _task = "regression"
    _parameter_constraints: ClassVar[dict] = {
        **BaseNASEstimator._parameter_constraints,
        "column_types": [dict, None],
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
        cv: Any = "auto",
        device: str = "auto",
        random_state: Any = None,
        verbose: int = 0,
        column_types: dict | None = None,
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
        self.column_types = column_types
