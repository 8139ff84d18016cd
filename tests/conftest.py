"""Small real datasets shared by the tests."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris


def pytest_configure(config):
    # `make test` runs the suite in one process per CPU (pytest-xdist): torch takes one
    # thread in each, and in the processes the tests start, so that they do not contend for
    # the CPUs
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
        os.environ["OMP_NUM_THREADS"] = "1"


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


def _postgres_programs() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server started for the tests, or the one SKNAS_TEST_POSTGRES_URL names.

    The tests that use it fail (they do not skip) where PostgreSQL is not installed.
    """
    if os.environ.get("SKNAS_TEST_POSTGRES_URL"):
        yield os.environ["SKNAS_TEST_POSTGRES_URL"]
        return
    programs = _postgres_programs()
    if programs is None:
        pytest.fail(
            "PostgreSQL's server programs (initdb, pg_ctl) are not installed: install the "
            "postgresql package, or set SKNAS_TEST_POSTGRES_URL to a server for the tests."
        )
    # postgres refuses to run as root; the server runs as the postgres user then
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="sknas-pg-"))
    if as_user:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    subprocess.run(
        [*as_user, str(programs / "initdb"), "-D", str(data), "-U", "sknas", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    ctl = [*as_user, str(programs / "pg_ctl"), "-D", str(data)]
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*ctl, "-o", options, "-l", str(folder / "server.log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://sknas@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
