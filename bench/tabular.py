"""Tabular benchmark: sknas against scikit-learn baselines and pytabkit's published default
networks, on the same split, in one run.

Run from the repository root: ``python bench/tabular.py`` (``--quick`` for a smoke run).
Writes ``bench/results/tabular.md``. The pytabkit peers (RealMLP-TD; TabM-D, stopped at the
dataset's budget) need the optional bench dependency: ``pip install -e ".[bench]" -c
constraints.txt``; without it their rows are left out.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import time
from pathlib import Path

import pandas as pd
import torch
from datasets import adult, california_housing, wine_quality
from report import environment, main, search_note
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sknas

RESULTS = Path(__file__).resolve().parent / "results" / "tabular.md"
SEED = 0


def linear_preprocessing():
    """Impute and scale numbers, one-hot encode categories (for linear models and MLPs)."""
    return ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                make_column_selector(dtype_include="number"),
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                make_column_selector(dtype_exclude="number"),
            ),
        ]
    )


def baselines(task: str) -> dict:
    if task == "classification":
        return {
            "HistGradientBoosting": HistGradientBoostingClassifier(
                categorical_features="from_dtype", random_state=SEED
            ),
            "LogisticRegression": make_pipeline(
                linear_preprocessing(), LogisticRegression(max_iter=2000)
            ),
            "MLPClassifier": make_pipeline(
                linear_preprocessing(),
                MLPClassifier(max_iter=500, early_stopping=True, random_state=SEED),
            ),
        }
    return {
        "HistGradientBoosting": HistGradientBoostingRegressor(
            categorical_features="from_dtype", random_state=SEED
        ),
        "Ridge": make_pipeline(linear_preprocessing(), RidgeCV()),
        "MLPRegressor": make_pipeline(
            linear_preprocessing(),
            MLPRegressor(max_iter=500, early_stopping=True, random_state=SEED),
        ),
    }


def peers(task: str) -> dict:
    """pytabkit's RealMLP-TD and TabM-D with their published defaults, numbers imputed with
    the median (both refuse NaN); empty when pytabkit is not installed."""
    if importlib.util.find_spec("pytabkit") is None:
        return {}
    import pytabkit

    options = {"random_state": SEED, "n_threads": 2, "device": "cpu", "verbosity": 0}
    kinds = (
        (pytabkit.RealMLP_TD_Classifier, pytabkit.TabM_D_Classifier)
        if task == "classification"
        else (pytabkit.RealMLP_TD_Regressor, pytabkit.TabM_D_Regressor)
    )
    impute = ColumnTransformer(
        [("num", SimpleImputer(strategy="median"), make_column_selector(dtype_include="number"))],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    return {
        f"{kind.__name__.rsplit('_', 1)[0].replace('_', '-')} (pytabkit)": make_pipeline(
            impute, kind(**options)
        )
        for kind in kinds
    }


def _import_peers() -> None:
    import pytabkit  # noqa: F401  (torch and pytabkit load before the clock starts)


def _fit_and_score(model, X_train, y_train, X_test, y_test) -> tuple[float, float]:
    torch.set_num_threads(2)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    return model.score(X_test, y_test), time.perf_counter() - start


def fit_peer(model, split, limit: float | None) -> tuple[float, float] | None:
    """Fit and score ``model`` in a fresh process; None when it has not finished after
    ``limit`` seconds (counted once the process has started and imported pytabkit). An error
    in the process is raised here."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(_import_peers)
        job = pool.apply_async(_fit_and_score, (model, *split))
        try:
            return job.get(timeout=limit)
        except multiprocessing.TimeoutError:
            return None


def as_categories(X: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas categories, which HistGradientBoosting reads natively."""
    return X.apply(lambda c: c if pd.api.types.is_numeric_dtype(c) else c.astype("category"))


def datasets(quick: bool):
    cancer = load_breast_cancer(return_X_y=True, as_frame=True)
    diabetes = load_diabetes(return_X_y=True, as_frame=True)
    X_adult, y_adult = adult()
    X_cal, y_cal = california_housing()
    X_wine, quality, colour = wine_quality()
    budget = (lambda b: 10) if quick else (lambda b: b)
    return [
        ("breast_cancer", "classification", *cancer, cancer[1], budget(60)),
        ("diabetes", "regression", *diabetes, None, budget(60)),
        ("wine_quality", "regression", X_wine, quality, colour, budget(120)),
        ("adult", "classification", as_categories(X_adult), y_adult, y_adult, budget(300)),
        ("california_housing", "regression", as_categories(X_cal), y_cal, None, budget(300)),
    ]


def split(X, y, stratify):
    """The benchmark's seeded 75/25 split: X_train, X_test, y_train, y_test."""
    return train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=stratify)


def run(quick: bool) -> str:
    rows = []
    for name, task, X, y, stratify, budget in datasets(quick):
        X_train, X_test, y_train, y_test = split(X, y, stratify)
        results = []
        classic = baselines(task)
        for label, model in classic.items():
            start = time.perf_counter()
            model.fit(X_train, y_train)
            results.append((label, model.score(X_test, y_test), time.perf_counter() - start, ""))
        for label, model in peers(task).items():
            # TabM-D only where it finishes within the dataset's budget; RealMLP-TD always
            # (in a smoke run, both within it)
            limit = budget if quick or label.startswith("TabM") else None
            done = fit_peer(model, (X_train, y_train, X_test, y_test), limit)
            if done is None:
                print(f"{name}: {label} did not finish within {limit:g}s", flush=True)
                results.append((label, None, limit, f"stopped: not done within {limit:g}s"))
            else:
                results.append((label, *done, "published defaults"))
        cls = sknas.NASTabularClassifier if task == "classification" else sknas.NASTabularRegressor
        # small tables, cross-validated by default, are also searched on one split
        settings = [("sknas", {})]
        if len(X_train) < sknas.base.CV_ROWS:
            settings.append(("sknas cv=None", {"cv": None}))
        for label, params in settings:
            estimator = cls(time_budget=budget, random_state=SEED, **params)
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            note = search_note(estimator, budget, seconds)
            results.append((label, estimator.score(X_test, y_test), seconds, note))
        best = max(score for label, score, _, _ in results if label in classic)
        for label, score, secs, note in results:
            shown = "- | -" if score is None else f"{score:.4f} | {score / best:.4f}"
            rows.append(
                f"| {name} | {'accuracy' if task == 'classification' else 'R²'} | {label} | "
                f"{shown} | {secs:.1f} | {note} |"
            )
        print(rows[-1], flush=True)
    header = [
        "# Tabular benchmark",
        "",
        environment("tabular.py", quick),
        "Each dataset has one seeded 75/25 split (stratified for classification; wine quality, "
        "red and white together, by colour), shared by "
        "every model. Scores are on the held-out 25%; `ratio` divides by the best scikit-learn "
        "baseline's score; seconds are fit wall-clock times. pytabkit's RealMLP-TD and TabM-D "
        "run with their published defaults (numbers median-imputed), each in a fresh process; "
        "TabM-D is stopped at the dataset's budget.",
        "",
        "| dataset | metric | model | score | ratio to best baseline | fit seconds | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + rows) + "\n"


if __name__ == "__main__":
    main(run, __doc__, RESULTS)
