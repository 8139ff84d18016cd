"""Train one sampled architecture with skorch. Never imports ``optuna.study``."""

from .callbacks import DivergenceGuard, PruningReporter, StopOnRequest, TimeLimit
from .net import (
    MultiTaskLoss,
    StandardizedMSELoss,
    is_multi_task,
    make_net,
    resolve_device,
    torch_threads,
)

__all__ = [
    "DivergenceGuard",
    "MultiTaskLoss",
    "PruningReporter",
    "StandardizedMSELoss",
    "StopOnRequest",
    "TimeLimit",
    "is_multi_task",
    "make_net",
    "resolve_device",
    "torch_threads",
]
