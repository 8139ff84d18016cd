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
from .ensemble import Ensemble, EnsembleLoss, select_ensemble
from .final import (
    FinalModel,
    MemberTrials,
    choose_ensemble,
    final_ensemble,
    final_model,
    member_trials,
    members_fit,
)
from .objective import PROCESS, Objective, TrialWeights, final_model_seconds
from .pool import local_storage, run_with_workers
from .storage import check_folds

__all__ = [
    "PROCESS",
    "DataSource",
    "Ensemble",
    "EnsembleLoss",
    "FinalModel",
    "MemberTrials",
    "Objective",
    "RefitData",
    "SearchInterrupt",
    "TrialData",
    "TrialWeights",
    "check_completed",
    "check_folds",
    "choose_ensemble",
    "concat_rows",
    "copy_to_memory",
    "final_ensemble",
    "final_model",
    "final_model_seconds",
    "leaderboard",
    "local_storage",
    "make_pruner",
    "make_sampler",
    "member_trials",
    "members_fit",
    "open_study",
    "prepare_data",
    "run_search",
    "run_with_workers",
    "select_ensemble",
]
