"""Classify UCI Adult incomes from a raw table: strings, numbers and missing values.

The estimator types the columns itself, searches dense networks, scaling, categorical
encodings and training settings, and refits the best. Data: ../shared/datasets/adult.
"""

import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

import sknas

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "adult" / "adult.data.gz"
COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]  # fmt: skip


def main(time_budget: float) -> None:
    frame = pd.read_csv(DATA, names=COLUMNS, skipinitialspace=True, na_values="?")
    X, y = frame.drop(columns="income"), frame["income"]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = sknas.NASTabularClassifier(
        max_trials=50, time_budget=time_budget, objective="accuracy", random_state=0, verbose=1
    )
    clf.fit(X_train, y_train)
    print(clf.leaderboard_[["number", "state", "score", "epochs", "n_params"]].head(10))
    print("classes:", clf.classes_)
    print("held-out accuracy:", round(clf.score(X_test, y_test), 4))
    print("first predictions:", clf.predict(X_test.head(3)))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 120)
