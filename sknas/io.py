"""Estimators in files and studies: safe bundles, exported modules, and joining a study.

A bundle is a folder:

``sknas.json``
    Format version, sknas and torch versions, the estimator class and parameters, the
    architecture, the best trial, the classes, the fitted attributes, the SHA-256 of every
    other file, and user metadata.
``weights.safetensors``
    The network's weights.
``preprocessing.skops``
    The fitted input and target adapters, in skops' format (JSON plus arrays, loaded without
    pickle; only sknas's and scikit-learn's own types are accepted).
``study.json``
    The finished trials, so that the leaderboard and the plots survive.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import safetensors.torch
import skops.io
import torch
from optuna.distributions import distribution_to_json, json_to_distribution
from optuna.trial import TrialState
from sklearn.utils.validation import check_is_fitted

from . import __version__
from .exceptions import SearchError, SknasError
from .search import leaderboard
from .search.driver import quiet_optuna
from .search.storage import open_storage
from .space import ArchitectureSpec
from .training import make_net

__all__ = [
    "BundleError",
    "bundle_metadata",
    "estimator_from_study",
    "load",
    "save",
    "to_onnx",
    "to_torchscript",
]

#: the bundle layout this sknas writes; it reads this one and older ones
FORMAT = 1
METADATA, WEIGHTS, PREPROCESSING, STUDY = (
    "sknas.json",
    "weights.safetensors",
    "preprocessing.skops",
    "study.json",
)
ESTIMATORS = (
    "AutoModel",
    "NASImageClassifier",
    "NASImageRegressor",
    "NASTabularClassifier",
    "NASTabularRegressor",
    "NASTextClassifier",
    "NASTextRegressor",
)
#: estimators whose parameters a study records fully (AutoModel's graph is not JSON)
JOINABLE = ESTIMATORS[1:]
#: fitted attributes kept in sknas.json
FITTED = ("best_score_", "search_interrupted_", "fit_seconds_", "n_features_in_")
#: types inside the preprocessing that skops does not trust by itself but sknas does
TRUSTED_PREFIXES = ("sknas.data.", "sknas.space.spec.")
TRUSTED_TYPES = ("numpy.dtype",)


class BundleError(SknasError, ValueError):
    """A model bundle cannot be read: missing, damaged, tampered with, or too new."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _trials_json(study: optuna.Study) -> list[dict[str, Any]]:
    trials = []
    for trial in study.get_trials(deepcopy=False):
        finished = trial.state.is_finished()
        user_attrs = dict(trial.user_attrs)
        if not finished:
            user_attrs["fail_reason"] = f"{trial.state.name.lower()} when the model was saved"
        trials.append(
            {
                "number": trial.number,
                "state": trial.state.name if finished else "FAIL",
                "value": trial.value,
                "params": trial.params,
                "distributions": {
                    k: distribution_to_json(d) for k, d in trial.distributions.items()
                },
                "user_attrs": user_attrs,
                "system_attrs": {
                    k: v for k, v in trial.system_attrs.items() if k == "retry_history"
                },
                "intermediate_values": {str(k): v for k, v in trial.intermediate_values.items()},
                "datetime_start": _iso(trial.datetime_start),
                "datetime_complete": _iso(trial.datetime_complete),
            }
        )
    return trials


def _study_from_json(data: dict[str, Any]) -> optuna.Study:
    with quiet_optuna():
        study = optuna.create_study(study_name=data["name"], direction=data["direction"])
    trials = []
    for item in data["trials"]:
        trial = optuna.trial.create_trial(
            state=TrialState[item["state"]],
            value=item["value"] if item["state"] == "COMPLETE" else None,
            params=item["params"],
            distributions={k: json_to_distribution(d) for k, d in item["distributions"].items()},
            user_attrs=item["user_attrs"],
            system_attrs=item["system_attrs"],
            intermediate_values={int(k): v for k, v in item["intermediate_values"].items()},
        )
        for key in ("datetime_start", "datetime_complete"):
            if item[key]:
                setattr(trial, key, datetime.fromisoformat(item[key]))
        trials.append(trial)
    study.add_trials(trials)  # numbered 0, 1, ... as they were saved
    return study


def save(estimator: Any, path: str | Path, *, data: dict[str, Any] | None = None) -> Path:
    """Write a fitted estimator as a bundle folder that :func:`load` reads without pickle.

    Parameters
    ----------
    estimator : fitted sknas estimator
        Any of the task estimators or an AutoModel.
    path : str or Path
        Folder to write (created; files of an earlier bundle there are replaced).
    data : dict, optional
        JSON metadata kept with the bundle (the command line records how it read the data).

    Returns
    -------
    Path
        The folder.
    """
    check_is_fitted(estimator, "model_")
    name = type(estimator).__name__
    if name not in ESTIMATORS:
        raise TypeError(f"save takes a fitted sknas estimator; received {name}.")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in estimator.model_.module_.state_dict().items()}
    safetensors.torch.save_file(state, folder / WEIGHTS, metadata={"format": str(FORMAT)})
    skops.io.dump(
        {"inputs": estimator.input_adapters_, "targets": estimator.target_adapters_},
        folder / PREPROCESSING,
    )
    study = estimator.study_
    study_data = {
        "name": study.study_name,
        "direction": study.direction.name.lower(),
        "trials": _trials_json(study),
    }
    (folder / STUDY).write_text(json.dumps(study_data), encoding="utf-8")
    params, left_out = estimator._json_params(exclude=("storage", "study_name"))
    fitted = {k: getattr(estimator, k) for k in FITTED if hasattr(estimator, k)}
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = estimator.feature_names_in_.tolist()
    metadata = {
        "format": FORMAT,
        "sknas": __version__,
        "torch": torch.__version__,
        "estimator": name,
        "params": params,
        "params_left_out": left_out,
        "architecture": estimator.best_architecture_.to_dict(),
        "best_trial": estimator.best_trial_.number,
        "fitted": fitted,
        "data": data or {},
        "files": {f: _sha256(folder / f) for f in (WEIGHTS, PREPROCESSING, STUDY)},
    }
    (folder / METADATA).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return folder


def bundle_metadata(path: str | Path) -> dict[str, Any]:
    """The checked ``sknas.json`` of a bundle.

    Raises
    ------
    BundleError
        When the folder is not a bundle, its metadata is damaged, it comes from a newer
        format, or one of its files differs from the one that was saved.
    """
    folder = Path(path)
    if not (folder / METADATA).is_file():
        raise BundleError(
            f"{str(folder)!r} is not an sknas model bundle: it has no {METADATA}. Bundles are "
            f"written by sknas.save or `sknas search --out`."
        )
    try:
        metadata = json.loads((folder / METADATA).read_text(encoding="utf-8"))
        version, files = int(metadata["format"]), dict(metadata["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{METADATA} in {str(folder)!r} is damaged ({exc}).") from None
    if version > FORMAT:
        raise BundleError(
            f"the bundle was written by sknas {metadata.get('sknas')} in bundle format "
            f"{version}; this sknas ({__version__}) reads formats up to {FORMAT}. Upgrade "
            f"sknas to load it."
        )
    for name in (WEIGHTS, PREPROCESSING, STUDY):
        file = folder / name
        if not file.is_file():
            raise BundleError(f"the bundle {str(folder)!r} lacks {name}.")
        if _sha256(file) != files.get(name):
            raise BundleError(
                f"{name} in {str(folder)!r} differs from the file that was saved (modified or "
                f"truncated); it is not loaded. Save the model again."
            )
    return metadata


def _load_preprocessing(file: Path) -> dict[str, Any]:
    untrusted = skops.io.get_untrusted_types(file=file)
    refused = [
        t for t in untrusted if not t.startswith(TRUSTED_PREFIXES) and t not in TRUSTED_TYPES
    ]
    if refused:
        raise BundleError(
            f"{file.name} holds types that sknas does not load: {refused}. The bundle was not "
            f"written by sknas.save."
        )
    return skops.io.load(file, trusted=untrusted)


def load(path: str | Path, *, device: str | None = None) -> Any:
    """Rebuild a fitted estimator from a bundle written by :func:`save`, without pickle.

    Parameters
    ----------
    path : str or Path
        The bundle folder.
    device : str, optional
        Torch device of the loaded network; None uses CUDA when the saved estimator asked for
        it (or for "auto") and it is available here, else the CPU.

    Returns
    -------
    estimator
        Fitted; ``predict`` gives what the saved estimator gave.

    Raises
    ------
    BundleError
        When the bundle is damaged, tampered with, too new, or its weights do not match its
        architecture.
    """
    import sknas

    folder = Path(path)
    metadata = bundle_metadata(folder)
    name = metadata.get("estimator")
    if name not in ESTIMATORS:
        raise BundleError(f"the bundle names an unknown estimator {name!r}.")
    cls = getattr(sknas, name)
    known = cls().get_params(deep=False)
    estimator = cls(**{k: v for k, v in metadata["params"].items() if k in known})
    adapters = _load_preprocessing(folder / PREPROCESSING)
    estimator.input_adapters_ = adapters["inputs"]
    estimator.target_adapters_ = adapters["targets"]
    spec = ArchitectureSpec.from_dict(metadata["architecture"])
    estimator.best_architecture_ = spec
    for key, value in metadata["fitted"].items():
        setattr(
            estimator, key, np.asarray(value, dtype=object) if key.endswith("names_in_") else value
        )
    study = _study_from_json(json.loads((folder / STUDY).read_text(encoding="utf-8")))
    estimator.study_ = study
    estimator.best_trial_ = next(t for t in study.trials if t.number == metadata["best_trial"])
    estimator.best_params_ = dict(estimator.best_trial_.params)
    estimator.leaderboard_ = leaderboard(study)
    if device is None:
        wanted = metadata["params"].get("device", "auto")
        device = "cuda" if wanted in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
    estimator.model_ = _network(estimator, spec, folder / WEIGHTS, device)
    return estimator


def _network(estimator: Any, spec: ArchitectureSpec, weights: Path, device: str) -> Any:
    from .nn import GraphModule

    targets = [a.info_ for a in estimator.target_adapters_]
    infos = [a.info_ for a in estimator.input_adapters_]
    try:
        module = GraphModule(spec, infos, targets)
        module.load_state_dict(safetensors.torch.load_file(weights, device="cpu"), strict=True)
    except (RuntimeError, KeyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise BundleError(
            f"the weights in {weights.name} do not match the bundle's architecture ({first}); "
            f"the bundle is not consistent."
        ) from None
    net = make_net(module, spec, targets, max_epochs=1, device=device)
    net.initialize()
    net.module_.load_state_dict(module.state_dict())
    net.module_.eval()
    return net


def _example(estimator: Any, X: Any) -> tuple[torch.Tensor, ...]:
    return estimator.export_preprocessor()(X)


def to_torchscript(estimator: Any, path: str | Path, X: Any) -> Path:
    """Save the exported network as TorchScript (traced on ``X``).

    Parameters
    ----------
    estimator : fitted sknas estimator
    path : str or Path
        File to write; load it with ``torch.jit.load``.
    X : array-like
        A few raw samples, as given to ``predict``, to trace the network with.

    Returns
    -------
    Path
    """
    module = estimator.export_model()
    # TorchScript is deprecated upstream (ONNX is the format to prefer); recurrent layers warn
    # that their input checks are traced as constants, which holds for any batch size
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, _example(estimator, X))
    traced.save(str(path))
    return Path(path)


@contextlib.contextmanager
def _logger_level(name: str, level: int) -> Iterator[None]:
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def to_onnx(estimator: Any, path: str | Path, X: Any) -> Path:
    """Save the exported network as ONNX, with a dynamic batch axis.

    Needs the ``onnx`` extra (``pip install 'sknas[onnx]'``). Inputs are named after the
    architecture's inputs, outputs after its heads.

    Parameters
    ----------
    estimator : fitted sknas estimator
    path : str or Path
        File to write; run it with onnxruntime.
    X : array-like
        A few raw samples, as given to ``predict``, to export the network with.

    Returns
    -------
    Path
    """
    try:
        import onnxscript  # noqa: F401
    except ImportError:
        raise ImportError("ONNX export needs the onnx extra: pip install 'sknas[onnx]'.") from None
    module = estimator.export_model()
    example = _example(estimator, X)
    spec = estimator.best_architecture_
    batch = torch.export.Dim("batch")
    # the exporter reports its steps on stdout and warns of torchvision operators it skips
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        _logger_level("torch.onnx", logging.ERROR),
    ):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            example,
            input_names=list(spec.inputs),
            output_names=list(spec.outputs),
            dynamic_shapes=(tuple({0: batch} for _ in example),),
            dynamo=True,
            verbose=False,
        )
    program.save(str(path))
    return Path(path)


def estimator_from_study(storage: Any, study_name: str, **params: Any) -> Any:
    """The unfitted estimator that runs the search kept in a study, to join it as a worker.

    Fitting it on the study's data (checked by fingerprint) runs trials of that study beside
    the other workers, then refits the global best.

    Parameters
    ----------
    storage : str or optuna storage
        Where the study is, as for the estimators' ``storage``.
    study_name : str
        The study's name.
    **params
        Parameters to set on top of the recorded ones (``verbose``, ``n_jobs``, ``device``...).

    Returns
    -------
    estimator
        An instance of the estimator class that made the study, with its recorded parameters.

    Raises
    ------
    SearchError
        When there is no such study, or it was not made by a task estimator of sknas.
    """
    import sknas

    opened = open_storage(storage)
    try:
        study = optuna.load_study(study_name=study_name, storage=opened)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(opened)]
        raise SearchError(
            f"no study named {study_name!r} in the storage; it holds {names or 'no study'}. "
            f"Start the search first (sknas search, or fit with this storage and study_name)."
        ) from None
    kind = study.user_attrs.get("sknas_estimator", "")
    name = kind.rsplit(".", 1)[-1]
    if name not in JOINABLE:
        raise SearchError(
            f"study {study_name!r} was made by {kind or 'something other than sknas'}; workers "
            f"can join studies of {', '.join(JOINABLE)}. For an AutoModel, run the same Python "
            f"fit (same storage and study_name) on each machine."
        )
    cls = getattr(sknas, name)
    recorded = study.user_attrs.get("sknas_params", {})
    known = cls().get_params(deep=False)
    settings = {k: v for k, v in recorded.items() if k in known}
    settings.update(params)
    return cls(**settings, storage=opened, study_name=study_name)
