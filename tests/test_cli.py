"""The sknas command: search, predict, show, plot; exit codes and error messages."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.datasets import load_digits, load_iris

import sknas
from sknas.base import CV_FOLDS
from sknas.cli import main

FAST = ["--max-trials", "3", "--epochs", "3", "--random-state", "0", "--verbose", "0"]


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    frame = load_iris(as_frame=True).frame
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[frame.pop("target")]
    path = tmp_path_factory.mktemp("cli") / "iris.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def iris_model(iris_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "iris"
    assert main(["search", str(iris_csv), "--target", "species", *FAST, "--out", str(out)]) == 0
    return out


def test_search_prints_the_leaderboard_and_saves_a_bundle(iris_csv, tmp_path, capsys):
    out = tmp_path / "model"
    code = main(["search", str(iris_csv), "--target", "species", *FAST, "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.startswith("NASTabularClassifier: best trial")
    assert "number" in printed and "score" in printed and f"saved to {out}" in printed
    model = sknas.load(out)
    assert len(model.leaderboard_) == 3
    assert set(model.classes_) == {"setosa", "versicolor", "virginica"}


def test_cv_sets_the_folds_of_each_trial(iris_model, iris_csv, tmp_path, capsys):
    for cv, folds in [("3", 3), ("none", 1), ("auto", CV_FOLDS)]:
        out = tmp_path / cv
        args = ["search", str(iris_csv), "--target", "species", *FAST, "--cv", cv]
        assert main([*args, "--out", str(out)]) == 0
        assert sknas.load(out).ensemble_.folds == folds
    # without --cv the estimator's default decides: the tables' cross-validates iris
    assert sknas.load(iris_model).ensemble_.folds == CV_FOLDS
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(iris_csv), "--target", "species", "--cv", "1"])
    assert exit_.value.code == 2
    assert "expected a number of folds (2 or more), auto or none; got '1'" in (
        capsys.readouterr().err
    )


def test_regression_is_inferred_from_a_continuous_target(tmp_path, capsys):
    frame = load_iris(as_frame=True).frame.drop(columns="target")
    path = tmp_path / "petal.csv"
    frame.to_csv(path, index=False)
    assert main(["search", str(path), "--target", "petal width (cm)", *FAST]) == 0
    assert capsys.readouterr().out.startswith("NASTabularRegressor")


def test_predict_writes_labels_and_probabilities(iris_model, iris_csv, tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(iris_model), str(iris_csv), "--out", str(out)]) == 0
    assert "150 predictions written" in capsys.readouterr().out
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == [
        "prediction",
        "proba_setosa",
        "proba_versicolor",
        "proba_virginica",
    ]
    data = pd.read_csv(iris_csv).drop(columns="species")
    model = sknas.load(iris_model)
    assert predictions["prediction"].tolist() == model.predict(data).tolist()
    proba = predictions.iloc[:, 1:].to_numpy()
    np.testing.assert_allclose(proba, model.predict_proba(data), rtol=1e-12)
    assert predictions["prediction"].tolist() == model.classes_[proba.argmax(axis=1)].tolist()


def test_show_prints_the_architecture_and_scores(iris_model, capsys):
    assert main(["show", str(iris_model)]) == 0
    printed = capsys.readouterr().out
    model = sknas.load(iris_model)
    assert printed.startswith(f"NASTabularClassifier (sknas {sknas.__version__})")
    assert f"best trial {model.best_trial_.number}: score" in printed
    assert "dense_block" in printed and "training:" in printed


def test_plot_writes_pictures(iris_model, tmp_path, capsys):
    assert main(["plot", str(iris_model), "--out", str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()
    assert {p.rsplit("/", 1)[-1] for p in written} >= {"history.png", "learning_curves.png"}
    for path in written:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size[0] > 300


def test_learning_curves_of_cross_validated_trials_show_their_folds(iris_model, iris_csv, tmp_path):
    # iris is cross-validated by default: each trial reported one score per fold
    axes = sknas.plot.learning_curves(sknas.load(iris_model))
    assert axes.get_xlabel() == "Fold (from 0)" and axes.get_title().startswith("Fold scores")
    one_split = tmp_path / "one"
    args = ["search", str(iris_csv), "--target", "species", *FAST, "--cv", "none"]
    assert main([*args, "--out", str(one_split)]) == 0
    assert sknas.plot.learning_curves(sknas.load(one_split)).get_xlabel() == "Epoch"


def test_text_column(tmp_path, capsys):
    texts = ["great film", "awful plot", "loved it", "boring mess", "superb", "dreadful"] * 10
    frame = pd.DataFrame({"review": texts, "stars": ["good", "bad"] * 30, "id": range(60)})
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "model"
    args = ["search", str(path), "--target", "stars", "--text-column", "review", *FAST]
    assert main([*args, "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("NASTextClassifier")
    assert main(["predict", str(out), str(path), "--out", str(tmp_path / "p.csv")]) == 0
    predictions = pd.read_csv(tmp_path / "p.csv")["prediction"]
    assert predictions.tolist() == sknas.load(out).predict(texts).tolist()


def test_image_dir(tmp_path, capsys):
    digits = load_digits()
    folder = tmp_path / "images"
    folder.mkdir()
    names = []
    for i, image in enumerate(digits.images[:120]):
        names.append(f"{i}.png")
        Image.fromarray((image * 15).astype(np.uint8)).save(folder / names[-1])
    path = tmp_path / "labels.csv"
    pd.DataFrame({"file": names, "digit": digits.target[:120]}).to_csv(path, index=False)
    out = tmp_path / "model"
    args = ["search", str(path), "--target", "digit", "--image-dir", str(folder), *FAST]
    assert main([*args, "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("NASImageClassifier")
    assert main(["predict", str(out), str(path), "--out", str(tmp_path / "p.csv")]) == 0
    predictions = pd.read_csv(tmp_path / "p.csv")["prediction"]
    images = (digits.images[:120] * 15).astype(np.uint8)
    assert predictions.tolist() == sknas.load(out).predict(images).tolist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "missing.csv", "--target", "y"], "data file 'missing.csv' does not exist"),
        (["search", "{csv}", "--target", "nope"], "column(s) ['nope'] are not in iris.csv"),
        (["show", "{tmp}"], "is not an sknas model bundle"),
        (["predict", "{tmp}", "{csv}", "--out", "p.csv"], "is not an sknas model bundle"),
    ],
)
def test_errors_exit_1_with_a_message(args, message, iris_csv, tmp_path, capsys):
    args = [a.format(csv=iris_csv, tmp=tmp_path) for a in args]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"sknas {args[0]}: error: ") and message in err


def test_bad_command_lines_exit_2(iris_csv, capsys):
    assert main(["search", str(iris_csv)]) == 2
    assert "--target is required" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["fly"])
    assert exit_.value.code == 2


def test_the_installed_command_runs(iris_model):
    result = subprocess.run(
        [sys.executable, "-m", "sknas.cli", "show", str(iris_model)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "NASTabularClassifier" in result.stdout
