"""The searched training settings of a trial."""

from __future__ import annotations

from typing import Any

from ..hyperparameters import Choice, Float
from .blocks.base import one_of, positive_int
from .sampling import HyperparameterSampler

__all__ = ["BATCH_MIXING", "LR_SCHEDULES", "TrainingSpace"]

OPTIMIZERS = ("adam", "adamw", "sgd")
#: learning-rate schedules over the training's batches (see :func:`sknas.training.make_net`)
LR_SCHEDULES = ("constant", "cosine", "one_cycle", "flat_cosine")
#: ways of mixing the images and labels of each training batch (torchvision's MixUp and CutMix)
BATCH_MIXING = ("none", "mixup", "cutmix")


class TrainingSpace:
    """Optimizer, learning rate and its schedule, weight decay, batch size, label smoothing
    and batch mixing, each fixed or searched.

    Parameters
    ----------
    optimizer, learning_rate, weight_decay, batch_size : optional
        A plain value, a sknas hyperparameter, or None for the default range.
    lr_schedule : optional
        One of :data:`LR_SCHEDULES`: ``"constant"``, ``"cosine"`` (cosine decay to zero),
        ``"one_cycle"`` (warm-up then annealing, PyTorch's ``OneCycleLR``) or
        ``"flat_cosine"`` (constant for the first half, then cosine decay); None searches them.
    label_smoothing : optional
        Label smoothing of a single-label classifier's training loss, in [0, 1); validation
        losses are not smoothed. None searches 0 and 0.1; pass 0.0 for other heads.
    batch_mixing : optional
        One of :data:`BATCH_MIXING`, for a single-label classifier of one image input:
        ``"none"``, ``"mixup"`` (each training batch blended with itself shuffled, labels in
        the same proportion; Zhang et al. 2018) or ``"cutmix"`` (a patch of the shuffled
        batch pasted in, labels by the patch's area; Yun et al. 2019), torchvision's
        ``MixUp`` and ``CutMix`` with ``alpha=1``. None searches them; pass ``"none"`` for
        other networks.
    """

    def __init__(
        self,
        *,
        optimizer: Any = None,
        learning_rate: Any = None,
        weight_decay: Any = None,
        batch_size: Any = None,
        lr_schedule: Any = None,
        label_smoothing: Any = None,
        batch_mixing: Any = None,
    ) -> None:
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.batch_mixing = batch_mixing

    def sample(self, hp: HyperparameterSampler) -> dict[str, Any]:
        """Resolve the training settings to plain values for one trial.

        Parameters
        ----------
        hp : HyperparameterSampler
            Sampler scoped to ``training``.

        Returns
        -------
        dict
            ``optimizer``, ``learning_rate``, ``weight_decay``, ``batch_size``,
            ``lr_schedule``, ``label_smoothing`` and ``batch_mixing``.
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
            "lr_schedule": hp.get(
                "lr_schedule", self.lr_schedule, Choice(list(LR_SCHEDULES)), one_of(*LR_SCHEDULES)
            ),
            "label_smoothing": hp.get(
                "label_smoothing",
                self.label_smoothing,
                Choice([0.0, 0.1]),
                (lambda v: isinstance(v, (int, float)) and 0 <= v < 1, "a number in [0, 1)"),
            ),
            "batch_mixing": hp.get(
                "batch_mixing",
                self.batch_mixing,
                Choice(list(BATCH_MIXING)),
                one_of(*BATCH_MIXING),
            ),
        }
