"""Train one sampled architecture with skorch. Never imports ``optuna.study``."""

from .callbacks import (
    DivergenceGuard,
    FitLabelStatistics,
    PruningReporter,
    StopOnRequest,
    TimeLimit,
    log_count_ratios,
)
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
    "FitLabelStatistics",
    "MultiTaskLoss",
    "PruningReporter",
    "StandardizedMSELoss",
    "StopOnRequest",
    "TimeLimit",
    "is_multi_task",
    "log_count_ratios",
    "make_net",
    "resolve_device",
    "torch_threads",
]
