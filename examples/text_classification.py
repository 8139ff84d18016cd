"""Spam detection on raw SMS messages (../shared/datasets/sms-spam): no tokenizer to prepare."""

import pickle
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

import sknas

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "sms-spam"


def main(time_budget: float) -> None:
    frame = pd.read_csv(DATA / "SMSSpamCollection", sep="\t", names=["label", "text"], quoting=3)
    X_train, X_test, y_train, y_test = train_test_split(
        frame["text"], frame["label"], test_size=0.25, stratify=frame["label"], random_state=0
    )
    clf = sknas.NASTextClassifier(max_trials=30, time_budget=time_budget, random_state=0, verbose=1)
    clf.fit(X_train, y_train)
    print(clf.leaderboard_[["number", "state", "score", "epochs", "n_params"]].head(10))
    print("held-out accuracy:", round(clf.score(X_test, y_test), 4))
    restored = pickle.loads(pickle.dumps(clf))
    print(restored.predict(["WINNER! Claim your free prize now", "running late, see you soon"]))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 180)
