"""Tables: column typing, imputation, categorical codes and the statistics for scaling."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from rtdl_num_embeddings import compute_bins
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import (
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils.validation import check_array, check_is_fitted

from ..exceptions import InvalidInputError
from ..space.spec import TensorInfo
from .base import FixedView

__all__ = ["TabularAdapter", "as_frame"]

COLUMN_TYPES = ("numerical", "categorical")


def as_frame(X: Any) -> pd.DataFrame:
    """Validate a table and return it as a DataFrame, keeping the dtypes of a DataFrame.

    Raises sklearn's usual errors for sparse, complex, empty or non-2-D input.
    """
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise InvalidInputError(
                f"Found array with {X.shape[0]} sample(s) and {X.shape[1]} feature(s) (shape="
                f"{X.shape}) while at least 1 of each is required."
            )
        return X
    check_array(X, dtype=None, ensure_all_finite=False, ensure_2d=True, input_name="X")
    frame = pd.DataFrame(np.asarray(X))
    return frame.infer_objects() if frame.dtypes.eq(object).any() else frame


def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    return not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


#: most bins of a numeric column's piecewise-linear embedding (Gorishniy et al. 2022)
MAX_BINS = 48
#: rtdl_num_embeddings's warning for a column with one bin (two distinct values, e.g. a 0/1
#: missing indicator): its piecewise-linear encoding is min-max scaling, as intended here
ONE_BIN = r".*has just two bin edges"


def quantile_bins(numeric: np.ndarray) -> list[list[float]]:
    """Each column's bin edges at its quantiles (``rtdl_num_embeddings.compute_bins``), for
    piecewise-linear embeddings; a column with one value, or a table of two rows or fewer,
    gets the single bin [v, v + 1] from the first row."""
    bins = [[float(v), float(v) + 1.0] for v in numeric[0]] if len(numeric) else []
    varied = np.flatnonzero((numeric != numeric[:1]).any(axis=0))
    if len(numeric) > 2 and varied.size:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ONE_BIN, UserWarning)
            edges = compute_bins(
                torch.as_tensor(numeric[:, varied]), n_bins=min(MAX_BINS, len(numeric) - 1)
            )
        for column, column_edges in zip(varied, edges):
            bins[column] = column_edges.tolist()
    return bins


def robust_scale(numeric: np.ndarray, robust: RobustScaler) -> np.ndarray:
    """The divisor of each column for ``Normalization(method="robust")``: the fitted
    ``robust``'s unit-variance interquartile range, or half the column's range where the
    interquartile range is zero (below scikit-learn's threshold for a zero scale), as RealMLP
    scales (a capital gain that is zero in most rows keeps the size of its other values
    instead of every one of them clipping to about 3). A column without range keeps
    ``robust``'s scale: it is 0 on the training rows whatever the divisor."""
    zero = 10 * np.finfo(np.float64).eps
    q25, q75 = np.percentile(numeric, [25, 75], axis=0)
    half_range = np.ptp(numeric, axis=0) / 2
    return np.where((q75 - q25 < zero) & (half_range >= zero), half_range, robust.scale_)


class TabularAdapter(FixedView, TransformerMixin, BaseEstimator):
    """Turn a table into one float32 matrix: numeric columns, missing flags, category codes.

    Numeric columns are median-imputed, with a 0/1 indicator column for each column that had
    missing values. Categorical columns become integer codes after them, with 0 reserved for
    missing and unseen categories. The scaling itself happens inside the network
    (:class:`~sknas.Normalization`), from the statistics this adapter records.

    Parameters
    ----------
    column_types : dict, optional
        ``{column: "categorical" | "numerical"}`` overriding the inferred type. Columns are
        named as in the DataFrame, or by position for arrays.
    """

    def __init__(self, *, column_types: Mapping[Any, str] | None = None) -> None:
        self.column_types = column_types

    def validate(self, X: Any) -> pd.DataFrame:
        """``X`` as a DataFrame, column types inferred once for all its rows; sklearn's
        usual errors for input that is not a usable table."""
        return as_frame(X)

    def _types(self, frame: pd.DataFrame) -> dict[Any, str]:
        types = {c: "categorical" if _is_categorical(frame[c]) else "numerical" for c in frame}
        for column, kind in (self.column_types or {}).items():
            if column not in types:
                close = difflib.get_close_matches(str(column), map(str, types), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise InvalidInputError(
                    f"column_types names column {column!r}, which X does not have.{hint} "
                    f"Columns: {list(types)}."
                )
            if kind not in COLUMN_TYPES:
                raise InvalidInputError(
                    f"column_types[{column!r}] is {kind!r}; allowed: {list(COLUMN_TYPES)}."
                )
            types[column] = kind
        return types

    def fit(self, X: Any, y: Any = None) -> TabularAdapter:
        frame = as_frame(X)
        types = self._types(frame)
        self.numerical_columns_ = [c for c in frame if types[c] == "numerical"]
        self.categorical_columns_ = [c for c in frame if types[c] == "categorical"]
        self._check_finite(frame)
        self.transformer_ = ColumnTransformer(
            [
                (
                    "numerical",
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    self.numerical_columns_,
                ),
                (
                    "categorical",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=-1,
                        encoded_missing_value=-1,
                        dtype=np.float32,
                    ),
                    self.categorical_columns_,
                ),
            ],
            sparse_threshold=0.0,
        )
        matrix = self._encode(frame, fit=True)
        n_num = matrix.shape[1] - len(self.categorical_columns_)
        numeric = matrix[:, :n_num].astype(np.float64)
        scaler = StandardScaler().fit(numeric)
        robust = RobustScaler(unit_variance=True).fit(numeric)
        quantile = QuantileTransformer(
            n_quantiles=min(1000, len(numeric)), output_distribution="normal"
        ).fit(numeric)
        encoder = self.transformer_.named_transformers_["categorical"]
        cards = [
            int(sum(not pd.isna(v) for v in cats)) for cats in getattr(encoder, "categories_", [])
        ]
        self.info_ = TensorInfo(
            "tabular",
            (matrix.shape[1],),
            {
                "n_numerical": n_num,
                "cardinalities": cards,
                "stats": {
                    "mean": scaler.mean_.tolist(),
                    "scale": scaler.scale_.tolist(),
                    "quantiles": quantile.quantiles_.tolist(),
                    "references": quantile.references_.tolist(),
                    "median": robust.center_.tolist(),
                    "iqr_scale": robust_scale(numeric, robust).tolist(),
                    "bins": quantile_bins(numeric),
                },
            },
        )
        return self

    def _check_finite(self, frame: pd.DataFrame) -> None:
        for column in self.numerical_columns_:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            bad = np.flatnonzero(np.isinf(values))
            if bad.size:
                raise InvalidInputError(
                    f"X contains infinity in column {column!r} (row {bad[0]}). Missing values "
                    f"(NaN) are accepted and imputed; infinite ones are not. Replace them, e.g. "
                    f"with NaN."
                )

    def _encode(self, frame: pd.DataFrame, fit: bool = False) -> np.ndarray:
        # categories are compared as text, missing ones as NaN, whatever their dtype
        if self.categorical_columns_:
            frame = frame.copy(deep=False)
            for c in self.categorical_columns_:
                frame[c] = frame[c].map(str, na_action="ignore").astype(object).fillna(np.nan)
        matrix = (
            self.transformer_.fit_transform(frame) if fit else self.transformer_.transform(frame)
        )
        matrix = np.asarray(matrix, dtype=np.float32)
        n_cat = len(self.categorical_columns_)
        if n_cat:
            matrix[:, -n_cat:] += 1.0
        return matrix

    def transform(self, X: Any, config: dict | None = None) -> np.ndarray:
        """Encode ``X`` with the fitted columns; unseen categories map to code 0."""
        check_is_fitted(self)
        frame = as_frame(X)
        missing = [c for c in self.numerical_columns_ + self.categorical_columns_ if c not in frame]
        if missing:
            raise InvalidInputError(
                f"X lacks the column(s) {missing} that the model was fitted with; pass every "
                f"column used at fit time."
            )
        self._check_finite(frame)
        return self._encode(frame)
