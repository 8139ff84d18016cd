"""Pictures of a finished search, drawn by Optuna's visualization on matplotlib.

Needs matplotlib (``pip install 'sknas[plot]'``). Each function takes a fitted estimator (or
one loaded with :func:`sknas.load`) and returns the matplotlib Axes.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState
from sklearn.utils.validation import check_is_fitted

from .search.driver import quiet_optuna

__all__ = ["history", "importances", "learning_curves", "save_plots"]


@contextlib.contextmanager
def _matplotlib() -> Iterator[Any]:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'sknas[plot]'.") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield optuna.visualization.matplotlib


def _study(estimator: Any) -> optuna.Study:
    check_is_fitted(estimator, "study_")
    return estimator.study_


def history(estimator: Any) -> Any:
    """The objective of every trial and the best so far, trial by trial."""
    with _matplotlib() as plots:
        return plots.plot_optimization_history(_study(estimator))


def importances(estimator: Any) -> Any:
    """How much each searched parameter explains the objective (fANOVA over the trials).

    Raises
    ------
    ValueError
        With fewer than two completed trials, or none of them differing in a parameter.
    """
    study = _study(estimator)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        raise ValueError(
            f"parameter importances need at least 2 completed trials; the search has "
            f"{len(complete)}. Raise max_trials."
        )
    with _matplotlib() as plots:
        return plots.plot_param_importances(study)


def learning_curves(estimator: Any, top: int = 5) -> Any:
    """The score reported at each epoch (each fold, with cross-validation) by the ``top``
    best completed trials."""
    study = _study(estimator)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    best = sorted(complete, key=lambda t: t.value, reverse=study.direction.name == "MAXIMIZE")
    with quiet_optuna():
        shown = optuna.create_study(direction=study.direction)
    shown.add_trials(best[:top])
    with _matplotlib() as plots:
        axes = plots.plot_intermediate_values(shown)
    # the copied trials are renumbered from 0: label them with their numbers in the search
    axes.legend(
        axes.get_lines(),
        [f"trial {t.number}" for t in best[:top]],
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
    )
    objective = getattr(estimator, "objective", None)
    axes.set_ylabel("validation loss" if objective is None else f"validation {objective}")
    folds = any("fold_values" in t.user_attrs for t in best[:top])
    curves = "Fold scores" if folds else "Learning curves"
    axes.set_title(f"{curves} of the {min(top, len(best))} best trials")
    axes.set_xlabel("Fold (from 0)" if folds else "Epoch")
    return axes


def save_plots(estimator: Any, folder: str | Path) -> list[Path]:
    """Write ``history.png``, ``importances.png`` and ``learning_curves.png`` to ``folder``.

    A picture that cannot be drawn (importances with a single trial) is left out.

    Returns
    -------
    list of Path
        The files written.
    """
    import matplotlib.pyplot as plt

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (
        ("history", history),
        ("importances", importances),
        ("learning_curves", learning_curves),
    ):
        try:
            axes = draw(estimator)
        except ValueError:
            continue
        figure = axes.get_figure()
        figure.set_size_inches(8, 5)
        figure.tight_layout()
        figure.savefig(out / f"{name}.png", dpi=100)
        plt.close(figure)
        written.append(out / f"{name}.png")
    return written
