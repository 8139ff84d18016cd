"""Graph inputs."""

from __future__ import annotations

from ..registry import register
from .base import Input

__all__ = ["TabularInput"]


@register
class TabularInput(Input):
    """A table: numeric, categorical and missing values, as a 2-D array or a DataFrame.

    Parameters
    ----------
    name : str, optional
        Name of the input; also the key when data is given as a dict.
    """

    type_name = "tabular_input"
    kind = "tabular"
