"""Images: layout, dtype and per-channel statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InvalidInputError
from ..space.spec import TensorInfo
from .base import FixedView

__all__ = ["ImageAdapter"]

CHANNELS = (1, 2, 3, 4)


class ImageAdapter(FixedView, TransformerMixin, BaseEstimator):
    """Turn image arrays into float32 ``(n, channels, height, width)`` tensors.

    Accepts ``(n, h, w)`` (one channel), ``(n, h, w, c)`` and ``(n, c, h, w)``. ``uint8``
    pixels are scaled to [0, 1]; other numeric dtypes are kept. Per-channel mean and standard
    deviation of the training images are recorded for :class:`~sknas.Normalization`.

    Parameters
    ----------
    channels_last : bool or None, default=None
        Layout of 4-D input. None detects it: the axis of size 1 to 4 holds the channels; when
        both the second and the last axes could, channels last is assumed (as in Keras).
    """

    def __init__(self, *, channels_last: bool | None = None) -> None:
        self.channels_last = channels_last

    def _layout(self, X: np.ndarray) -> bool:
        if self.channels_last is not None:
            return self.channels_last
        if X.shape[-1] in CHANNELS:
            return True
        if X.shape[1] in CHANNELS:
            return False
        raise InvalidInputError(
            f"cannot tell the channel axis of images shaped {X.shape[1:]}: neither the second "
            f"nor the last axis has 1 to 4 channels. Pass channels_last=True or False."
        )

    def validate(self, X: Any) -> np.ndarray:
        """Check ``X`` is a non-empty numeric array of 3 or 4 dimensions; return it."""
        if hasattr(X, "toarray"):
            raise TypeError("sparse input is not supported for images; pass a dense array.")
        X = np.asarray(X)
        if X.ndim not in (3, 4):
            raise InvalidInputError(
                f"images must be an array shaped (n, height, width), (n, height, width, "
                f"channels) or (n, channels, height, width); received shape {X.shape}."
            )
        if X.shape[0] == 0:
            raise InvalidInputError(f"Found array with 0 sample(s) (shape={X.shape}).")
        if X.dtype.kind not in "uifb":
            raise InvalidInputError(
                f"images must hold numbers (uint8 pixels or floats); received dtype {X.dtype}."
            )
        if X.dtype.kind == "f" and not np.isfinite(X).all():
            raise InvalidInputError("images contain NaN or infinity; every pixel needs a value.")
        return X

    def _to_tensor_layout(self, X: np.ndarray, channels_last: bool) -> np.ndarray:
        scale = 255.0 if X.dtype == np.uint8 else 1.0
        X = X.astype(np.float32) / np.float32(scale)
        if X.ndim == 3:
            return X[:, None]
        return np.ascontiguousarray(X.transpose(0, 3, 1, 2)) if channels_last else X

    def fit(self, X: Any, y: Any = None) -> ImageAdapter:
        X = self.validate(X)
        self.channels_last_ = X.ndim == 4 and self._layout(X)
        self.input_shape_ = X.shape[1:]
        images = self._to_tensor_layout(X, self.channels_last_)
        mean = images.mean(axis=(0, 2, 3), dtype=np.float64)
        std = images.std(axis=(0, 2, 3), dtype=np.float64)
        self.info_ = TensorInfo(
            "image",
            tuple(int(d) for d in images.shape[1:]),
            {"stats": {"mean": mean.tolist(), "scale": np.where(std > 0, std, 1.0).tolist()}},
        )
        return self

    def transform(self, X: Any, config: dict | None = None) -> np.ndarray:
        """Images as float32 ``(n, channels, height, width)``; the shape must match ``fit``."""
        check_is_fitted(self)
        X = self.validate(X)
        if X.shape[1:] != self.input_shape_:
            raise InvalidInputError(
                f"images are shaped {X.shape[1:]}, but the model was fitted on images shaped "
                f"{self.input_shape_}; resize them (same height, width and channels) first."
            )
        return self._to_tensor_layout(X, self.channels_last_)
