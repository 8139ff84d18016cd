"""Data adapters: tables, targets and the validation split."""

import numpy as np
import pandas as pd
import pytest

import sknas
from sknas.data import ClassificationTarget, RegressionTarget, TabularAdapter, validation_indices


def test_column_types_are_inferred_and_overridable(mixed_frame):
    X, _ = mixed_frame
    adapter = TabularAdapter().fit(X)
    assert adapter.categorical_columns_ == ["colour", "flag", "kind"]
    assert len(adapter.numerical_columns_) == 4
    info = adapter.info_
    # one missing-value indicator for the numeric column with NaN
    assert info.meta["n_numerical"] == 5
    assert info.meta["cardinalities"] == [3, 2, 2]
    forced = TabularAdapter(column_types={"petal width (cm)": "categorical"}).fit(X)
    assert "petal width (cm)" in forced.categorical_columns_


def test_unknown_column_type_names_are_clear(mixed_frame):
    X, _ = mixed_frame
    with pytest.raises(sknas.InvalidInputError, match="Did you mean 'colour'"):
        TabularAdapter(column_types={"color": "categorical"}).fit(X)
    with pytest.raises(sknas.InvalidInputError, match="allowed"):
        TabularAdapter(column_types={"colour": "text"}).fit(X)


def test_missing_and_unseen_categories_get_the_reserved_code(mixed_frame):
    X, _ = mixed_frame
    adapter = TabularAdapter().fit(X)
    new = X.head(3).copy()
    new["colour"] = ["purple", None, "red"]
    codes = adapter.transform(new)[:, -3]
    assert codes[0] == 0 and codes[1] == 0 and codes[2] > 0
    assert not np.isnan(adapter.transform(X)).any()


def test_missing_columns_and_infinity_are_clear_errors(mixed_frame):
    X, _ = mixed_frame
    adapter = TabularAdapter().fit(X)
    with pytest.raises(sknas.InvalidInputError, match="lacks the column"):
        adapter.transform(X.drop(columns=["colour"]))
    bad = X.copy()
    bad.iloc[4, 0] = np.inf
    with pytest.raises(sknas.InvalidInputError, match="infinity in column 'sepal length"):
        adapter.transform(bad)


def test_numeric_object_arrays_are_numbers():
    X = np.array([[1.0, "a"], [2.5, "b"], [np.nan, "a"]], dtype=object)
    adapter = TabularAdapter().fit(X)
    assert adapter.numerical_columns_ == [0]
    assert adapter.categorical_columns_ == [1]


def test_classification_target_keeps_label_types():
    target = ClassificationTarget().fit(np.array(["b", "a", "b"]))
    assert target.classes_.tolist() == ["a", "b"]
    np.testing.assert_array_equal(target.transform(["a", "b"]), [0, 1])
    assert target.inverse_transform(np.array([1, 0])).tolist() == ["b", "a"]
    with pytest.raises(sknas.InvalidInputError, match="only one class"):
        ClassificationTarget().fit([3, 3, 3])
    with pytest.raises(ValueError, match="Unknown label type"):
        ClassificationTarget().fit([0.5, 1.5, 2.25])
    with pytest.raises(sknas.InvalidInputError, match="NaN"):
        ClassificationTarget().fit([0.0, np.nan, 1.0])


def test_regression_target_scale_and_shape():
    y = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    target = RegressionTarget().fit(y)
    assert target.info_.meta["mean"] == [3.0, 10.0]
    assert target.info_.meta["scale"] == pytest.approx([np.std([1.0, 3.0, 5.0]), 1.0])
    # the constant column keeps scale 1; values stay in their units, the network learns them
    np.testing.assert_array_equal(target.transform(y), y)
    np.testing.assert_array_equal(target.inverse_transform(target.transform(y)), y)
    flat = RegressionTarget().fit(y[:, 0])
    np.testing.assert_array_equal(flat.transform(y[:, 0]), y[:, :1])
    np.testing.assert_array_equal(flat.inverse_transform(flat.transform(y[:, 0])), y[:, 0])
    with pytest.raises(ValueError, match="NaN"):
        RegressionTarget().fit([1.0, np.nan])


def test_split_is_seeded_stratified_and_checked():
    y = np.array([0] * 80 + [1] * 20)
    train, valid = validation_indices(100, 0.2, seed=3, stratify=y)
    assert len(valid) == 20 and np.bincount(y[valid]).tolist() == [16, 4]
    assert set(train).isdisjoint(valid)
    again, _ = validation_indices(100, 0.2, seed=3, stratify=y)
    np.testing.assert_array_equal(train, again)
    with pytest.warns(UserWarning, match="cannot stratify"):
        validation_indices(10, 0.2, seed=0, stratify=np.array([0] * 9 + [1]))
    with pytest.raises(sknas.InvalidInputError, match="1 samples"):
        validation_indices(1, 0.2, seed=0)


def test_frame_with_pandas_string_dtype():
    X = pd.DataFrame({"t": pd.array(["u", "v", "u", None], dtype="string"), "n": [1, 2, 3, 4]})
    adapter = TabularAdapter().fit(X)
    assert adapter.categorical_columns_ == ["t"]
    # numbers first, then category codes: 0 for missing, 1 and up for the categories seen
    np.testing.assert_array_equal(adapter.transform(X), [[1, 1], [2, 2], [3, 1], [4, 0]])
