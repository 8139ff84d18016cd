"""Loaders for the benchmark data in ../shared/datasets (next to the repository)."""

from __future__ import annotations

import os
from pathlib import Path

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
