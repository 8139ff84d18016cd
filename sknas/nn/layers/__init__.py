"""Reusable modules and the builder function of each block type."""

from . import dense, tabular

__all__ = ["dense", "tabular"]
