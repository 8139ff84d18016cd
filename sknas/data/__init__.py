"""Adapt raw input and targets to tensors; fitted once per ``fit`` and shared by every trial."""

from .image import ImageAdapter
from .split import cv_folds, smallest_class, validation_indices
from .tabular import TabularAdapter
from .targets import ClassificationTarget, MultiLabelTarget, RegressionTarget
from .text import TextAdapter

__all__ = [
    "ClassificationTarget",
    "ImageAdapter",
    "MultiLabelTarget",
    "RegressionTarget",
    "TabularAdapter",
    "TextAdapter",
    "cv_folds",
    "smallest_class",
    "validation_indices",
]
