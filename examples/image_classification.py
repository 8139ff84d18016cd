"""The AutoKeras MNIST tutorial, on the MNIST test set shipped in ../shared/datasets.

AutoKeras: ``clf = ak.ImageClassifier(max_trials=1); clf.fit(x_train, y_train, epochs=10)``.
sknas is the same, as a scikit-learn estimator with a time budget.
"""

import gzip
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

import sknas

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist-test"


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test images (uint8, 28x28) and their labels."""
    with gzip.open(DATA / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(DATA / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return images, labels


def main(time_budget: float) -> None:
    x, y = load_mnist()
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=2000, stratify=y, random_state=0
    )
    clf = sknas.NASImageClassifier(
        max_trials=10, time_budget=time_budget, random_state=0, verbose=1
    )
    clf.fit(x_train, y_train, epochs=10)
    print(clf.leaderboard_[["number", "state", "score", "epochs", "n_params", "seconds"]])
    print("test accuracy:", round(clf.score(x_test, y_test), 4))
    print("predicted:", clf.predict(x_test[:10]), "true:", y_test[:10])


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 300)
