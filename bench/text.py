"""Text benchmark: sknas against TF-IDF + linear baselines on the same splits, in one run.

Run from the repository root: ``python bench/text.py`` (``--quick`` for a smoke run).
Writes ``bench/results/text.md``.
"""

from __future__ import annotations

import time
from pathlib import Path

from datasets import ag_news_test, emobank, sms_spam
from report import environment, main, search_note
from scipy.stats import pearsonr
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

import sknas

RESULTS = Path(__file__).resolve().parent / "results" / "text.md"
SEED = 0


def tfidf(model):
    return make_pipeline(TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)), model)


def timed(fit):
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


def classification(name, texts, labels, budget):
    X_train, X_test, y_train, y_test = train_test_split(
        texts, labels, test_size=0.25, stratify=labels, random_state=SEED
    )
    baseline, base_secs = timed(
        lambda: tfidf(LogisticRegression(C=10, max_iter=2000)).fit(X_train, y_train)
    )
    base = baseline.score(X_test, y_test)
    clf, secs = timed(
        lambda: sknas.NASTextClassifier(time_budget=budget, random_state=SEED).fit(X_train, y_train)
    )
    score = clf.score(X_test, y_test)
    note = search_note(clf, budget, secs)
    return [
        f"| {name} | accuracy | TF-IDF + LogisticRegression | {base:.4f} | 1.0000 | "
        f"{base_secs:.1f} | word 1-2 grams, C=10 |",
        f"| {name} | accuracy | sknas NASTextClassifier | {score:.4f} | {score / base:.4f} | "
        f"{secs:.1f} | {note}; best: {describe(clf)} |",
    ]


def describe(estimator) -> str:
    nodes = estimator.best_architecture_.nodes
    text = nodes[0].config
    families = [n.type for n in nodes[1:-1]]
    return (
        f"{text['representation']} ({text.get('analyzer', text.get('units'))}) -> "
        + " -> ".join(families)
    )


def regression(budget):
    train, test = emobank()
    baseline, base_secs = timed(lambda: tfidf(RidgeCV()).fit(train["text"], train["V"]))
    base_pred = baseline.predict(test["text"])
    reg, secs = timed(
        lambda: sknas.NASTextRegressor(time_budget=budget, random_state=SEED).fit(
            train["text"], train["V"]
        )
    )
    pred = reg.predict(test["text"])
    base_r2 = r2_score(test["V"], base_pred)
    rows = []
    for label, p, s, note in [
        ("TF-IDF + RidgeCV", base_pred, base_secs, "word 1-2 grams"),
        (
            "sknas NASTextRegressor",
            pred,
            secs,
            f"{search_note(reg, budget, secs)}; best: {describe(reg)}",
        ),
    ]:
        r2 = r2_score(test["V"], p)
        rows.append(
            f"| EmoBank valence | R² / Pearson r | {label} | {r2:.4f} / "
            f"{pearsonr(test['V'], p)[0]:.4f} | {r2 / base_r2:.4f} | {s:.1f} | {note} |"
        )
    return rows


def run(quick: bool) -> str:
    rows = []
    rows += classification("SMS spam", *sms_spam(), 20 if quick else 180)
    print(*rows, sep="\n", flush=True)
    rows += classification("AG News (test split)", *ag_news_test(), 30 if quick else 600)
    print(*rows[-2:], sep="\n", flush=True)
    rows += regression(20 if quick else 300)
    print(*rows[-2:], sep="\n", flush=True)
    header = [
        "# Text benchmark",
        "",
        environment("text.py", quick),
        "SMS spam and AG News: one seeded 75/25 stratified split each; EmoBank: its own "
        "train/test split. `ratio` divides by the baseline's score (R² for EmoBank). Seconds "
        "are fit wall-clock times (search and refit).",
        "",
        "| data | metric | model | score | ratio | fit seconds | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + rows) + "\n"


if __name__ == "__main__":
    main(run, __doc__, RESULTS)
