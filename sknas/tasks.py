"""What the task adds to an estimator: classification or regression targets and predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from .data import ClassificationTarget, RegressionTarget
from .exceptions import InvalidInputError

__all__ = ["NASClassifierMixin", "NASRegressorMixin"]


class NASClassifierMixin:
    """Classification: label encoding, class weights, ``predict_proba``."""

    def _make_target_adapter(self) -> ClassificationTarget:
        return ClassificationTarget()

    def _class_weight(self, y: np.ndarray) -> np.ndarray | None:
        if self.class_weight is None:
            return None
        classes = self.target_adapter_.classes_
        if isinstance(self.class_weight, dict):
            unknown = [k for k in self.class_weight if k not in set(classes.tolist())]
            if unknown:
                raise InvalidInputError(
                    f"class_weight names class(es) {unknown} that are not in y; classes are "
                    f"{classes.tolist()}."
                )
            return np.array([float(self.class_weight.get(c, 1.0)) for c in classes.tolist()])
        present = np.unique(y)
        weights = np.ones(len(classes))
        weights[present] = compute_class_weight("balanced", classes=present, y=y)
        return weights

    @property
    def classes_(self) -> np.ndarray:
        check_is_fitted(self, "target_adapters_")
        return self.target_adapter_.classes_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per class of ``classes_``.

        Parameters
        ----------
        X : array-like
            Inputs of the kind given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        Xt = self._transform(X)
        with torch.no_grad():
            logits = self.model_.forward(Xt, training=False)
        return torch.softmax(logits.double(), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels, of the same type as the labels given to ``fit``.

        Parameters
        ----------
        X : array-like
            Inputs of the kind given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        codes = self.predict_proba(X).argmax(axis=1)
        return self.target_adapter_.inverse_transform(codes)


class NASRegressorMixin:
    """Regression: 1-D or multi-output targets, predictions in the target's units."""

    def _make_target_adapter(self) -> RegressionTarget:
        return RegressionTarget()

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, shaped like the ``y`` given to ``fit``.

        Parameters
        ----------
        X : array-like
            Inputs of the kind given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        Xt = self._transform(X)
        prediction = self.model_.predict(Xt)
        return self.target_adapter_.inverse_transform(prediction)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
