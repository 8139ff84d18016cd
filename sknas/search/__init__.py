"""Drive the Optuna study. Never imports an estimator."""

from .data import DataSource, RefitData, TrialData, concat_rows, prepare_data
from .driver import (
    SearchInterrupt,
    check_completed,
    copy_to_memory,
    leaderboard,
    make_pruner,
    make_sampler,
    open_study,
    run_search,
)
from .final import FinalModel, final_model
from .objective import PROCESS, BestTrial, Objective, final_model_seconds
from .pool import local_storage, run_with_workers

__all__ = [
    "PROCESS",
    "BestTrial",
    "DataSource",
    "FinalModel",
    "Objective",
    "RefitData",
    "SearchInterrupt",
    "TrialData",
    "check_completed",
    "concat_rows",
    "copy_to_memory",
    "final_model",
    "final_model_seconds",
    "leaderboard",
    "local_storage",
    "make_pruner",
    "make_sampler",
    "open_study",
    "prepare_data",
    "run_search",
    "run_with_workers",
]
