"""Train one sampled architecture with skorch. Never imports ``optuna.study``."""

from .callbacks import DivergenceGuard, PruningReporter, TimeLimit
from .net import StandardizedMSELoss, make_net, resolve_device

__all__ = [
    "DivergenceGuard",
    "PruningReporter",
    "StandardizedMSELoss",
    "TimeLimit",
    "make_net",
    "resolve_device",
]
