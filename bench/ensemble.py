"""Ensembles of trials: the same search kept as its best network or as an ensemble, with the
final networks refit on every row or keeping their trials' weights.

Run from the repository root: ``python bench/ensemble.py`` (``--quick`` for a smoke run).
Writes ``bench/results/ensemble.md``. Each dataset is searched three times with the same
seed and trial count and no time budget, so the three fits run the same trials (on a CPU)
and differ only in their final model. Every search validates on one split (``cv=None``,
also on the small tables the tabular estimators cross-validate by default). AG News gets
fewer trials: each costs tens of seconds.
"""

from __future__ import annotations

from pathlib import Path

from datasets import ag_news_test, wine_quality
from report import environment, main
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

import sknas

RESULTS = Path(__file__).resolve().parent / "results" / "ensemble.md"
SEED = 0
#: (label, ensemble_size, refit)
VARIANTS = [
    ("best network, refit", 1, True),
    ("ensemble, members refit", 10, "members"),
    ("ensemble, trial weights", 10, True),
]


def datasets(quick: bool):
    cancer = load_breast_cancer(return_X_y=True)
    diabetes = load_diabetes(return_X_y=True)
    X_wine, quality, colour = wine_quality()
    texts, topics = ag_news_test()
    trials = 3 if quick else 20
    return [
        ("breast_cancer", sknas.NASTabularClassifier, *cancer, cancer[1], trials),
        ("diabetes", sknas.NASTabularRegressor, *diabetes, None, trials),
        ("wine quality", sknas.NASTabularRegressor, X_wine, quality, colour, trials),
        ("AG News", sknas.NASTextClassifier, texts, topics, topics, 2 if quick else 8),
    ]


def run(quick: bool) -> str:
    rows = []
    for name, cls, X, y, stratify, trials in datasets(quick):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=SEED, stratify=stratify
        )
        reference = None
        default = cls().get_params()
        for label, size, refit in VARIANTS:
            if (size, refit) == (default["ensemble_size"], default["refit"]):
                label += " (default)"
            # one validation split: with folds the final model is their bag, never a refit
            estimator = cls(
                max_trials=trials, ensemble_size=size, refit=refit, cv=None, random_state=SEED
            )
            estimator.fit(X_train, y_train)
            score = estimator.score(X_test, y_test)
            reference = score if reference is None else reference
            ensemble = estimator.ensemble_
            rows.append(
                f"| {name} | {label} | {score:.4f} | {score / reference:.4f} | "
                f"{len(ensemble.members)} | {ensemble.score:.4f} | {estimator.best_score_:.4f} | "
                f"{estimator.search_seconds_:.1f} | {estimator.refit_seconds_:.1f} | "
                f"{estimator.refit_status_} |"
            )
            print(rows[-1], flush=True)
    header = [
        "# Ensembles of trials",
        "",
        environment("ensemble.py", quick),
        "Each dataset has one seeded 75/25 split (stratified for classification; wine quality "
        "by colour; AG News is its 7,600-text test split); scores (accuracy or R²) are on "
        "the held-out 25%. The three fits of a "
        "dataset run the same trials (same seed, same trial count, no time budget); `ratio` "
        "divides by the first row's score. `validation` is the validation loss of the final "
        "average (members) and of the best trial alone.",
        "",
        "| dataset | final model | test score | ratio | members | validation loss, "
        "ensemble | validation loss, best trial | search seconds | final model seconds | "
        "status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + rows) + "\n"


if __name__ == "__main__":
    main(run, __doc__, RESULTS)
