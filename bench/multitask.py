"""Multi-task benchmark on wine quality: one AutoModel with two heads against two single-task
sknas estimators and HistGradientBoosting per target, on the same split, in one run.

Run from the repository root: ``python bench/multitask.py`` (``--quick`` for a smoke run).
Writes ``bench/results/multitask.md``.
"""

from __future__ import annotations

import time
from pathlib import Path

from datasets import wine_quality
from report import environment, main, search_note
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split

import sknas

RESULTS = Path(__file__).resolve().parent / "results" / "multitask.md"
SEED = 0


def run(quick: bool) -> str:
    X, quality, colour = wine_quality()
    X_train, X_test, q_train, q_test, c_train, c_test = train_test_split(
        X, quality, colour, test_size=0.25, stratify=colour, random_state=SEED
    )
    budget = 20 if quick else 120
    rows = []

    def row(model, q_pred, c_pred, seconds, note):
        rows.append(
            f"| {model} | {r2_score(q_test, q_pred):.4f} | {accuracy_score(c_test, c_pred):.4f} "
            f"| {seconds:.1f} | {note} |"
        )
        print(rows[-1], flush=True)

    start = time.perf_counter()
    hgb_q = HistGradientBoostingRegressor(random_state=SEED).fit(X_train, q_train)
    hgb_c = HistGradientBoostingClassifier(random_state=SEED).fit(X_train, c_train)
    row(
        "HistGradientBoosting, one per target",
        hgb_q.predict(X_test),
        hgb_c.predict(X_test),
        time.perf_counter() - start,
        "two models",
    )

    reg = sknas.NASTabularRegressor(time_budget=budget / 2, random_state=SEED)
    clf = sknas.NASTabularClassifier(time_budget=budget / 2, random_state=SEED)
    start = time.perf_counter()
    reg.fit(X_train, q_train)
    reg_seconds = time.perf_counter() - start
    clf.fit(X_train, c_train)
    clf_seconds = time.perf_counter() - start - reg_seconds
    row(
        "sknas, two single-task estimators",
        reg.predict(X_test),
        clf.predict(X_test),
        reg_seconds + clf_seconds,
        f"quality: {search_note(reg, budget / 2, reg_seconds)}; colour: "
        f"{search_note(clf, budget / 2, clf_seconds)}",
    )

    start = time.perf_counter()
    inp = sknas.TabularInput()
    trunk = sknas.TabularBlock()(inp)
    model = sknas.AutoModel(
        inputs=inp,
        outputs=[sknas.RegressionHead()(trunk), sknas.ClassificationHead()(trunk)],
        time_budget=budget,
        random_state=SEED,
    )
    model.fit(X_train, [q_train, c_train])
    seconds = time.perf_counter() - start
    q_pred, c_pred = model.predict(X_test)
    row(
        "sknas AutoModel, two heads on one trunk",
        q_pred,
        c_pred,
        seconds,
        search_note(model, budget, seconds),
    )

    header = [
        "# Multi-task benchmark: wine quality (red + white)",
        "",
        environment("multitask.py", quick),
        "6,497 wines, 11 features; targets: quality (regression, R²) and colour (red/white, "
        "accuracy). One seeded 75/25 split stratified by colour, the same for every model. "
        "The two single-task sknas estimators share the AutoModel's total time budget.",
        "",
        "| model | quality R² | colour accuracy | fit seconds | notes |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(header + rows) + "\n"


if __name__ == "__main__":
    main(run, __doc__, RESULTS)
