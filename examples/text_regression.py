"""Sentence valence on EmoBank (../shared/datasets/emobank), with its own train/test split."""

import sys
from pathlib import Path

import pandas as pd

import sknas

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "emobank"


def main(time_budget: float) -> None:
    frame = pd.read_csv(DATA / "emobank.csv")
    frame["text"] = frame["text"].fillna("")
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
    reg = sknas.NASTextRegressor(max_trials=30, time_budget=time_budget, random_state=0, verbose=1)
    reg.fit(train["text"], train["V"])
    print(reg.leaderboard_[["number", "state", "score", "epochs", "n_params"]].head(10))
    print("held-out R²:", round(reg.score(test["text"], test["V"]), 4))
    print(reg.predict(["What a wonderful day!", "This is the worst news."]))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 300)
