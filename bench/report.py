"""What every benchmark script shares: the environment line and the command line."""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable
from pathlib import Path

import sklearn
import torch

import sknas

# sknas imports its estimators (and skorch, Optuna) on first use: pay that here, so that no
# benchmark's first timed fit counts it (text.py's first fit was 2.9 s longer than its own
# fit_seconds_)
for _name in sknas.__all__:
    getattr(sknas, _name)
del _name


def environment(script: str, quick: bool) -> str:
    """One sentence naming the script and the versions it measured with."""
    return (
        f"Measured by `bench/{script}`{' --quick' if quick else ''} in one run: sknas "
        f"{sknas.__version__}, torch {torch.__version__}, scikit-learn {sklearn.__version__}, "
        f"Python {platform.python_version()}, {torch.get_num_threads()} CPU threads, no GPU."
    )


def search_note(estimator, budget: float, seconds: float) -> str:
    """Budget, wall-clock against it, search and refit seconds, trials, members of the
    ensemble and how the final model was made: the facts every sknas row of a table states."""
    states = estimator.leaderboard_["state"].value_counts().to_dict()
    trials = ", ".join(f"{n} {s.lower()}" for s, n in states.items())
    members = len(estimator.ensemble_.members)
    return (
        f"time_budget={budget:g}s, fit {seconds:.1f}s = {seconds / budget:.3f} of it "
        f"(search {estimator.search_seconds_:.1f}s + final model {estimator.refit_seconds_:.1f}s, "
        f"{estimator.refit_status_}); trials: {trials}; ensemble of {members}"
    )


def main(
    run: Callable[..., str],
    description: str,
    results: Path,
    options: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Parse ``--quick`` and ``--out`` (and the script's own ``options``, passed to ``run``
    as keywords), run the benchmark, write and print its table."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="short budgets, smoke run")
    parser.add_argument("--out", type=Path, default=results)
    if options is not None:
        options(parser)
    args = vars(parser.parse_args())
    out = args.pop("out")
    torch.set_num_threads(2)
    table = run(args.pop("quick"), **args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    print(table)
