"""Targets: label encoding for classifiers, scaling statistics for regressors."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, column_or_1d

from ..exceptions import InvalidInputError
from ..space.spec import TensorInfo

__all__ = ["ClassificationTarget", "MultiLabelTarget", "RegressionTarget"]


class _LabelSpace:
    """Targets whose fitted state is the label space alone: no statistic of the rows."""

    def on_rows(self, y: np.ndarray) -> _LabelSpace:
        """This adapter: the labels that exist are the task's definition, not a statistic, so
        they come from every row of ``y`` and the training rows change nothing."""
        return self


def _require_y(y: Any) -> None:
    if y is None:
        raise ValueError(
            "this estimator requires y to be passed, but the target y is None. Pass the "
            "targets as fit(X, y)."
        )


class ClassificationTarget(_LabelSpace, TransformerMixin, BaseEstimator):
    """Encode class labels as 0..n_classes-1 and decode predictions back to them.

    ``classes_`` keeps the labels' own type: ints stay ints, strings stay strings.
    """

    def fit(self, y: Any) -> ClassificationTarget:
        _require_y(y)
        y = column_or_1d(y, warn=True)
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise InvalidInputError(
                "y contains NaN or infinity; every sample needs a class label. Drop or label "
                "those rows."
            )
        if y.dtype == object and any(v is None for v in y):
            raise InvalidInputError("y contains None; every sample needs a class label.")
        check_classification_targets(y)
        self.encoder_ = LabelEncoder().fit(y)
        self.classes_ = self.encoder_.classes_
        if len(self.classes_) < 2:
            raise InvalidInputError(
                f"y has only one class ({self.classes_.tolist()[0]!r}); a classifier needs at "
                f"least two classes."
            )
        self.info_ = TensorInfo("classification", (len(self.classes_),))
        return self

    def transform(self, y: Any) -> np.ndarray:
        return self.encoder_.transform(column_or_1d(y)).astype(np.int64)

    def inverse_transform(self, codes: np.ndarray) -> np.ndarray:
        return self.classes_[codes]


class RegressionTarget(TransformerMixin, BaseEstimator):
    """Validate real-valued targets (1-D or (n, k)) and record their mean and scale.

    The network's regression head maps its outputs back with these, so predictions come back
    in the target's units while training runs on standardized values.
    """

    def fit(self, y: Any) -> RegressionTarget:
        _require_y(y)
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim not in (1, 2):
            raise InvalidInputError(f"y must be 1-D or 2-D; received {y.ndim} dimensions.")
        self.ndim_ = y.ndim
        self.info_ = self._describe(y.reshape(len(y), -1))
        return self

    @staticmethod
    def _describe(y: np.ndarray) -> TensorInfo:
        y = np.asarray(y, dtype=np.float64)
        scale = y.std(axis=0)
        return TensorInfo(
            "regression",
            (y.shape[1],),
            {"mean": y.mean(axis=0).tolist(), "scale": np.where(scale > 0, scale, 1.0).tolist()},
        )

    def on_rows(self, y: np.ndarray) -> RegressionTarget:
        """A copy whose mean and scale come from the encoded targets ``y`` alone (the
        training rows of a search), so that validation rows do not shape the network.

        Parameters
        ----------
        y : ndarray of shape (n_rows, n_outputs)
            Encoded targets, as :meth:`transform` gives them.

        Returns
        -------
        RegressionTarget
        """
        adapter = copy.copy(self)
        adapter.info_ = self._describe(y)
        return adapter

    def transform(self, y: Any) -> np.ndarray:
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        return y.reshape(len(y), -1).astype(np.float32)

    def inverse_transform(self, pred: np.ndarray) -> np.ndarray:
        pred = np.asarray(pred, dtype=np.float64)
        return pred.ravel() if self.ndim_ == 1 else pred


class MultiLabelTarget(_LabelSpace, TransformerMixin, BaseEstimator):
    """A 0/1 indicator matrix ``(n_samples, n_labels)``: each sample may carry several labels.

    The head is trained with one sigmoid per label; predictions are 0/1 label sets.
    """

    def fit(self, y: Any) -> MultiLabelTarget:
        _require_y(y)
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        if y.ndim != 2 or type_of_target(y) != "multilabel-indicator":
            raise InvalidInputError(
                f"a multi-label head needs y as a 0/1 indicator matrix of shape (n_samples, "
                f"n_labels); received shape {y.shape} ({type_of_target(y)}). "
                f"sklearn.preprocessing.MultiLabelBinarizer turns label lists into one."
            )
        self.n_labels_ = y.shape[1]
        self.classes_ = np.arange(self.n_labels_)
        self.info_ = TensorInfo("classification", (self.n_labels_,), {"multi_label": True})
        return self

    def transform(self, y: Any) -> np.ndarray:
        return check_array(y, dtype=np.float32, input_name="y")

    def inverse_transform(self, proba: np.ndarray) -> np.ndarray:
        return (np.asarray(proba) > 0.5).astype(np.int64)
