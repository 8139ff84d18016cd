"""Preprocessing blocks that live inside the network (and so inside exported models)."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Choice
from ..registry import register
from .base import Block, one_of, positive_int

__all__ = ["CategoricalEncoding", "Normalization"]


@register
class Normalization(Block):
    """Scale numeric features with statistics learned from the training data.

    Must be applied directly to an input. Categorical columns of a table pass through.

    Parameters
    ----------
    method : {"standard", "quantile"}, hyperparameter or None, default=None
        ``"standard"`` subtracts the mean and divides by the standard deviation; ``"quantile"``
        maps each feature through its empirical quantiles to a normal distribution (tables
        only). None means ``"standard"``.
    name : str, optional
        Block name.
    """

    type_name = "normalization"

    def __init__(self, *, method: Any = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self.method = method

    def sample(self, hp):
        return {"method": hp.get("method", self.method, "standard", one_of("standard", "quantile"))}


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
