"""Sampler benchmark: the default TPE (multivariate, grouped) against independent TPE.

Before, sknas sampled with Optuna's independent TPE (each parameter modelled on its own); the
default is now TPE with ``multivariate=True, group=True``, which models the parameters that
trials sample together jointly, within each branch of the conditional space. Same data,
split, budget and seed for both; scores are on held-out data.

Run from the repository root: ``python bench/sampler.py`` (``--quick`` for a smoke run).
Writes ``bench/results/sampler.md``.
"""

from __future__ import annotations

import time
from pathlib import Path

import optuna
from report import environment, main, search_note
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.model_selection import train_test_split

import sknas

RESULTS = Path(__file__).resolve().parent / "results" / "sampler.md"
SEED = 0


def searches(quick: bool):
    """Each dataset with the search seeds it is run with: diabetes, whose searches differ most
    from seed to seed (66 validation rows), with three."""
    budget = 10 if quick else 60
    digits = load_digits()
    cancer = load_breast_cancer(return_X_y=True)
    diabetes = load_diabetes(return_X_y=True)
    return [
        ("digits 8x8", "accuracy", sknas.NASImageClassifier, digits.images, digits.target, (0,)),
        ("breast cancer", "accuracy", sknas.NASTabularClassifier, *cancer, (0,)),
        ("diabetes", "R²", sknas.NASTabularRegressor, *diabetes, (0, 1, 2)),
    ], budget


def samplers(seed: int) -> dict:
    return {
        "TPE, multivariate and grouped (default)": "tpe",
        "TPE, independent (before)": optuna.samplers.TPESampler(seed=seed),
    }


def run(quick: bool) -> str:
    rows = []
    datasets, budget = searches(quick)
    for name, metric, cls, X, y, seeds in datasets:
        stratify = y if metric == "accuracy" else None
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=SEED, stratify=stratify
        )
        for seed in seeds:
            scores = {}
            for label, sampler in samplers(seed).items():
                # one validation split, as these searches were measured: a cross-validated
                # 60 s search on a small table runs too few trials to tell samplers apart
                estimator = cls(time_budget=budget, sampler=sampler, cv=None, random_state=seed)
                start = time.perf_counter()
                estimator.fit(X_train, y_train)
                seconds = time.perf_counter() - start
                scores[label] = estimator.score(X_test, y_test)
                rows.append(
                    f"| {name} | {metric} | {seed} | {label} | {scores[label]:.4f} | "
                    f"{scores[label] / next(iter(scores.values())):.4f} | "
                    f"{search_note(estimator, budget, seconds)} |"
                )
                print(rows[-1], flush=True)
    header = [
        "# Sampler benchmark",
        "",
        environment("sampler.py", quick),
        "One seeded 75/25 split per dataset (stratified for classification); scores on the "
        "held-out 25%; `seed` is the search's `random_state`; `ratio` divides by the default "
        "sampler's score with the same seed.",
        "",
        "| data | metric | seed | sampler | score | ratio to default | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + rows) + "\n"


if __name__ == "__main__":
    main(run, __doc__, RESULTS)
