"""Every Python example of the README and the documentation runs, as written, and does what
its comments say.

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

from sknas import ArchitectureSpec
from sknas.base import BaseNASEstimator

from .checks import assert_network_probabilities

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
        # an example without random_state runs the same whatever tests ran before it
        seed = 0 if self.random_state is None else self.random_state
        self.set_params(
            max_trials=min(self.max_trials or 2, 2), time_budget=None, random_state=seed
        )
        return fit(self, X, y, epochs=min(epochs or 2, 2), **kwargs)

    monkeypatch.setattr(BaseNASEstimator, "fit", capped)


def _examples(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


def _quick_start(ns):
    clf, X_test = ns["clf"], ns["X_test"]
    assert clf.score(X_test, ns["y_test"]) > 0.85  # held-out accuracy
    assert_network_probabilities(clf, X_test[:3])  # rows sum to 1, columns in classes_ order
    assert len(clf.leaderboard_) == len(clf.study_.trials)  # one row per trial
    spec = clf.best_architecture_  # a JSON-round-trippable spec
    assert ArchitectureSpec.from_json(spec.to_json()) == spec


def _two_heads(ns):
    assert set(ns["y_class_pred"]) <= set(ns["y_class"])
    values, truth = ns["y_value_pred"], ns["y_value"]
    assert values.shape == (len(ns["x_test"]),)
    # in the target's units (mean 4.8), not standardized ones (mean 0): after two epochs
    # (an average of two-epoch networks) nearer the target's mean than 0
    assert abs(values.mean() - truth.mean()) < abs(values.mean())


def _same_probabilities_as_the_estimator(ns):
    expected = ns["clf"].predict_proba(ns["X"])
    np.testing.assert_allclose(ns["proba"].numpy(), expected, atol=1e-6)


def _onnx_probabilities(ns):
    proba = ns["session"].run(None, ns["inputs"])[0]
    np.testing.assert_allclose(proba, ns["clf"].predict_proba(ns["X"]), atol=1e-5)


def _cancer_accuracy(ns):
    assert ns["clf"].score(ns["X_test"], ns["y_test"]) > 0.85


def _loaded_bundle_predicts_the_same(ns):
    X_test = ns["X_test"]
    np.testing.assert_array_equal(ns["same"].predict_proba(X_test), ns["clf"].predict_proba(X_test))


def _tabular_classifier_and_regressor(ns):
    clf, reg, X_test = ns["clf"], ns["reg"], ns["X_test"]
    assert clf.predict(X_test).dtype == ns["y_train"].dtype  # ints stay ints
    assert_network_probabilities(clf, X_test)  # one column per entry of classes_
    Y = ns["Y_train"]
    pred = reg.predict(X_test)
    assert pred.shape == (len(X_test), Y.shape[1])  # same shape as Y
    assert (abs(pred.mean(axis=0) - Y.mean(axis=0)) < Y.std(axis=0)).all()  # in Y's units


# what an example's comments promise, checked right after it runs; the example is the one of
# the page whose code holds the given line
CLAIMS = {
    ("README.md", "clf.predict_proba(X_test[:3])"): _quick_start,
    ("README.md", "y_class_pred, y_value_pred = model.predict(x_test)"): _two_heads,
    ("export.md", "proba = model(*prepare(X))"): _same_probabilities_as_the_estimator,
    ("export.md", "session.run(None, inputs)[0]"): _onnx_probabilities,
    ("getting-started.md", "print(clf.score(X_test, y_test))"): _cancer_accuracy,
    ("getting-started.md", 'same = sknas.load("cancer-model")'): _loaded_bundle_predicts_the_same,
    ("tabular.md", "reg.predict(X_test)"): _tabular_classifier_and_regressor,
}


def _claims(page_name: str, code: str) -> list:
    return [check for (page, line), check in CLAIMS.items() if page == page_name and line in code]


def test_the_pages_have_examples():
    counted = {page.name: len(_examples(page)) for page in PAGES}
    assert sum(counted.values()) >= 20, counted
    pages = {page.name: page for page in PAGES}
    for name, line in CLAIMS:
        holding = [code for code in _examples(pages[name]) if line in code]
        assert len(holding) == 1, f"{name}: {len(holding)} examples hold {line!r}, not one"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_run(page, small_budgets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = _given()
    for number, code in enumerate(_examples(page)):
        try:
            exec(compile(code, f"{page.name} example {number + 1}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{page.name}, example {number + 1} fails: {exc!r}") from exc
        for claim in _claims(page.name, code):
            claim(namespace)
