"""A fingerprint of the data a search ran on, stored with persistent studies."""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["fingerprint"]


def _canonical(data: Any) -> Any:
    """The same value for the same data, whichever container it came in."""
    if isinstance(data, dict):
        return {str(k): _canonical(v) for k, v in sorted(data.items(), key=lambda kv: str(kv[0]))}
    if isinstance(data, (list, tuple)) and data and not np.isscalar(data[0]):
        return [_canonical(part) for part in data]
    if isinstance(data, pd.DataFrame):
        hashes = [pd.util.hash_pandas_object(data[c], index=False).to_numpy() for c in data]
        return [list(map(str, data.columns)), [str(t) for t in data.dtypes], hashes]
    if sparse.issparse(data):
        csr = sparse.csr_matrix(data)
        return [csr.shape, csr.data, csr.indices, csr.indptr]
    if data is None:
        return None
    array = np.asarray(data)
    # a strided view and its pickled copy in another process hold the same values
    return array.astype(object) if array.dtype.kind == "U" else np.ascontiguousarray(array)


def fingerprint(*data: Any) -> str:
    """A hash of the given data (arrays, frames, lists of strings, dicts or lists of those).

    Two calls give the same hash for the same values in the same kinds of containers, in any
    process (a DataFrame read twice from one CSV file, say).
    """
    return joblib.hash([_canonical(part) for part in data])
