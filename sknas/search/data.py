"""The data of a search: split once, the preprocessing fitted on the training rows only.

Everything an input adapter learns from data (medians, categories, scaling statistics,
vocabularies, subword models) and the regression targets' mean and scale come from the rows
the trials train on, so that no trial is scored on rows that shaped its inputs. The final
model fits them again on every row it trains on. With cross-validation they are fitted once
on every row instead, so that the fold models share one preprocessing.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import _safe_indexing

from ..space import TensorInfo

__all__ = ["DataSource", "RefitData", "TrialData", "concat_rows", "n_rows", "prepare_data"]


def n_rows(y: Any) -> int:
    """Rows of encoded targets: an array, or a dict of arrays keyed by head name."""
    return len(next(iter(y.values())) if isinstance(y, dict) else y)


def concat_rows(a: Any, b: Any) -> Any:
    """Rows of ``b`` after those of ``a``: arrays, DataFrames, sequences of texts, or dicts of
    them."""
    if isinstance(a, dict):
        return {k: concat_rows(a[k], b[k]) for k in a}
    if isinstance(a, (pd.DataFrame, pd.Series)):
        return pd.concat([a, b], ignore_index=True)
    if isinstance(a, list) or (isinstance(a, np.ndarray) and a.dtype == object and a.ndim == 1):
        return list(a) + list(b)
    return np.concatenate([np.asarray(a), np.asarray(b)])


def _rows(X: Any, rows: np.ndarray) -> Any:
    return {k: v[rows] for k, v in X.items()} if isinstance(X, dict) else X[rows]


@dataclass
class TrialData:
    """Encoded training and validation data."""

    X_train: Any
    y_train: np.ndarray
    X_valid: Any
    y_valid: np.ndarray

    @property
    def n_train(self) -> int:
        return n_rows(self.y_train)


class DataSource:
    """The data of a search, encoded once per input configuration and split once.

    Parameters
    ----------
    adapters : list
        One fitted input adapter per graph input, with ``info_for(config)`` and
        ``transform(X, config)``.
    names : list of str
        The graph's input names; several inputs are given to the network as a dict.
    X : list
        Raw data of each input, for the rows of ``y``.
    y : ndarray
        Encoded targets.
    train, valid : ndarray of int
        Row split. Ignored when ``validation`` or ``folds`` is given.
    validation : (list, ndarray), optional
        Raw inputs and encoded targets of separate validation data.
    folds : list of (train, valid), optional
        Cross-validation folds (row indices) instead of one split.
    """

    def __init__(
        self,
        adapters: list[Any],
        names: Sequence[str],
        X: list[Any],
        y: np.ndarray,
        train: np.ndarray | None = None,
        valid: np.ndarray | None = None,
        validation: tuple[list[Any], np.ndarray] | None = None,
        folds: list[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        self.adapters = adapters
        self.names = list(names)
        self.X = X
        self.y = y
        self.train = train
        self.valid = valid
        self.validation = validation
        self.splits = folds or [(train, valid)]
        self._cache: dict[str, list[TrialData]] = {}
        self._seconds: dict[str, float] = {}

    def _timed_info(self, index: int, config: dict) -> TensorInfo:
        # the first call for a configuration may fit a vectorizer: that time is recorded
        key = json.dumps([index, config], sort_keys=True)
        started = time.perf_counter()
        info = self.adapters[index].info_for(config)
        if key not in self._seconds:
            self._seconds[key] = time.perf_counter() - started
        return info

    @property
    def input_infos(self) -> list[Callable[[dict], TensorInfo]]:
        """For the sampler: each input's TensorInfo as a function of its configuration."""
        return [functools.partial(self._timed_info, i) for i in range(len(self.adapters))]

    def infos(self, configs: Sequence[dict]) -> list[TensorInfo]:
        return [self._timed_info(i, c) for i, c in enumerate(configs)]

    def preparation_seconds(self, configs: Sequence[dict]) -> float:
        """Seconds spent fitting and encoding the inputs for ``configs`` (the first time)."""
        keys = [json.dumps([i, c], sort_keys=True) for i, c in enumerate(configs)]
        keys.append(json.dumps(list(configs), sort_keys=True))
        return sum(self._seconds.get(key, 0.0) for key in keys)

    @property
    def slowest_preparation(self) -> float:
        """The longest single preparation step so far: what a new configuration may cost
        before its trial can be stopped."""
        return max(self._seconds.values(), default=0.0)

    def _encode(self, raw: list[Any], configs: Sequence[dict]) -> Any:
        parts = [a.transform(x, c) for a, x, c in zip(self.adapters, raw, configs)]
        return parts[0] if len(parts) == 1 else dict(zip(self.names, parts))

    @property
    def n_folds(self) -> int:
        """Cross-validation folds; 1 for one validation split."""
        return len(self.splits) if self.validation is None else 1

    @property
    def validation_targets(self) -> Any:
        """The encoded targets trials are scored on, in the order of their validation
        predictions: the validation rows, or every row with cross-validation (each predicted
        by the fold that left it out)."""
        if self.validation is not None:
            return self.validation[1]
        if self.n_folds > 1:
            return self.y
        return _rows(self.y, self.splits[0][1])

    def data(self, configs: Sequence[dict]) -> TrialData:
        """Training and validation data as the sampled input configurations present it (of
        the first fold, with cross-validation)."""
        return self.fold_data(configs)[0]

    def training_rows(self, configs: Sequence[dict]) -> tuple[Any, Any]:
        """The encoded inputs and the targets a network of the search trains on outside a
        trial: the training rows of the validation split, or every row with
        cross-validation (the preprocessing was fitted on every row)."""
        if self.n_folds == 1:
            data = self.data(configs)
            return data.X_train, data.y_train
        return self._encode(self.X, configs), self.y

    def fold_data(self, configs: Sequence[dict]) -> list[TrialData]:
        """The training and validation data of each fold (one for a validation split)."""
        key = json.dumps(list(configs), sort_keys=True)
        if key not in self._cache:
            started = time.perf_counter()
            X = self._encode(self.X, configs)
            if self.validation is not None:
                X_val, y_val = self.validation
                datasets = [TrialData(X, self.y, self._encode(X_val, configs), y_val)]
            else:
                datasets = [
                    TrialData(
                        _rows(X, train), _rows(self.y, train), _rows(X, valid), _rows(self.y, valid)
                    )
                    for train, valid in self.splits
                ]
            self._cache[key] = datasets
            self._seconds[key] = time.perf_counter() - started
        return self._cache[key]


@dataclass
class RefitData:
    """The rows the final model trains on.

    Attributes
    ----------
    adapters : list
        Unfitted input adapters, one per graph input (fitted on ``X`` by the refit).
    X : list
        Raw data of each input.
    y : ndarray or dict
        Encoded targets (a dict keyed by head name for several heads).
    targets : list
        Target adapters whose statistics come from these rows.
    class_weight : ndarray, optional
        Per-class loss weights of these rows.
    """

    adapters: list[Any]
    X: list[Any]
    y: Any
    targets: list[Any]
    class_weight: Any = None

    @property
    def n_rows(self) -> int:
        return n_rows(self.y)


def _take(X: Any, rows: np.ndarray) -> Any:
    """Rows of raw input: of arrays, DataFrames and sequences, or of any array-like."""
    if not hasattr(X, "__getitem__"):
        X = np.asarray(X)
    return _safe_indexing(X, rows)


def _with_statistics(targets: Sequence[Any], y: Any, rows: np.ndarray | None = None) -> list[Any]:
    """The target adapters with the statistics of rows ``rows`` of the encoded ``y``."""
    parts = list(y.values()) if isinstance(y, dict) else [y]
    return [a.on_rows(part if rows is None else part[rows]) for a, part in zip(targets, parts)]


def prepare_data(
    templates: Sequence[Any],
    names: Sequence[str],
    X: list[Any],
    y: Any,
    targets: Sequence[Any],
    *,
    split: tuple[np.ndarray, np.ndarray] | None = None,
    validation: tuple[list[Any], Any] | None = None,
    refit_on_validation: bool = False,
    folds: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[DataSource, list[Any], RefitData, float]:
    """The trials' data, with the preprocessing fitted on their training rows, and the rows
    of the final model.

    Parameters
    ----------
    templates : list
        Unfitted input adapters, one per graph input.
    names : list of str
        The graph's input names.
    X : list
        Raw data of each input.
    y : ndarray or dict
        Encoded targets (a dict keyed by head name for several heads).
    targets : list
        Target adapters fitted on ``y``'s labels.
    split : (train, valid), optional
        Row indices of the validation split.
    validation : (list, ndarray or dict), optional
        Raw inputs and encoded targets of separate validation data, instead of ``split``.
    refit_on_validation : bool
        With ``validation``, whether the final model trains on it too.
    folds : list of (train, valid), optional
        Cross-validation folds, instead of ``split``. The input adapters and the target
        statistics are then fitted on every row, once, so that the fold models share one
        preprocessing and can be averaged: what they learn is label-free (imputation,
        categories, scaling statistics, vocabularies) but for the regression targets' mean
        and scale.

    Returns
    -------
    source : DataSource
        The trials' data.
    search_targets : list
        Target adapters with the statistics of the trials' training rows.
    refit : RefitData
        The final model's rows.
    seconds : float
        Seconds the input adapters took to fit.
    """
    started = time.perf_counter()
    if folds is not None:
        adapters = [clone(a).fit(x) for a, x in zip(templates, X)]
        source = DataSource(adapters, names, X, y, folds=folds)
        search_targets = _with_statistics(targets, y)
        refit = RefitData(list(templates), X, y, search_targets)
    elif validation is None:
        train, valid = split
        adapters = [clone(a).fit(_take(x, train)) for a, x in zip(templates, X)]
        source = DataSource(adapters, names, X, y, train, valid)
        search_targets = _with_statistics(targets, y, train)
        refit = RefitData(list(templates), X, y, _with_statistics(targets, y))
    else:
        adapters = [clone(a).fit(x) for a, x in zip(templates, X)]
        source = DataSource(adapters, names, X, y, validation=validation)
        search_targets = _with_statistics(targets, y)
        if refit_on_validation:
            X_val, y_val = validation
            both_X = [concat_rows(a, b) for a, b in zip(X, X_val)]
            both_y = concat_rows(y, y_val)
            refit = RefitData(list(templates), both_X, both_y, _with_statistics(targets, both_y))
        else:
            refit = RefitData(list(templates), X, y, search_targets)
    return source, search_targets, refit, time.perf_counter() - started
