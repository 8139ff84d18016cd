"""Every Python example of the README and the documentation runs, as written.

The examples show realistic budgets (``max_trials=20``, ``time_budget=60``...); here every
fit is capped at two trials of two epochs, so that the pages run in seconds. Names that an
example takes as given (``X_train``, ``texts``, ``x_train``...) are small real datasets.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split

from sknas.base import BaseNASEstimator

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _given() -> dict:
    """The data the examples refer to without building it."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, stratify=y, random_state=0)
    digits = load_digits()
    images = digits.images[:150]
    texts = [
        "Free entry to win a prize, text WIN now",
        "see you at 6 for dinner",
        "URGENT! You have won a cash award",
        "can you pick up milk on the way home",
    ] * 25
    labels = ["spam", "ham", "spam", "ham"] * 25
    return {
        "X": X,
        "y": y,
        "X_train": X_train,
        "X_test": X_test,
        "y_train": y_train,
        "Y_train": np.column_stack([X_train.iloc[:, 0], X_train.iloc[:, 1]]),
        "numeric_columns": list(X.columns),
        "texts": texts,
        "labels": labels,
        "messages": texts,
        "x_train": images,
        "x_test": images[:10],
        "y_kind": digits.target[:150],
        "y_quality": images.mean(axis=(1, 2)),
        "y_class": digits.target[:150],
        "y_value": images.mean(axis=(1, 2)),
        "X_images": images,
        "X_table": X,
    }


@pytest.fixture
def small_budgets(monkeypatch):
    fit = BaseNASEstimator.fit

    def capped(self, X, y=None, **kwargs):
        epochs = kwargs.pop("epochs", self.epochs)
        self.set_params(max_trials=min(self.max_trials, 2), time_budget=None)
        return fit(self, X, y, epochs=min(epochs or 2, 2), **kwargs)

    monkeypatch.setattr(BaseNASEstimator, "fit", capped)


def _examples(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


def test_the_pages_have_examples():
    counted = {page.name: len(_examples(page)) for page in PAGES}
    assert sum(counted.values()) >= 20, counted


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_run(page, small_budgets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = _given()
    for number, code in enumerate(_examples(page)):
        try:
            exec(compile(code, f"{page.name} example {number + 1}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{page.name}, example {number + 1} fails: {exc!r}") from exc
