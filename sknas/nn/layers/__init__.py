"""Reusable modules and the builder function of each block type."""

from . import dense, image, preprocessing, tabular, text

__all__ = ["dense", "image", "preprocessing", "tabular", "text"]
