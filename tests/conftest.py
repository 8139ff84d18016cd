"""Small real datasets shared by the tests."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris


@pytest.fixture(scope="session")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="session")
def cancer():
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="session")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.fixture(scope="session")
def mixed_frame():
    """Iris as a DataFrame with a categorical, a boolean and missing values added."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    rng = np.random.default_rng(0)
    X = X.copy()
    X["colour"] = rng.choice(["red", "green", "blue"], size=len(X))
    X["flag"] = rng.random(len(X)) > 0.5
    X["kind"] = pd.Categorical(rng.choice(["a", "b"], size=len(X)))
    X.loc[rng.choice(len(X), 15, replace=False), "sepal length (cm)"] = np.nan
    X.loc[rng.choice(len(X), 10, replace=False), "colour"] = None
    labels = np.array(["setosa", "versicolor", "virginica"])[y.to_numpy()]
    return X, labels
