"""The main job: an image search on bundled data, its leaderboard, the held-out score, the time.

Run with ``make demo``.
"""

import time

import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import sknas


def main() -> None:
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.images, digits.target, test_size=0.25, stratify=digits.target, random_state=0
    )
    print(
        f"digits: {len(X_train)} training images, {len(X_test)} held out, "
        f"{X_train.shape[1]}x{X_train.shape[2]} pixels, 10 classes"
    )
    start = time.perf_counter()
    clf = sknas.NASImageClassifier(max_trials=20, time_budget=60, random_state=0, verbose=1)
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
