"""The rows trials are scored on: one seeded validation split, or cross-validation folds,
shared by every trial of a search."""

from __future__ import annotations

import math
import warnings
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.model_selection import (
    KFold,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
    check_cv,
)

from ..exceptions import InvalidInputError

__all__ = ["cv_folds", "smallest_class", "validation_indices"]


def validation_indices(
    n_samples: int, size: float, seed: int, stratify: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation row indices.

    Parameters
    ----------
    n_samples : int
        Rows available.
    size : float
        Share of rows held out for validation, in (0, 1).
    seed : int
        Seed of the split.
    stratify : array of int, optional
        Class codes; the split keeps their proportions when every class has at least two rows
        and the validation set can hold one of each. Otherwise it falls back to a plain shuffle
        split with a warning.

    Returns
    -------
    train, valid : ndarray of int
    """
    n_valid = math.ceil(size * n_samples)
    if n_samples < 2 or n_valid >= n_samples:
        raise InvalidInputError(
            f"too few samples for a validation split: got {n_samples} samples with "
            f"validation_split={size}, which leaves no row to train on. Give at least 2 "
            f"samples, lower validation_split, or pass validation_data=(X_val, y_val)."
        )
    splitter = ShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
    if stratify is not None:
        counts = np.bincount(stratify)
        counts = counts[counts > 0]
        if counts.min() >= 2 and len(counts) <= min(n_valid, n_samples - n_valid):
            splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
        else:
            warnings.warn(
                f"cannot stratify the validation split ({n_valid} validation rows, smallest "
                f"class has {counts.min()} rows); using a plain random split instead.",
                UserWarning,
                stacklevel=3,
            )
            stratify = None
    train, valid = next(splitter.split(np.zeros((n_samples, 1)), stratify))
    return np.sort(train), np.sort(valid)


def smallest_class(n_samples: int, stratify: np.ndarray | None) -> int:
    """Rows of the smallest class present in ``stratify`` (class codes), or ``n_samples``
    without classes: how many folds can keep every class in each."""
    if stratify is None:
        return n_samples
    counts = np.bincount(stratify)
    return int(counts[counts > 0].min())


def cv_folds(
    n_samples: int, cv: Any, seed: int, stratify: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train and validation row indices of each cross-validation fold.

    Parameters
    ----------
    n_samples : int
        Rows available.
    cv : int, cross-validation splitter or iterable of splits
        Folds of a shuffled (stratified, for class codes) k-fold split seeded with ``seed``,
        or what scikit-learn's ``check_cv`` makes of a splitter or of (train, valid) pairs.
    seed : int
        Seed of a k-fold split.
    stratify : array of int, optional
        Class codes; an int ``cv`` keeps their proportions when every class has ``cv`` rows,
        and falls back to a plain k-fold split with a warning otherwise.

    Returns
    -------
    list of (train, valid) ndarray of int

    Raises
    ------
    InvalidInputError
        When the validation folds do not hold every row exactly once.
    """
    if not isinstance(cv, Integral):
        splits = check_cv(cv).split(np.zeros((n_samples, 1)), stratify)
        # int64 whatever the given folds hold: the study records their hash
        folds = [
            (np.sort(np.asarray(a, np.int64)), np.sort(np.asarray(b, np.int64))) for a, b in splits
        ]
        validated = np.sort(np.concatenate([valid for _, valid in folds]))
        if not np.array_equal(validated, np.arange(n_samples)):
            raise InvalidInputError(
                f"cv must put every row in exactly one validation fold (as cross_val_predict "
                f"needs), so that each row is predicted once; the {len(folds)} folds validate "
                f"{len(validated)} rows, {len(np.unique(validated))} distinct, of "
                f"{n_samples}. Use a k-fold splitter such as KFold or StratifiedKFold."
            )
        return folds
    if n_samples < cv:
        raise InvalidInputError(
            f"too few samples for cv={cv}: got {n_samples} samples. Give at least {cv} "
            f"samples, lower cv, or use cv=None for one validation split."
        )
    splitter: Any = KFold(cv, shuffle=True, random_state=seed)
    if stratify is not None:
        smallest = smallest_class(n_samples, stratify)
        if smallest >= cv:
            splitter = StratifiedKFold(cv, shuffle=True, random_state=seed)
        else:
            warnings.warn(
                f"cannot stratify {cv} folds (the smallest class has {smallest} rows); using "
                f"plain k-fold splits instead.",
                UserWarning,
                stacklevel=3,
            )
            stratify = None
    return [(np.sort(a), np.sort(b)) for a, b in splitter.split(np.zeros((n_samples, 1)), stratify)]
