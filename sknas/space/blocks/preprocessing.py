"""Preprocessing blocks that live inside the network (and so inside exported models)."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Bool, Choice, Float
from ..registry import register
from .base import Block, boolean, one_of, positive_int

__all__ = ["CategoricalEncoding", "ImageAugmentation", "Normalization", "NumericEmbedding"]

positive_number = (
    lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0,
    "a number > 0",
)


@register
class Normalization(Block):
    """Scale numeric features with statistics learned from the training data.

    Must be applied directly to an input. Categorical columns of a table pass through.

    Parameters
    ----------
    method : {"standard", "quantile", "robust"}, hyperparameter or None, default=None
        ``"standard"`` subtracts the mean and divides by the standard deviation; ``"quantile"``
        maps each feature through its empirical quantiles to a normal distribution;
        ``"robust"`` subtracts the median, divides by the interquartile range (scaled to unit
        variance for normal data), or by half the range where that is zero, and clips
        smoothly to (-3, 3) with x / sqrt(1 + (x/3)²), as RealMLP does. Quantile and robust
        scaling are for tables only. None means ``"standard"``.
    name : str, optional
        Block name.
    """

    type_name = "normalization"

    def __init__(self, *, method: Any = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self.method = method

    def sample(self, hp):
        method = hp.get("method", self.method, "standard", one_of("standard", "quantile", "robust"))
        return {"method": method}


#: embeddings of a table's numeric columns
NUMERIC_EMBEDDINGS = ("none", "periodic", "piecewise_linear")


@register
class NumericEmbedding(Block):
    """Embed each numeric column of a table in several dimensions, before the dense layers.

    ``"periodic"`` is the PLR embedding of Gorishniy et al. (2022) in its "lite" form:
    sines and cosines of learned frequencies, then a linear layer shared by the columns and
    a ReLU (``rtdl_num_embeddings.PeriodicEmbeddings``). ``"piecewise_linear"`` encodes each
    value by where it falls among its column's training quantiles (up to 48 bins), then
    applies a per-column linear layer (``rtdl_num_embeddings.PiecewiseLinearEmbeddings``,
    version B: a linear embedding at initialization). Both let an MLP fit sharp, irregular
    functions of single features, which it otherwise learns slowly. Apply it after
    :class:`Normalization` (the bin edges are mapped through it) and before
    :class:`CategoricalEncoding`; categorical codes pass through.

    Parameters
    ----------
    method : {"none", "periodic", "piecewise_linear"}, hyperparameter or None, default=None
        None searches all three; ``"none"`` passes the numbers through.
    embedding_dim : int, hyperparameter or None, default=None
        Dimensions per column; None searches 8, 16 and 24.
    frequency_scale : float, hyperparameter or None, default=None
        Standard deviation of the initial frequencies (sigma in the paper; the setting that
        matters most); None searches 0.01 to 10, log-uniform.
    name : str, optional
        Block name.
    """

    type_name = "numeric_embedding"

    def __init__(
        self,
        *,
        method: Any = None,
        embedding_dim: Any = None,
        frequency_scale: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.method = method
        self.embedding_dim = embedding_dim
        self.frequency_scale = frequency_scale

    def sample(self, hp):
        method = hp.get(
            "method", self.method, Choice(list(NUMERIC_EMBEDDINGS)), one_of(*NUMERIC_EMBEDDINGS)
        )
        config = {"method": method}
        if method != "none":
            config["embedding_dim"] = hp.get(
                "embedding_dim", self.embedding_dim, Choice([8, 16, 24]), positive_int
            )
        if method == "periodic":
            config["frequency_scale"] = hp.get(
                "frequency_scale",
                self.frequency_scale,
                Float(0.01, 10.0, log=True),
                positive_number,
            )
        return config


@register
class CategoricalEncoding(Block):
    """Turn a table's categorical codes into numbers: learned embeddings or one-hot vectors.

    Unseen and missing categories share one reserved code, so they never crash prediction.

    Parameters
    ----------
    method : {"embedding", "one_hot"}, hyperparameter or None, default=None
        None searches both.
    embedding_dim : int, hyperparameter or None, default=None
        Width of each column's embedding (capped by the column's cardinality). None searches
        4, 8 and 16.
    name : str, optional
        Block name.
    """

    type_name = "categorical_encoding"

    def __init__(
        self, *, method: Any = None, embedding_dim: Any = None, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.method = method
        self.embedding_dim = embedding_dim

    def sample(self, hp):
        method = hp.get(
            "method", self.method, Choice(["embedding", "one_hot"]), one_of("embedding", "one_hot")
        )
        config = {"method": method}
        if method == "embedding":
            config["embedding_dim"] = hp.get(
                "embedding_dim", self.embedding_dim, Choice([4, 8, 16]), positive_int
            )
        return config


@register
class ImageAugmentation(Block):
    """Random image transformations, applied to training batches only.

    Each argument is a plain value (fixed), a sknas hyperparameter (searched) or None (the
    default range, in brackets). A factor of 0 (or False) turns that transformation off.

    Parameters
    ----------
    percentage : float, hyperparameter or None, default=None
        Share of the images of each batch that are augmented [0.5, 1.0].
    rotation_range : float, hyperparameter or None, default=None
        Largest rotation, in degrees, either way [0, 10, 20].
    random_crop : bool, hyperparameter or None, default=None
        Crop a random region of 80 to 100% of each side and resize it back [False, True].
    horizontal_flip, vertical_flip : bool, hyperparameter or None, default=None
        Flip half of the augmented images [False, True].
    translation_factor : float, hyperparameter or None, default=None
        Largest shift, as a share of the height and width [0, 0.1]; shifts are whole pixels
        (torchvision's ``RandomAffine`` rounds them), so on small images a shift may round up
        past it (8 pixels at 0.1: 0 or 1 pixel).
    zoom_factor : float, hyperparameter or None, default=None
        Largest zoom in or out, as a share of the size [0, 0.1].
    contrast_factor : float, hyperparameter or None, default=None
        Largest contrast change: each image's contrast is scaled by a factor drawn from
        ``[1 - contrast_factor, 1 + contrast_factor]`` [0, 0.2].
    name : str, optional
        Block name.
    """

    type_name = "image_augmentation"

    def __init__(
        self,
        *,
        percentage: Any = None,
        rotation_range: Any = None,
        random_crop: Any = None,
        horizontal_flip: Any = None,
        vertical_flip: Any = None,
        translation_factor: Any = None,
        zoom_factor: Any = None,
        contrast_factor: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.percentage = percentage
        self.rotation_range = rotation_range
        self.random_crop = random_crop
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.translation_factor = translation_factor
        self.zoom_factor = zoom_factor
        self.contrast_factor = contrast_factor

    def sample(self, hp):
        share = (lambda v: isinstance(v, (int, float)) and 0 < v <= 1, "a float in (0, 1]")
        factor = (lambda v: isinstance(v, (int, float)) and 0 <= v < 1, "a float in [0, 1)")
        degrees = (lambda v: isinstance(v, (int, float)) and 0 <= v <= 180, "0 to 180 degrees")
        return {
            "percentage": hp.get("percentage", self.percentage, Choice([0.5, 1.0]), share),
            "rotation_range": hp.get(
                "rotation_range", self.rotation_range, Choice([0.0, 10.0, 20.0]), degrees
            ),
            "random_crop": hp.get("random_crop", self.random_crop, Bool(), boolean),
            "horizontal_flip": hp.get("horizontal_flip", self.horizontal_flip, Bool(), boolean),
            "vertical_flip": hp.get("vertical_flip", self.vertical_flip, Bool(), boolean),
            "translation_factor": hp.get(
                "translation_factor", self.translation_factor, Choice([0.0, 0.1]), factor
            ),
            "zoom_factor": hp.get("zoom_factor", self.zoom_factor, Choice([0.0, 0.1]), factor),
            "contrast_factor": hp.get(
                "contrast_factor", self.contrast_factor, Choice([0.0, 0.2]), factor
            ),
        }
