"""Drive the Optuna study. Never imports an estimator."""

from .driver import (
    SearchInterrupt,
    copy_to_memory,
    leaderboard,
    make_pruner,
    make_sampler,
    open_study,
    run_search,
)
from .objective import BestTrial, DataSource, Objective, TrialData

__all__ = [
    "BestTrial",
    "DataSource",
    "Objective",
    "SearchInterrupt",
    "TrialData",
    "copy_to_memory",
    "leaderboard",
    "make_pruner",
    "make_sampler",
    "open_study",
    "run_search",
]
