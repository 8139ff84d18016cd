"""Run-to-run spread of the tabular search: sknas with several ``random_state`` values on the
tabular benchmark's seeded splits, beside its best scikit-learn baseline, in one run.

One search's score moves with its seed by more than many changes move it; this script says
by how much, so a change is judged on a mean and its spread rather than on one run. Under a
time budget the spread also holds the machine's timing: where the budget ends the search.

Run from the repository root: ``python bench/seeds.py --seeds 3 --datasets breast_cancer
diabetes wine_quality`` (``--quick`` for a smoke run). Writes ``bench/results/seeds.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from report import environment, search_note
from sklearn.model_selection import train_test_split
from tabular import SEED, baselines, datasets

import sknas

RESULTS = Path(__file__).resolve().parent / "results" / "seeds.md"


def run(quick: bool, seeds: int, names: list[str] | None) -> str:
    every = datasets(quick)
    unknown = sorted(set(names or ()) - {d[0] for d in every})
    if unknown:
        raise SystemExit(f"unknown datasets {unknown}; choose from {[d[0] for d in every]}")
    chosen = [d for d in every if names is None or d[0] in names]
    rows = []
    for name, task, X, y, stratify, budget in chosen:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=SEED, stratify=stratify
        )
        classic = {}
        for label, model in baselines(task).items():
            classic[label] = model.fit(X_train, y_train).score(X_test, y_test)
        best_label = max(classic, key=classic.get)
        best = classic[best_label]
        cls = sknas.NASTabularClassifier if task == "classification" else sknas.NASTabularRegressor
        scores = []
        for seed in range(seeds):
            estimator = cls(time_budget=budget, random_state=seed)
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
        "`random_state` changes (its validation split, the sampler's draws and the networks' "
        "initial weights). Scores are on the held-out 25%; `ratio` divides by the best "
        "scikit-learn baseline's score (named on each dataset's last row); sd is the sample "
        "standard deviation.",
        "",
        "| dataset | random_state | score | ratio to best baseline | notes |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(header + rows) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short budgets, smoke run")
    parser.add_argument("--seeds", type=int, default=3, help="random_state 0 .. seeds-1 (>= 2)")
    parser.add_argument("--datasets", nargs="+", help="names in bench/tabular.py; default: all")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error(f"--seeds needs at least 2 runs for a spread; got {args.seeds}")
    torch.set_num_threads(2)
    table = run(args.quick, args.seeds, args.datasets)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    print(table)
