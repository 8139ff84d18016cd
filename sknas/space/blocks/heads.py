"""Heads: what the network predicts, and the loss it is trained with."""

from __future__ import annotations

from typing import Any

from ...hyperparameters import Choice
from ..registry import register
from .base import Head, probability

__all__ = ["ClassificationHead", "RegressionHead"]


@register
class ClassificationHead(Head):
    """Predict one class (softmax, cross-entropy loss), or a set of labels.

    The number of classes is read from the target at fit time. After a :class:`TabMBlock`
    the head has one output layer per member and predicts the members' average probabilities.

    Parameters
    ----------
    multi_label : bool, default=False
        The target is a 0/1 indicator matrix ``(n_samples, n_labels)``; each label gets a
        sigmoid and a binary cross-entropy loss, and predictions are 0/1 label sets.
    dropout : float, hyperparameter or None, default=None
        Dropout before the output layer [0, 0.25].
    name : str, optional
        Block name.
    """

    type_name = "classification_head"
    task = "classification"

    def __init__(
        self, *, multi_label: bool = False, dropout: Any = None, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.multi_label = multi_label
        self.dropout = dropout

    def sample(self, hp):
        return {"dropout": hp.get("dropout", self.dropout, Choice([0.0, 0.25]), probability)}


@register
class RegressionHead(Head):
    """Predict one or several real values (mean squared error on standardized targets).

    The number of outputs and the target scaling are read from the target at fit time;
    predictions come back in the target's own units. After a :class:`TabMBlock` the head has
    one output layer per member and predicts the members' average.

    Parameters
    ----------
    dropout : float, hyperparameter or None, default=None
        Dropout before the output layer [0, 0.25].
    name : str, optional
        Block name.
    """

    type_name = "regression_head"
    task = "regression"

    def __init__(self, *, dropout: Any = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self.dropout = dropout

    def sample(self, hp):
        return {"dropout": hp.get("dropout", self.dropout, Choice([0.0, 0.25]), probability)}
