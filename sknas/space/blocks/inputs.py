"""Graph inputs."""

from __future__ import annotations

from ..registry import register
from .base import Input

__all__ = ["ImageInput", "TabularInput"]


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


@register
class ImageInput(Input):
    """Images: ``(n, h, w)``, ``(n, h, w, c)`` or ``(n, c, h, w)``, uint8 or float.

    Parameters
    ----------
    name : str, optional
        Name of the input; also the key when data is given as a dict.
    """

    type_name = "image_input"
    kind = "image"
