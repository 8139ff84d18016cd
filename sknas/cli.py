"""The ``sknas`` command: search, join a search as a worker, predict, show and plot.

Every command calls the public Python API only. Exit codes: 0 success, 1 an sknas error
(bad data, failed search, bad bundle), 2 a bad command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import InvalidInputError, SknasError

__all__ = ["main", "read_data"]

ESTIMATORS = {
    ("tabular", "classification"): "NASTabularClassifier",
    ("tabular", "regression"): "NASTabularRegressor",
    ("text", "classification"): "NASTextClassifier",
    ("text", "regression"): "NASTextRegressor",
    ("image", "classification"): "NASImageClassifier",
    ("image", "regression"): "NASImageRegressor",
}
LEADERBOARD_COLUMNS = ["number", "state", "score", "epochs", "n_params", "seconds"]


def _load_images(folder: Path, names: pd.Series) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise InvalidInputError(
            "reading images needs Pillow: pip install 'sknas[images]'."
        ) from None
    images = []
    for name in names.astype(str):
        path = folder / name
        if not path.is_file():
            raise InvalidInputError(f"image {str(path)!r} listed in the data does not exist.")
        with Image.open(path) as image:
            images.append(np.asarray(image))
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise InvalidInputError(
            f"the images have different shapes {sorted(shapes)[:4]}; resize them to one size."
        )
    return np.stack(images)


def read_data(
    path: str | Path,
    *,
    target: str | None = None,
    text_column: str | None = None,
    image_dir: str | Path | None = None,
    image_column: str | None = None,
    target_optional: bool = False,
) -> tuple[Any, Any]:
    """Inputs and targets from a CSV file (a table, a text column or image file names) or
    an ``.npz`` file with arrays ``X`` and ``y``.

    Parameters
    ----------
    path : str or Path
        The data file.
    target : str, optional
        The CSV column to predict; None reads inputs only (for prediction).
    text_column : str, optional
        The CSV column of raw texts; the inputs are then that column alone.
    image_dir : str or Path, optional
        Folder of the images named by ``image_column``.
    image_column : str, optional
        The CSV column of image file names; by default the only column besides ``target``.
    target_optional : bool, default=False
        A file without the ``target`` column is inputs only (for prediction).

    Returns
    -------
    X, y
        ``y`` is None when there is no target.

    Raises
    ------
    InvalidInputError
        When the file or a named column does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"data file {str(path)!r} does not exist.")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as arrays:
            if "X" not in arrays:
                raise InvalidInputError(
                    f"{path.name} holds arrays {sorted(arrays.files)}; it needs 'X' (and 'y')."
                )
            return arrays["X"], arrays.get("y")
    frame = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")
    wanted = [c for c in (text_column, image_column) if c is not None]
    if target is not None and not target_optional:
        wanted.insert(0, target)
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"column(s) {missing} are not in {path.name}; its columns are {list(frame.columns)}."
        )
    y = frame.pop(target) if target is not None and target in frame else None
    if text_column is not None:
        return frame[text_column].fillna("").astype(str), y
    if image_dir is not None:
        if image_column is None:
            if frame.shape[1] != 1:
                raise InvalidInputError(
                    f"give --image-column: {path.name} has columns {list(frame.columns)} "
                    f"besides the target."
                )
            image_column = frame.columns[0]
        return _load_images(Path(image_dir), frame[image_column]), y
    return frame, y


def _kind(args: argparse.Namespace) -> str:
    if args.text_column:
        return "text"
    if args.image_dir or (Path(args.data).suffix == ".npz"):
        return "image"
    return "tabular"


def _task(y: Any, task: str | None) -> str:
    if task is not None:
        return task
    from sklearn.utils.multiclass import type_of_target

    return "regression" if type_of_target(y).startswith("continuous") else "classification"


def _data_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "text_column": args.text_column,
        "image_dir": args.image_dir,
        "image_column": args.image_column,
    }


def _print_leaderboard(estimator: Any, rows: int = 10) -> None:
    board = estimator.leaderboard_
    columns = [c for c in LEADERBOARD_COLUMNS if c in board] + [
        c for c in board if c.startswith("params/")
    ]
    with pd.option_context("display.width", 200, "display.max_columns", 12):
        print(board[columns].head(rows).to_string(index=False))


def _search(args: argparse.Namespace) -> int:
    import sknas

    X, y = read_data(args.data, target=args.target, **_data_options(args))
    name = ESTIMATORS[_kind(args), _task(y, args.task)]
    estimator = getattr(sknas, name)(
        max_trials=args.max_trials,
        time_budget=args.time_budget,
        epochs=args.epochs,
        storage=_storage(args),
        study_name=args.study_name,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        verbose=args.verbose,
        **({"cv": args.cv} if hasattr(args, "cv") else {}),
    )
    estimator.fit(X, y)
    print(f"{name}: best trial {estimator.best_trial_.number}, score {estimator.best_score_:.5g}")
    _print_leaderboard(estimator)
    if args.out:
        sknas.save(estimator, args.out, data={"target": args.target, **_data_options(args)})
        print(f"saved to {args.out}")
    return 0


def _cv(text: str) -> int | str | None:
    """``--cv``: a number of folds, ``auto`` or ``none`` (None: one validation split)."""
    if text in ("auto", "none"):
        return None if text == "none" else text
    try:
        folds = int(text)
    except ValueError:
        folds = 0
    if folds < 2:
        raise argparse.ArgumentTypeError(
            f"expected a number of folds (2 or more), auto or none; got {text!r}"
        )
    return folds


def _storage(args: argparse.Namespace) -> Any:
    if args.storage is None:
        return None
    import sknas

    return sknas.open_storage(args.storage, heartbeat_interval=args.heartbeat_interval)


def _worker(args: argparse.Namespace) -> int:
    import sknas

    X, y = read_data(args.data, target=args.target, **_data_options(args))
    estimator = sknas.io.estimator_from_study(
        _storage(args), args.study_name, verbose=args.verbose, n_jobs=args.n_jobs
    )
    estimator.fit(X, y)
    print(
        f"worker done: study {args.study_name!r} best trial {estimator.best_trial_.number}, "
        f"score {estimator.best_score_:.5g}"
    )
    if args.out:
        sknas.save(estimator, args.out, data={"target": args.target, **_data_options(args)})
        print(f"saved to {args.out}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import sknas

    estimator = sknas.load(args.model)
    options = sknas.io.bundle_metadata(args.model).get("data", {})
    for name in ("target", "text_column", "image_dir", "image_column"):
        if not isinstance(options.get(name), (str, type(None))):
            raise ValueError(
                f"the bundle's data option {name!r} is {options[name]!r}; it must be a column "
                f"or folder name. Save the model again with `sknas search --out`."
            )
    X, _ = read_data(
        args.data,
        target=options.get("target"),
        text_column=options.get("text_column"),
        image_dir=args.image_dir or options.get("image_dir"),
        image_column=options.get("image_column"),
        target_optional=True,
    )
    out = pd.DataFrame({"prediction": estimator.predict(X)})
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        for i, label in enumerate(estimator.classes_):
            out[f"proba_{label}"] = proba[:, i]
    out.to_csv(args.out, index=False)
    print(f"{len(out)} predictions written to {args.out}")
    return 0


def _show(args: argparse.Namespace) -> int:
    import sknas

    estimator = sknas.load(args.model)
    print(f"{type(estimator).__name__} (sknas {sknas.io.bundle_metadata(args.model)['sknas']})")
    print(f"best trial {estimator.best_trial_.number}: score {estimator.best_score_:.5g}")
    print(estimator.best_architecture_)
    _print_leaderboard(estimator)
    return 0


def _plot(args: argparse.Namespace) -> int:
    import sknas

    estimator = sknas.load(args.model)
    out = Path(args.out or Path(args.model) / "plots")
    for path in sknas.plot.save_plots(estimator, out):
        print(path)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sknas", description="Neural architecture search as scikit-learn estimators."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def data_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("data", help="CSV file, or .npz with arrays X and y")
        sub.add_argument("--target", help="the CSV column to predict")
        kind = sub.add_mutually_exclusive_group()
        kind.add_argument("--text-column", help="the CSV column of raw texts")
        kind.add_argument("--image-dir", help="folder of the images the CSV names")
        sub.add_argument("--image-column", help="the CSV column of image file names")

    def run_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--n-jobs", type=int, default=None, help="worker processes")
        sub.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
        sub.add_argument("--out", help="folder to save the fitted model bundle in")
        sub.add_argument(
            "--heartbeat-interval",
            type=int,
            default=10,
            help="seconds between heartbeats of running trials in a database storage",
        )

    search = commands.add_parser("search", help="search architectures and save the best")
    data_options(search)
    search.add_argument("--task", choices=("classification", "regression"))
    search.add_argument(
        "--max-trials",
        type=int,
        default=None,
        help="trials to finish (default: no cap with --time-budget, else 20)",
    )
    search.add_argument("--time-budget", type=float, default=None, help="seconds")
    search.add_argument("--epochs", type=int, default=None)
    search.add_argument("--storage", help="Optuna storage URL or journal file")
    search.add_argument("--study-name")
    search.add_argument("--random-state", type=int, default=None)
    search.add_argument(
        "--cv",
        type=_cv,
        default=argparse.SUPPRESS,
        help="cross-validation folds per trial: a number, auto (below 1,000 rows: the "
        "tables' default) or none (one validation split); default: the estimator's",
    )
    run_options(search)
    search.set_defaults(run=_search)

    worker = commands.add_parser("worker", help="run trials of an existing study")
    data_options(worker)
    worker.add_argument("--storage", required=True, help="the study's storage URL")
    worker.add_argument("--study-name", required=True)
    run_options(worker)
    worker.set_defaults(run=_worker)

    predict = commands.add_parser("predict", help="predict with a saved model")
    predict.add_argument("model", help="bundle folder written by search --out")
    predict.add_argument("data", help="CSV or .npz file of inputs")
    predict.add_argument("--image-dir", help="folder of the images the CSV names")
    predict.add_argument("--out", required=True, help="CSV file to write")
    predict.set_defaults(run=_predict)

    show = commands.add_parser("show", help="print a saved model's architecture and scores")
    show.add_argument("model")
    show.set_defaults(run=_show)

    plot = commands.add_parser("plot", help="draw a saved model's search as PNG files")
    plot.add_argument("model")
    plot.add_argument("--out", help="folder for the pictures (default: MODEL/plots)")
    plot.set_defaults(run=_plot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sknas`` command line; returns the exit code."""
    args = _parser().parse_args(argv)
    needs_target = args.command in ("search", "worker") and Path(args.data).suffix != ".npz"
    if needs_target and args.target is None:
        print(f"sknas {args.command}: error: --target is required for a CSV file", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except (SknasError, ValueError) as exc:
        print(f"sknas {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
