"""Predict California house values: a multi-type table with missing values, inside a Pipeline.

Data: ../shared/datasets/california-housing.
"""

import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

import sknas

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "california-housing"


def main(time_budget: float) -> None:
    frame = pd.read_csv(DATA / "housing.csv")
    X, y = frame.drop(columns="median_house_value"), frame["median_house_value"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    reg = sknas.NASTabularRegressor(
        max_trials=50,
        time_budget=time_budget,
        column_types={"ocean_proximity": "categorical"},
        random_state=0,
        verbose=1,
    )
    reg.fit(X_train, y_train)
    print(reg.leaderboard_[["number", "state", "score", "epochs", "n_params"]].head(10))
    print("held-out R²:", round(reg.score(X_test, y_test), 4))
    print("predictions in dollars:", reg.predict(X_test.head(3)).round(0))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 300)
