"""Joining branches."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Choice
from ..registry import register
from .base import Block, one_of

__all__ = ["Merge"]


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
