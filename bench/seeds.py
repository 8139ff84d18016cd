"""Run-to-run spread of the tabular search: sknas with several ``random_state`` values on the
tabular benchmark's seeded splits, beside its best scikit-learn baseline, in one run.

One search's score moves with its seed by more than many changes move it; this script says
by how much, so a change is judged on a mean and its spread rather than on one run. Under a
time budget the spread also holds the machine's timing: where the budget ends the search.

Run from the repository root: ``python bench/seeds.py --seeds 3 --datasets breast_cancer
diabetes wine_quality`` (``--quick`` for a smoke run; ``--cv none`` for one validation split
instead of the estimators' default ``cv="auto"``, with ``--out bench/results/seeds.md``).
Writes ``bench/results/seeds-cv.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from report import environment, main, search_note
from tabular import baselines, datasets, split

import sknas

RESULTS = Path(__file__).resolve().parent / "results" / "seeds-cv.md"


def run(quick: bool, seeds: int, names: list[str] | None, cv: str = "auto") -> str:
    every = datasets(quick)
    unknown = sorted(set(names or ()) - {d[0] for d in every})
    if unknown:
        raise SystemExit(f"unknown datasets {unknown}; choose from {[d[0] for d in every]}")
    chosen = [d for d in every if names is None or d[0] in names]
    rows = []
    for name, task, X, y, stratify, budget in chosen:
        X_train, X_test, y_train, y_test = split(X, y, stratify)
        classic = {}
        for label, model in baselines(task).items():
            classic[label] = model.fit(X_train, y_train).score(X_test, y_test)
        best_label = max(classic, key=classic.get)
        best = classic[best_label]
        cls = sknas.NASTabularClassifier if task == "classification" else sknas.NASTabularRegressor
        scores = []
        for seed in range(seeds):
            estimator = cls(time_budget=budget, random_state=seed, cv=None if cv == "none" else cv)
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            scores.append(estimator.score(X_test, y_test))
            rows.append(
                f"| {name} | {seed} | {scores[-1]:.4f} | {scores[-1] / best:.4f} | "
                f"{search_note(estimator, budget, seconds)} |"
            )
            print(rows[-1], flush=True)
        mean, sd = np.mean(scores), np.std(scores, ddof=1)
        rows.append(
            f"| {name} | mean ± sd of {seeds} | {mean:.4f} ± {sd:.4f} | {mean / best:.4f} | "
            f"range {min(scores):.4f} to {max(scores):.4f}; best baseline {best_label} "
            f"{best:.4f} |"
        )
        print(rows[-1], flush=True)
    header = [
        "# Tabular search: spread over seeds",
        "",
        environment("seeds.py", quick),
        "Each dataset keeps the tabular benchmark's seeded 75/25 split; only the estimator's "
        "`random_state` changes (its validation split or folds, the sampler's draws and the "
        "networks' initial weights). Scores are on the held-out 25%; `ratio` divides by the best "
        "scikit-learn baseline's score (named on each dataset's last row); sd is the sample "
        "standard deviation."
        + (
            " Every search has `cv='auto'` (the default: folds below 1,000 training rows)."
            if cv == "auto"
            else " Every search has `cv=None` (one validation split)."
        ),
        "",
        "| dataset | random_state | score | ratio to best baseline | notes |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(header + rows) + "\n"


def options(parser: argparse.ArgumentParser) -> None:
    """The script's own arguments: how many seeds, which tables, and ``cv``."""

    def at_least_two(text: str) -> int:
        if int(text) < 2:
            raise argparse.ArgumentTypeError(f"at least 2 runs give a spread; got {text}")
        return int(text)

    parser.add_argument("--seeds", type=at_least_two, default=3, help="random_state 0 .. seeds-1")
    parser.add_argument(
        "--datasets", dest="names", nargs="+", help="names in bench/tabular.py; default: all"
    )
    parser.add_argument(
        "--cv",
        choices=["auto", "none"],
        default="auto",
        help="cv='auto' (the estimators' default) or cv=None for every search",
    )


if __name__ == "__main__":
    main(run, __doc__, RESULTS, options)
