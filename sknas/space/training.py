"""The searched training settings of a trial."""

from __future__ import annotations

from typing import Any

from ..hyperparameters import Choice, Float
from .blocks.base import one_of, positive_int
from .sampling import HyperparameterSampler

__all__ = ["TrainingSpace"]

OPTIMIZERS = ("adam", "adamw", "sgd")


class TrainingSpace:
    """Optimizer, learning rate, weight decay and batch size, each fixed or searched.

    Parameters
    ----------
    optimizer, learning_rate, weight_decay, batch_size : optional
        A plain value, a sknas hyperparameter, or None for the default range.
    """

    def __init__(
        self,
        *,
        optimizer: Any = None,
        learning_rate: Any = None,
        weight_decay: Any = None,
        batch_size: Any = None,
    ) -> None:
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size

    def sample(self, hp: HyperparameterSampler) -> dict[str, Any]:
        """Resolve the training settings to plain values for one trial.

        Parameters
        ----------
        hp : HyperparameterSampler
            Sampler scoped to ``training``.

        Returns
        -------
        dict
            ``optimizer``, ``learning_rate``, ``weight_decay`` and ``batch_size``.
        """
        positive = (lambda v: isinstance(v, (int, float)) and v > 0, "a number > 0")
        non_negative = (lambda v: isinstance(v, (int, float)) and v >= 0, "a number >= 0")
        return {
            "optimizer": hp.get(
                "optimizer", self.optimizer, Choice(["adam", "adamw"]), one_of(*OPTIMIZERS)
            ),
            "learning_rate": hp.get(
                "learning_rate", self.learning_rate, Float(1e-4, 1e-2, log=True), positive
            ),
            "weight_decay": hp.get(
                "weight_decay", self.weight_decay, Float(1e-6, 1e-2, log=True), non_negative
            ),
            "batch_size": hp.get(
                "batch_size", self.batch_size, Choice([32, 64, 128, 256]), positive_int
            ),
        }
