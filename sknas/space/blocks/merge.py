"""Joining branches and reducing feature maps to vectors."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Choice
from ..registry import register
from .base import Block, one_of

__all__ = ["Merge", "SpatialReduction", "TemporalReduction"]


@register
class Merge(Block):
    """Join several branches into one vector, trained together in every trial.

    Parameters
    ----------
    merge_type : {"concatenate", "add"}, hyperparameter or None, default=None
        ``"add"`` projects every branch to the widest branch's width first. None searches both.
    name : str, optional
        Block name.
    """

    type_name = "merge"
    arity = None

    def __init__(self, *, merge_type: Any = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self.merge_type = merge_type

    def sample(self, hp):
        return {
            "merge_type": hp.get(
                "merge_type",
                self.merge_type,
                Choice(["concatenate", "add"]),
                one_of("concatenate", "add"),
            )
        }


@register
class SpatialReduction(Block):
    """Turn an image feature map into a vector.

    Parameters
    ----------
    reduction_type : {"flatten", "global_avg", "global_max"}, hyperparameter or None
        None searches all three.
    name : str, optional
        Block name.
    """

    type_name = "spatial_reduction"

    def __init__(self, *, reduction_type: Any = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self.reduction_type = reduction_type

    def sample(self, hp):
        kinds = ("flatten", "global_avg", "global_max")
        return {
            "reduction_type": hp.get(
                "reduction_type", self.reduction_type, Choice(list(kinds)), one_of(*kinds)
            )
        }


@register
class TemporalReduction(Block):
    """Turn a sequence of vectors into one vector.

    Parameters
    ----------
    reduction_type : {"flatten", "global_avg", "global_max"}, hyperparameter or None
        None searches global average and global max.
    name : str, optional
        Block name.
    """

    type_name = "temporal_reduction"

    def __init__(self, *, reduction_type: Any = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self.reduction_type = reduction_type

    def sample(self, hp):
        kinds = ("flatten", "global_avg", "global_max")
        return {
            "reduction_type": hp.get(
                "reduction_type",
                self.reduction_type,
                Choice(["global_avg", "global_max"]),
                one_of(*kinds),
            )
        }
