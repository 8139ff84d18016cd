"""Scaling benchmark: trials per minute with one and two local workers on one study, and the
epochs that pruning saves, in one run.

Run from the repository root: ``python bench/scaling.py`` (``--quick`` for a smoke run).
Writes ``bench/results/scaling.md``.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from report import environment, main
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import sknas

RESULTS = Path(__file__).resolve().parent / "results" / "scaling.md"
SEED = 0


def _digits():
    digits = load_digits()
    return train_test_split(
        digits.images, digits.target, test_size=0.25, stratify=digits.target, random_state=SEED
    )


def _finished(model) -> int:
    return int(model.leaderboard_["state"].isin(["COMPLETE", "PRUNED", "FAIL"]).sum())


def throughput(quick: bool) -> list[str]:
    """Same data, same search, same time budget: 1 worker with every thread, 2 with half."""
    X_train, X_test, y_train, y_test = _digits()
    budget = 30 if quick else 180
    rows, rates = [], {}
    for n_jobs in (1, 2):
        model = sknas.NASImageClassifier(
            time_budget=budget,
            epochs=5,
            pruner="none",
            n_jobs=n_jobs,
            random_state=SEED,
        )
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        trials = _finished(model)
        rates[n_jobs] = trials / (model.search_seconds_ / 60)
        threads = torch.get_num_threads() // n_jobs
        rows.append(
            f"| {n_jobs} | {threads} | {trials} | {rates[n_jobs]:.1f} | "
            f"{rates[n_jobs] / rates[1]:.2f} | {model.score(X_test, y_test):.4f} | "
            f"{seconds:.1f} = {seconds / budget:.3f} of the budget (search "
            f"{model.search_seconds_:.1f} + final model {model.refit_seconds_:.1f}) |"
        )
        print(rows[-1], flush=True)
    return [
        f"### Trials per minute (digits images, 5 epochs per trial, no pruning, "
        f"time_budget={budget}s)",
        "",
        "| workers (n_jobs) | torch threads each | trials finished | trials per minute of "
        "search | ratio to 1 worker | test accuracy | fit seconds |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Aim: two workers on two cores give at least 1.6 times the trials per minute of one; "
        f"measured {rates[2] / rates[1]:.2f}.",
    ]


def _epochs_to_best(model) -> tuple[int, int]:
    """Epochs spent in all trials, and up to the end of the trial that found the best."""
    board = model.leaderboard_.sort_values("number")
    epochs = board["epochs"].fillna(0).astype(int)
    upto = epochs[board["number"] <= model.best_trial_.number].sum()
    return int(epochs.sum()), int(upto)


def pruning(quick: bool) -> list[str]:
    """The same seeded search with the median pruner and without pruning."""
    X_train, X_test, y_train, y_test = _digits()
    trials = 8 if quick else 30
    rows, results = [], {}
    for pruner in ("none", "median"):
        start = time.perf_counter()
        model = sknas.NASImageClassifier(
            max_trials=trials,
            epochs=10,
            objective="accuracy",
            pruner=pruner,
            random_state=SEED,
        )
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        total, upto = _epochs_to_best(model)
        states = model.leaderboard_["state"].value_counts().to_dict()
        results[pruner] = (total, upto, model.best_score_)
        rows.append(
            f"| {pruner} | {states.get('COMPLETE', 0)} | {states.get('PRUNED', 0)} | {total} | "
            f"{upto} | {model.best_score_:.4f} | {model.score(X_test, y_test):.4f} | "
            f"{seconds:.0f} |"
        )
        print(rows[-1], flush=True)
    off, on = results["none"], results["median"]
    return [
        f"### Epochs with and without pruning (digits images, {trials} trials of up to 10 "
        f"epochs, objective accuracy)",
        "",
        "| pruner | completed | pruned | epochs, all trials | epochs until the best trial "
        "| best validation accuracy | test accuracy | seconds |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Aim: pruning spends at most half the epochs for a best score within 0.5 points. "
        f"Measured: {on[0] / off[0]:.3f} of the epochs in all, best validation accuracy "
        f"{100 * (on[2] - off[2]):+.2f} points.",
    ]


def run(quick: bool) -> str:
    lines = [
        "# Scaling: local workers and pruning",
        "",
        environment("scaling.py", quick),
        "",
        *throughput(quick),
        "",
        *pruning(quick),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(run, __doc__, RESULTS)
