"""Loaders for the benchmark data in ../shared/datasets (next to the repository)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(
    os.environ.get("SKNAS_DATA", Path(__file__).resolve().parents[2] / "shared" / "datasets")
)

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]  # fmt: skip


def adult() -> tuple[pd.DataFrame, pd.Series]:
    """UCI Adult training file: 32,561 rows, income above 50K as the target."""
    frame = pd.read_csv(
        DATA / "adult" / "adult.data.gz",
        header=None,
        names=ADULT_COLUMNS,
        skipinitialspace=True,
        na_values="?",
    ).dropna(how="all")
    return frame.drop(columns="income"), frame["income"]


def california_housing() -> tuple[pd.DataFrame, pd.Series]:
    """Géron's California housing: 20,640 rows, with ocean_proximity and missing values."""
    frame = pd.read_csv(DATA / "california-housing" / "housing.csv")
    return frame.drop(columns="median_house_value"), frame["median_house_value"]


def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test images (uint8, 28x28) and their labels."""
    folder = DATA / "mnist-test"
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return images, labels


def sms_spam() -> tuple[list[str], np.ndarray]:
    """SMS Spam Collection v.1: 5,574 messages labelled ham or spam."""
    frame = pd.read_csv(
        DATA / "sms-spam" / "SMSSpamCollection", sep="\t", names=["label", "text"], quoting=3
    )
    return frame["text"].tolist(), frame["label"].to_numpy()


def ag_news_test() -> tuple[list[str], np.ndarray]:
    """AG News test split: 7,600 titles and descriptions in 4 topics."""
    frame = pd.read_csv(DATA / "ag-news-test" / "test.csv", names=["label", "title", "text"])
    texts = (frame["title"] + ". " + frame["text"].str.replace("\\", " ")).tolist()
    return texts, frame["label"].to_numpy()


def emobank() -> tuple[pd.DataFrame, pd.DataFrame]:
    """EmoBank sentences with valence, in its own train and test splits (one empty text)."""
    frame = pd.read_csv(DATA / "emobank" / "emobank.csv")
    frame["text"] = frame["text"].fillna("")
    return frame[frame["split"] == "train"], frame[frame["split"] == "test"]


def wine_quality() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Wine quality, red and white together: 11 features, quality score and colour."""
    folder = DATA / "wine-quality"
    red = pd.read_csv(folder / "winequality-red.csv", sep=";")
    white = pd.read_csv(folder / "winequality-white.csv", sep=";")
    frame = pd.concat([red.assign(colour="red"), white.assign(colour="white")], ignore_index=True)
    X = frame.drop(columns=["quality", "colour"])
    return X, frame["quality"].to_numpy(dtype=float), frame["colour"].to_numpy()
