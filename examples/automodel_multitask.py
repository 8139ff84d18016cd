"""The AutoModel example of the docs, run on the MNIST test set in ../shared/datasets.

One shared trunk predicts the digit (classification) and the share of ink in the image
(regression).
"""

import gzip
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

import sknas

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist-test"


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(DATA / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(DATA / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return images, labels


def main(time_budget: float) -> None:
    images, labels = load_mnist()
    ink = (images > 127).mean(axis=(1, 2))
    x_train, x_test, y_kind, y_kind_test, y_quality, y_quality_test = train_test_split(
        images, labels, ink, test_size=2000, stratify=labels, random_state=0
    )

    input_node = sknas.ImageInput()
    out = sknas.Normalization()(input_node)
    out = sknas.ImageAugmentation(percentage=0.25, rotation_range=180, random_crop=True)(out)
    a = sknas.ConvBlock()(out)
    b = sknas.XceptionBlock()(out)
    c = sknas.ResNetBlock()(out)
    merged = sknas.Merge()([a, b, c])
    kind = sknas.ClassificationHead()(merged)
    quality = sknas.RegressionHead()(merged)
    model = sknas.AutoModel(
        inputs=input_node,
        outputs=[kind, quality],
        max_trials=20,
        time_budget=time_budget,
        random_state=0,
        verbose=1,
    )
    model.fit(x_train, [y_kind, y_quality], epochs=100)
    y_kind_pred, y_quality_pred = model.predict(x_test)
    print("digit accuracy:", round(float((y_kind_pred == y_kind_test).mean()), 4))
    print("ink share MAE:", round(float(np.abs(y_quality_pred - y_quality_test).mean()), 4))
    print(
        "mean of the heads' scores:", round(model.score(x_test, [y_kind_test, y_quality_test]), 4)
    )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 600)
