"""One seeded validation split shared by every trial of a search."""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from ..exceptions import InvalidInputError

__all__ = ["validation_indices"]


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
