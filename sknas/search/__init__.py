"""Drive the Optuna study. Never imports an estimator."""

from .driver import SearchInterrupt, leaderboard, make_pruner, make_sampler, run_search
from .objective import BestTrial, DataSource, Objective, TrialData

__all__ = [
    "BestTrial",
    "DataSource",
    "Objective",
    "SearchInterrupt",
    "TrialData",
    "leaderboard",
    "make_pruner",
    "make_sampler",
    "run_search",
]
