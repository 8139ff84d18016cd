"""The main job: a search on bundled data, its leaderboard, the held-out score, the time taken.

Run with ``make demo``.
"""

import time

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import sknas


def main() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    print(
        f"breast cancer: {len(X_train)} training rows, {len(X_test)} held out, {X.shape[1]} columns"
    )
    start = time.perf_counter()
    clf = sknas.NASTabularClassifier(max_trials=15, time_budget=60, random_state=0, verbose=1)
    clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start

    columns = ["number", "state", "score", "epochs", "n_params", "seconds"]
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print("\nLeaderboard (score = validation loss, lower is better):")
        print(clf.leaderboard_[columns].to_string(index=False))
    print(f"\nBest architecture:\n{clf.best_architecture_}")
    print(f"\nHeld-out accuracy: {clf.score(X_test, y_test):.4f}")
    print(f"Time taken: {seconds:.1f} s (search and final refit)")


if __name__ == "__main__":
    main()
