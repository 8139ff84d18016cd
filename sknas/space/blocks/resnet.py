"""Residual networks sized for their input."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Choice, Int
from ..registry import register
from .base import Block, positive_int

__all__ = ["ResNetBlock"]


@register
class ResNetBlock(Block):
    """A residual network sized for its input: no resize, the stem adapts to the image size.

    Small images (up to 32 pixels) get a 3x3 stride-1 stem; larger ones a 7x7 stride-2 stem
    with pooling. Each stage doubles the filters and halves the size (while the size allows).

    Parameters
    ----------
    num_stages : int, hyperparameter or None, default=None
        Stages [1 to 3].
    blocks_per_stage : int, hyperparameter or None, default=None
        Residual units per stage [1, 2].
    base_filters : int, hyperparameter or None, default=None
        Filters of the first stage [16, 32, 64].
    name : str, optional
        Block name.
    """

    type_name = "resnet_block"

    def __init__(
        self,
        *,
        num_stages: Any = None,
        blocks_per_stage: Any = None,
        base_filters: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.num_stages = num_stages
        self.blocks_per_stage = blocks_per_stage
        self.base_filters = base_filters

    def sample(self, hp):
        return {
            "num_stages": hp.get("num_stages", self.num_stages, Int(1, 3), positive_int),
            "blocks_per_stage": hp.get(
                "blocks_per_stage", self.blocks_per_stage, Int(1, 2), positive_int
            ),
            "base_filters": hp.get(
                "base_filters", self.base_filters, Choice([16, 32, 64]), positive_int
            ),
        }
