"""make_net: an unfitted skorch net for one sampled architecture."""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from scipy import sparse
from skorch import NeuralNet, NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Callback, EarlyStopping, EpochScoring, LRScheduler
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from torch import nn
from torch.optim.lr_scheduler import ConstantLR, CosineAnnealingLR, OneCycleLR, SequentialLR
from torchvision.transforms import v2
from tqdm.auto import tqdm

from ..space.spec import ArchitectureSpec, TensorInfo
from ..space.training import BATCH_MIXING, LR_SCHEDULES
from .callbacks import FitLabelStatistics

__all__ = [
    "MultiTaskLoss",
    "StandardizedMSELoss",
    "TrainingCrossEntropy",
    "is_multi_task",
    "make_net",
    "resolve_device",
    "torch_threads",
    "use_mixed_precision",
]

logger = logging.getLogger("sknas")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class MixedPrecision:
    """Runs the forward pass under ``torch.autocast`` in bfloat16 when ``mixed_precision`` is
    set; the outputs come back in float32, so losses and predictions are computed as without
    it. bfloat16 keeps float32's range, so no gradient scaling is needed."""

    mixed_precision: bool = False

    def infer(self, x: Any, **fit_params: Any) -> Any:
        if not self.mixed_precision:
            return super().infer(x, **fit_params)
        with torch.autocast(device_type=torch.device(self.device).type, dtype=torch.bfloat16):
            out = super().infer(x, **fit_params)
        return tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()


class Net(MixedPrecision, NeuralNet):
    """skorch's NeuralNet, with optional mixed precision."""


class ClassifierNet(MixedPrecision, NeuralNetClassifier):
    """skorch's NeuralNetClassifier, with optional mixed precision and batch mixing.

    Parameters
    ----------
    *args, **kwargs
        skorch's ``NeuralNetClassifier`` arguments; ``classes`` is required with mixing.
    batch_mixing : str, default="none"
        One of :data:`~sknas.space.training.BATCH_MIXING`: torchvision's ``MixUp`` or
        ``CutMix`` turns each training batch into mixed images and label distributions
        before the forward pass.
    """

    def __init__(self, *args: Any, batch_mixing: str = "none", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_mixing = batch_mixing

    def initialize(self) -> ClassifierNet:
        if self.batch_mixing not in BATCH_MIXING:
            raise ValueError(
                f"batch_mixing must be one of {list(BATCH_MIXING)}; received {self.batch_mixing!r}."
            )
        return super().initialize()

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        """skorch's training step, on the batch mixed by ``batch_mixing`` (when not
        ``"none"``): labels become distributions over ``classes_``."""
        if self.batch_mixing != "none":
            mix = MIXINGS[self.batch_mixing](num_classes=len(self.classes_))
            batch = mix(*batch)
        return super().train_step_single(batch, **fit_params)


class RegressorNet(MixedPrecision, NeuralNetRegressor):
    """skorch's NeuralNetRegressor, with optional mixed precision."""


def use_mixed_precision(device: str) -> bool:
    """Mixed precision is used on CUDA devices that compute in bfloat16."""
    return torch.device(device).type == "cuda" and torch.cuda.is_bf16_supported()


class EpochLog:
    """Where skorch's epoch table goes: each line to the ``sknas`` logger (DEBUG level, without
    colours) and, when ``show``, to the terminal above the trial progress bar."""

    def __init__(self, show: bool) -> None:
        self.show = show

    def __call__(self, text: str) -> None:
        logger.debug(_ANSI.sub("", text))
        if self.show:
            tqdm.write(text)


OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
#: the batch mixings of :data:`~sknas.space.training.BATCH_MIXING`
MIXINGS = {"mixup": v2.MixUp, "cutmix": v2.CutMix}


class InputsDataset(Dataset):
    """skorch's Dataset, with the sparse rows of a dict of inputs (TF-IDF texts beside other
    inputs) made dense as skorch makes a sparse ``X`` dense."""

    def transform(self, X: Any, y: Any) -> tuple[Any, Any]:
        if isinstance(X, dict):
            X = {k: v.toarray().squeeze(0) if sparse.issparse(v) else v for k, v in X.items()}
        return super().transform(X, y)


def per_member(prediction: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A head's prediction and its target, one row per member where the head returns every
    member of a :class:`~sknas.TabMBlock` (``(n, k, outputs)``, in training mode): the
    members' rows side by side and the target repeated ``k`` times, so that a loss averaged
    over rows is the members' average loss. Other predictions, ``(n, outputs)``, are returned
    unchanged."""
    if prediction.ndim != 3:
        return prediction, target
    return prediction.flatten(0, 1), target.repeat_interleave(prediction.shape[1], dim=0)


class TrainingCrossEntropy(nn.CrossEntropyLoss):
    """Cross-entropy whose label smoothing applies in training mode only: skorch scores the
    validation rows in eval mode, so validation losses stay plain log-losses, comparable
    between trials with and without smoothing."""

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        input, target = per_member(input, target)
        return nn.functional.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing if self.training else 0.0,
        )


def flat_cosine(optimizer: Any, steps: int, last_epoch: int = -1) -> SequentialLR:
    """The ``"flat_cosine"`` schedule over ``steps`` batches, from PyTorch's schedulers: the
    rate held for the first half, then a cosine decay to 0 (a policy for skorch's
    ``LRScheduler``, which passes ``last_epoch``)."""
    flat = steps // 2
    return SequentialLR(
        optimizer,
        [
            ConstantLR(optimizer, factor=1.0, total_iters=flat),
            CosineAnnealingLR(optimizer, T_max=max(1, steps - flat)),
        ],
        milestones=[flat],
        last_epoch=last_epoch,
    )


def lr_schedule(name: str, steps: int, lr: float) -> LRScheduler | None:
    """skorch's ``LRScheduler`` for a schedule of :data:`~sknas.space.training.LR_SCHEDULES`
    over ``steps`` batches, stepped every batch; None for ``"constant"``."""
    if name == "constant":
        return None
    if name == "cosine":
        return LRScheduler(policy=CosineAnnealingLR, T_max=steps, step_every="batch")
    if name == "one_cycle":
        return LRScheduler(policy=OneCycleLR, max_lr=lr, total_steps=steps, step_every="batch")
    if name == "flat_cosine":
        return LRScheduler(policy=flat_cosine, steps=steps, step_every="batch")
    raise ValueError(
        f"unknown lr_schedule {name!r}; use one of {list(LR_SCHEDULES)} (see "
        f"sknas.space.TrainingSpace)."
    )


class StandardizedMSELoss(nn.Module):
    """Mean squared error measured in units of each target's standard deviation.

    The regression head outputs the target's own units; dividing by the scale gives the same
    gradients as training on standardized targets.
    """

    def __init__(self, scale: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(list(scale), dtype=torch.float32))

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        prediction, target = per_member(prediction, target)
        return (((prediction - target) / self.scale) ** 2).mean()


class MultiTaskLoss(nn.Module):
    """Weighted sum of each head's loss: cross-entropy, binary cross-entropy per label
    (multi-label) or standardized squared error.

    Parameters
    ----------
    names : list of str
        Head names, in the order the module returns its outputs; the keys of the target dict.
    targets : list of dict
        Each head's target, as :meth:`TensorInfo.to_dict` gives it.
    weights : list of float
        Weight of each head's loss.
    """

    def __init__(self, names: list[str], targets: list[dict], weights: list[float]) -> None:
        super().__init__()
        self.names = list(names)
        self.kinds = ["multi_label" if t["meta"].get("multi_label") else t["kind"] for t in targets]
        self.weights = list(weights)
        for i, t in enumerate(targets):
            scale = torch.tensor(t["meta"].get("scale", [1.0]), dtype=torch.float32)
            self.register_buffer(f"scale_{i}", scale)

    def forward(self, outputs, targets) -> torch.Tensor:
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        if not isinstance(targets, dict):
            targets = {self.names[0]: targets}
        total = outputs[0].new_zeros(())
        for i, (name, kind, weight, out) in enumerate(
            zip(self.names, self.kinds, self.weights, outputs)
        ):
            out, y = per_member(out, targets[name])
            scale = getattr(self, f"scale_{i}")
            if kind == "classification":
                loss = nn.functional.cross_entropy(out, y.long())
            elif kind == "multi_label":
                loss = nn.functional.binary_cross_entropy_with_logits(out, y.float())
            else:
                loss = (((out - y) / scale) ** 2).mean()
            total = total + weight * loss
        return total


def is_multi_task(targets: Sequence[TensorInfo]) -> bool:
    """Whether the targets need the generic multi-head net (several heads, or multi-label)."""
    return len(targets) > 1 or bool(targets[0].meta.get("multi_label"))


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Torch's intra-op thread count set to ``threads`` inside the block; None leaves it."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def resolve_device(device: str) -> str:
    """``"auto"`` is CUDA when available, else CPU; anything else is kept."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def make_net(
    module: nn.Module,
    spec: ArchitectureSpec,
    targets: Sequence[TensorInfo],
    *,
    loss_weights: Sequence[float] | None = None,
    max_epochs: int,
    valid: tuple[Any, Any] | None = None,
    objective: Any = None,
    patience: int | None = None,
    class_weight: np.ndarray | None = None,
    callbacks: Sequence[tuple[str, Callback]] = (),
    device: str = "cpu",
    verbose: int = 0,
    n_train: int | None = None,
    mixed_precision: bool | None = None,
):
    """Build an unfitted skorch net around ``module``.

    Every net sets the module's label statistics from its first fit's rows
    (:class:`~sknas.training.FitLabelStatistics`) and reads its data through
    :class:`InputsDataset`.

    Parameters
    ----------
    module : torch.nn.Module
        The initialized network (a :class:`~sknas.nn.GraphModule`).
    spec : ArchitectureSpec
        Supplies the training settings (optimizer, learning rate and schedule, weight decay,
        batch size, label smoothing and batch mixing).
    targets : sequence of TensorInfo
        Each head's target, in ``spec.outputs`` order. One single-label target gives a
        skorch classifier or regressor; several (or a multi-label one) give a ``NeuralNet``
        whose targets are a dict keyed by head name, trained on :class:`MultiTaskLoss`.
    loss_weights : sequence of float, optional
        Weight of each head's loss (several heads); None weighs them equally.
    max_epochs : int
        Epoch cap.
    valid : (X, y), optional
        Validation data, monitored every epoch. None trains without validation.
    objective : str or callable, optional
        An sklearn scorer name or callable, scored on the validation data each epoch as
        ``"score"``. None monitors ``"valid_loss"``.
    patience : int, optional
        Early-stopping patience on the monitored value; the best epoch's weights are restored.
    class_weight : ndarray, optional
        Per-class loss weights.
    callbacks : sequence of (name, callback)
        Added after the scoring and early stopping; used as given (clone them first).
    device : str
        Torch device.
    verbose : int
        skorch verbosity (1 prints a line per epoch).
    n_train : int, optional
        Training rows; when the last batch would hold a single row it is dropped (batch
        normalization cannot train on one row). The spec's learning-rate schedule spans
        ``max_epochs`` epochs of these rows; without them the rate stays constant.
    mixed_precision : bool, optional
        Run forward passes in bfloat16 under ``torch.autocast``; None uses it on CUDA devices
        that support it.

    Returns
    -------
    skorch.NeuralNetClassifier, skorch.NeuralNetRegressor or skorch.NeuralNet

    Raises
    ------
    ValueError
        When the spec mixes batches (``batch_mixing``) of a network that is not a single-label
        classifier of one image input.
    """
    training = spec.training
    mixing = training.get("batch_mixing", "none")
    inputs = [n.type.removesuffix("_input") for n in spec.nodes if n.name in spec.inputs]
    single_label = not is_multi_task(targets) and targets[0].kind == "classification"
    if mixing != "none" and not (inputs == ["image"] and single_label):
        heads = ["multi-label" if t.meta.get("multi_label") else t.kind for t in targets]
        raise ValueError(
            f"batch_mixing={mixing!r} mixes images and their labels, for one image input and "
            f"one single-label classification head; this network has inputs {inputs} and "
            f"heads {heads}. Use batch_mixing='none' (see sknas.space.TrainingSpace)."
        )
    own: list[tuple[str, Callback]] = [("label_statistics", FitLabelStatistics())]
    if valid is not None and objective is not None:
        own.append(
            ("score", EpochScoring(objective, lower_is_better=False, name="score", on_train=False))
        )
    if valid is not None and patience is not None:
        monitor = "score" if objective is not None else "valid_loss"
        own.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    patience=patience,
                    lower_is_better=objective is None,
                    load_best=True,
                    sink=logger.debug,
                ),
            )
        )
    batch = training["batch_size"]
    drop_last = n_train is not None and n_train > batch and n_train % batch == 1
    if n_train is not None:
        batches = n_train // batch if drop_last else math.ceil(n_train / batch)
        schedule = lr_schedule(
            training.get("lr_schedule", "constant"),
            max_epochs * batches,
            training["learning_rate"],
        )
        if schedule is not None:
            own.append(("lr_scheduler", schedule))
    kwargs: dict[str, Any] = {
        "module": module,
        "optimizer": OPTIMIZERS[training["optimizer"]],
        "lr": training["learning_rate"],
        "optimizer__weight_decay": training["weight_decay"],
        "batch_size": batch,
        "max_epochs": max_epochs,
        "dataset": InputsDataset,
        "train_split": predefined_split(InputsDataset(*valid)) if valid is not None else None,
        "iterator_train__shuffle": True,
        "iterator_train__drop_last": drop_last,
        "callbacks": own + list(callbacks),
        "device": device,
        "verbose": verbose,
        "callbacks__print_log__sink": EpochLog(show=verbose >= 1),
    }
    if training["optimizer"] == "sgd":
        kwargs["optimizer__momentum"] = 0.9
    if is_multi_task(targets):
        kwargs["criterion"] = MultiTaskLoss
        kwargs["criterion__names"] = list(spec.outputs)
        kwargs["criterion__targets"] = [t.to_dict() for t in targets]
        kwargs["criterion__weights"] = list(loss_weights or [1.0] * len(targets))
        net = Net(**kwargs)
    elif targets[0].kind == "classification":
        kwargs["criterion"] = TrainingCrossEntropy
        kwargs["criterion__label_smoothing"] = training.get("label_smoothing", 0.0)
        kwargs["classes"] = list(range(targets[0].shape[0]))
        if class_weight is not None:
            kwargs["criterion__weight"] = torch.as_tensor(class_weight, dtype=torch.float32)
        net = ClassifierNet(**kwargs, batch_mixing=mixing)
    else:
        kwargs["criterion"] = StandardizedMSELoss
        kwargs["criterion__scale"] = targets[0].meta["scale"]
        net = RegressorNet(**kwargs)
    net.mixed_precision = (
        use_mixed_precision(device) if mixed_precision is None else mixed_precision
    )
    return net
