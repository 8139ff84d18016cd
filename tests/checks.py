"""scikit-learn's estimator contract, adapted to inputs that sklearn's own checks skip.

sklearn's ``parametrize_with_checks`` only feeds 2-D numeric arrays. These checks take the data
as arguments, so image and text estimators are held to the same rules: fit returns self,
``__init__`` only stores, fit leaves parameters alone, ``NotFittedError`` before fit,
predictions and probabilities that are the network's own, clone, pickle round trip with
identical predictions, parameter validation, ``Pipeline`` and ``cross_val_score``.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError


def assert_network_probabilities(estimator, X):
    """``predict_proba`` of a fitted single-head classifier is the softmax of its network's own
    outputs (not renormalized afterwards), its rows sum to 1, and ``predict`` is the most
    probable class. Returns the probabilities."""
    proba = estimator.predict_proba(X)
    with torch.no_grad():
        logits = estimator.model_.module_(*estimator.export_preprocessor()(X))
    np.testing.assert_allclose(proba, torch.softmax(logits.double(), dim=1).numpy(), atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(estimator.predict(X), estimator.classes_[proba.argmax(axis=1)])
    return proba


def check_init_only_stores(estimator, X, y):
    fresh = clone(estimator)
    assert not [k for k in vars(fresh) if k.endswith("_")], "__init__ set fitted attributes"
    assert vars(fresh) == fresh.get_params(deep=False)


def check_not_fitted(estimator, X, y):
    methods = ["predict", "score"] + (["predict_proba"] if is_classifier(estimator) else [])
    for method in methods:
        args = (X, y) if method == "score" else (X,)
        with pytest.raises(NotFittedError):
            getattr(clone(estimator), method)(*args)


def check_fit_returns_self_and_keeps_params(estimator, X, y):
    est = clone(estimator)
    before = {k: repr(v) for k, v in est.get_params().items()}
    X_copy, y_copy = np.copy(X), np.copy(y)
    assert est.fit(X, y) is est
    assert {k: repr(v) for k, v in est.get_params().items()} == before
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def check_predictions(estimator, X, y):
    est = clone(estimator).fit(X, y)
    pred = est.predict(X)
    assert pred.shape == np.shape(y)
    if is_classifier(est):
        np.testing.assert_array_equal(est.classes_, np.unique(y))
        assert pred.dtype == np.asarray(y).dtype
        assert_network_probabilities(est, X)
    else:
        assert np.isfinite(pred).all()


def check_pickle_round_trip(estimator, X, y):
    est = clone(estimator).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    method = "predict_proba" if is_classifier(est) else "predict"
    np.testing.assert_array_equal(getattr(restored, method)(X), getattr(est, method)(X))


def check_param_validation(estimator, X, y):
    for params in ({"max_trials": 0}, {"validation_split": 1.5}, {"epochs": -1}):
        with pytest.raises(InvalidParameterError):
            clone(estimator).set_params(**params).fit(X, y)


def check_pipeline_and_cross_val_score(estimator, X, y):
    pipe = make_pipeline(clone(estimator)).fit(X, y)
    alone = clone(estimator).fit(X, y)
    np.testing.assert_array_equal(pipe.predict(X), alone.predict(X))
    scores = cross_val_score(clone(estimator), X, y, cv=2, error_score="raise")
    assert scores.shape == (2,) and np.isfinite(scores).all()


CHECKS = [
    check_init_only_stores,
    check_not_fitted,
    check_fit_returns_self_and_keeps_params,
    check_predictions,
    check_pickle_round_trip,
    check_param_validation,
    check_pipeline_and_cross_val_score,
]
