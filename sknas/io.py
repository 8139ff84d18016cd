"""Estimators in files and studies: safe bundles, exported modules, and joining a study.

A bundle is a folder:

``sknas.json``
    Format version, sknas and torch versions, the estimator class and parameters, the
    architecture, the best trial, the fitted attributes, the SHA-256 of every other file, and
    user metadata.
``weights.safetensors``
    The network's weights.
``preprocessing.skops``
    The fitted input and target adapters, in skops' format (JSON plus arrays, loaded without
    pickle; only the exact types in :data:`TRUSTED_TYPES` are accepted).
``study.json``
    The finished trials, so that the leaderboard and the plots survive.
``signature.json``
    Only when the bundle was saved with a key: an HMAC-SHA256 of ``sknas.json``.

The SHA-256 digests catch corruption (a truncated copy, a flipped bit), not tampering: whoever
can change a file can change its digest too. Authenticity needs the signature, which only a
holder of the key can make. Every value read from ``sknas.json`` is checked (type, range,
known name) before it is set on the estimator.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
import math
import warnings
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import safetensors
import safetensors.torch
import skops.io
import torch
from optuna.distributions import distribution_to_json, json_to_distribution
from optuna.trial import TrialState
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import LabelEncoder, OrdinalEncoder
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from . import __version__
from .data import (
    ClassificationTarget,
    ImageAdapter,
    MultiLabelTarget,
    RegressionTarget,
    TabularAdapter,
    TextAdapter,
)
from .data.text import HashedNgrams, TokenSequencer
from .exceptions import GraphError, SearchError, SknasError
from .nn import EnsembleModule, GraphModule
from .nn.builder import BUILDERS
from .search import Ensemble, leaderboard
from .search.driver import quiet_optuna
from .search.ensemble import PREDICTIONS
from .search.final import STATUSES
from .search.storage import open_storage
from .space import ArchitectureSpec, TensorInfo
from .space.training import BATCH_MIXING, LR_SCHEDULES, OPTIMIZERS
from .training import make_net

__all__ = [
    "TRUSTED_TYPES",
    "BundleError",
    "bundle_metadata",
    "estimator_from_study",
    "load",
    "save",
    "to_onnx",
    "to_torchscript",
]

#: the bundle layout this sknas writes; it reads this one and older ones (format 2 added
#: ``ensemble``)
FORMAT = 2
METADATA, WEIGHTS, PREPROCESSING, STUDY, SIGNATURE = (
    "sknas.json",
    "weights.safetensors",
    "preprocessing.skops",
    "study.json",
    "signature.json",
)
SIGNATURE_ALGORITHM = "HMAC-SHA256"
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
#: parameters a bundle never records (where the study was kept is not part of the model)
NOT_SAVED = ("storage", "study_name")
#: the fields of sknas.json; ``data`` may be absent
FIELDS = (
    "format",
    "sknas",
    "torch",
    "estimator",
    "params",
    "params_left_out",
    "architecture",
    "best_trial",
    "fitted",
    "files",
)
OPTIONAL_FIELDS = ("data", "ensemble")
#: the fields of ``ensemble`` in sknas.json
ENSEMBLE_FIELDS = ("members", "weights", "score", "rounds", "folds", "architectures")

#: every type that preprocessing.skops may hold, and nothing else. It is what sknas.save
#: writes for every estimator kind (tables, images, text as n-grams or word, character and
#: SentencePiece sequences, AutoModels with several inputs and heads), measured with
#: ``skops.io`` on such bundles; tests/test_bundle.py checks that it is exact. skops itself
#: trusts many more scikit-learn types by default; sknas does not.
TRUSTED_TYPES = frozenset(
    f"{cls.__module__}.{cls.__name__}"
    for cls in (
        # containers and values
        bytes,
        dict,
        int,
        list,
        slice,
        str,
        tuple,
        np.dtype,
        np.float32,
        np.int64,
        np.ndarray,
        # scikit-learn inside the adapters
        ColumnTransformer,
        CountVectorizer,
        FeatureUnion,
        LabelEncoder,
        MissingIndicator,
        OrdinalEncoder,
        SimpleImputer,
        TfidfTransformer,
        TfidfVectorizer,
        # sknas
        ClassificationTarget,
        ImageAdapter,
        MultiLabelTarget,
        RegressionTarget,
        TabularAdapter,
        TensorInfo,
        TextAdapter,
        TokenSequencer,
        HashedNgrams,
    )
)
#: the kinds of skops node those types are stored as: never a function, method, partial,
#: operator or other callable
NODE_KINDS = frozenset(
    {
        "BytesNode",
        "CachedNode",
        "DTypeNode",
        "DictNode",
        "JsonNode",
        "ListNode",
        "NdArrayNode",
        "ObjectNode",
        "SliceNode",
        "TupleNode",
        "TypeNode",
    }
)
#: the adapter each kind of input node and head reads its data with
INPUT_ADAPTERS: dict[str, tuple[type, ...]] = {
    "image_input": (ImageAdapter,),
    "tabular_input": (TabularAdapter,),
    "text_input": (TextAdapter,),
}
HEAD_TARGETS: dict[str, tuple[type, ...]] = {
    "classification_head": (ClassificationTarget, MultiLabelTarget),
    "regression_head": (RegressionTarget,),
}


class BundleError(SknasError, ValueError):
    """A model bundle cannot be read: missing, corrupted or changed, not signed with the given
    key, holding values or types sknas never writes, or from a newer format."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


#: fitted attributes kept in sknas.json, each with the check its saved value must pass and
#: what that check allows; add a name here to keep a new fitted attribute in bundles
FITTED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "best_score_": (_is_number, "a finite number"),
    "search_interrupted_": (lambda v: isinstance(v, bool), "true or false"),
    "fit_seconds_": (lambda v: _is_number(v) and v >= 0, "a number of seconds >= 0"),
    "search_seconds_": (lambda v: _is_number(v) and v >= 0, "a number of seconds >= 0"),
    "refit_seconds_": (lambda v: _is_number(v) and v >= 0, "a number of seconds >= 0"),
    "refit_status_": (lambda v: isinstance(v, str) and v in STATUSES, f"one of {list(STATUSES)}"),
    "n_features_in_": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "feature_names_in_": (_is_names, "a list of column names (strings)"),
}
#: the training settings of an architecture, each with its check
TRAINING: dict[str, tuple[Callable[[Any], bool], str]] = {
    "optimizer": (lambda v: isinstance(v, str) and v in OPTIMIZERS, f"one of {list(OPTIMIZERS)}"),
    "learning_rate": (lambda v: _is_number(v) and v > 0, "a finite number > 0"),
    "weight_decay": (lambda v: _is_number(v) and v >= 0, "a finite number >= 0"),
    "batch_size": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
}
#: training settings a bundle may leave out (a constant rate, no smoothing, no batch mixing),
#: with their checks
OPTIONAL_TRAINING: dict[str, tuple[Callable[[Any], bool], str]] = {
    "lr_schedule": (
        lambda v: isinstance(v, str) and v in LR_SCHEDULES,
        f"one of {list(LR_SCHEDULES)}",
    ),
    "label_smoothing": (lambda v: _is_number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "batch_mixing": (
        lambda v: isinstance(v, str) and v in BATCH_MIXING,
        f"one of {list(BATCH_MIXING)}",
    ),
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key_bytes(key: bytes | str) -> bytes:
    """The signing key as bytes (a str is encoded as UTF-8)."""
    if isinstance(key, str):
        secret = key.encode("utf-8")
    elif isinstance(key, (bytes, bytearray, memoryview)):
        secret = bytes(key)
    else:
        raise TypeError(
            f"key must be bytes or str; received {type(key).__name__}. Pass the secret the "
            f"bundle is signed with, e.g. key=os.environ['SKNAS_KEY']."
        )
    if not secret:
        raise ValueError(
            "key is empty; an empty key signs nothing. Pass a secret of 32 bytes or more."
        )
    return secret


def _hmac(secret: bytes, content: bytes) -> str:
    return hmac.new(secret, content, hashlib.sha256).hexdigest()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _trials_json(study: optuna.Study) -> list[dict[str, Any]]:
    trials = []
    for trial in study.get_trials(deepcopy=False):
        finished = trial.state.is_finished()
        # the validation predictions served the ensemble selection; the bundle keeps its result
        user_attrs = {k: v for k, v in trial.user_attrs.items() if k != PREDICTIONS}
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


def save(
    estimator: Any,
    path: str | Path,
    *,
    data: dict[str, Any] | None = None,
    key: bytes | str | None = None,
) -> Path:
    """Write a fitted estimator as a bundle folder that :func:`load` reads without pickle.

    Parameters
    ----------
    estimator : fitted sknas estimator
        Any of the task estimators or an AutoModel.
    path : str or Path
        Folder to write (created; files of an earlier bundle there are replaced).
    data : dict, optional
        JSON metadata kept with the bundle (the command line records how it read the data).
    key : bytes or str, optional
        Secret to sign the bundle with: an HMAC-SHA256 of ``sknas.json`` (which holds the
        SHA-256 of every other file) is written to ``signature.json``. :func:`load` then
        needs the same key. A str is encoded as UTF-8.

    Returns
    -------
    Path
        The folder.
    """
    check_is_fitted(estimator, "model_")
    name = type(estimator).__name__
    if name not in ESTIMATORS:
        raise TypeError(f"save takes a fitted sknas estimator; received {name}.")
    secret = None if key is None else _key_bytes(key)
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SIGNATURE).unlink(missing_ok=True)
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
    params, left_out = estimator._json_params(exclude=NOT_SAVED)
    fitted = {}
    for attribute in FITTED:
        if hasattr(estimator, attribute):
            value = getattr(estimator, attribute)
            fitted[attribute] = value.tolist() if isinstance(value, np.ndarray) else value
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
        "ensemble": _ensemble_json(estimator),
        "files": {f: _sha256(folder / f) for f in (WEIGHTS, PREPROCESSING, STUDY)},
    }
    content = json.dumps(metadata, indent=2).encode("utf-8")
    (folder / METADATA).write_bytes(content)
    if secret is not None:
        signature = {"algorithm": SIGNATURE_ALGORITHM, "hmac": _hmac(secret, content)}
        (folder / SIGNATURE).write_text(json.dumps(signature), encoding="utf-8")
    return folder


def _ensemble_json(estimator: Any) -> dict[str, Any]:
    """``ensemble_`` with the architecture of each member after the best (whose architecture
    is ``architecture``), for sknas.json."""
    # an estimator fitted (and pickled) before ensembles holds its best trial alone
    best = estimator.best_trial_
    alone = Ensemble([best.number], [1.0], float(best.value), 1)
    ensemble = getattr(estimator, "ensemble_", alone)
    trials = {t.number: t for t in estimator.study_.get_trials(deepcopy=False)}
    return {
        "members": list(ensemble.members),
        "weights": list(ensemble.weights),
        "score": ensemble.score,
        "rounds": ensemble.rounds,
        "folds": ensemble.folds,
        "architectures": [trials[n].user_attrs["architecture"] for n in ensemble.members[1:]],
    }


def _check_signature(folder: Path, content: bytes, key: bytes | str | None) -> None:
    """Refuse a bundle whose signature is absent when a key is given, present when none is,
    damaged, or not made with ``key`` over ``content``."""
    file = folder / SIGNATURE
    where = str(folder)
    if key is None:
        if file.is_file():
            raise BundleError(
                f"the bundle {where!r} is signed ({SIGNATURE}) but no key was given, so its "
                f"signature cannot be checked; it is not loaded. Pass the key it was signed "
                f"with: sknas.load(path, key=...). To load it unchecked, which trusts whoever "
                f"could write the folder, delete {SIGNATURE} first."
            )
        return
    secret = _key_bytes(key)
    if not file.is_file():
        raise BundleError(
            f"a key was given but the bundle {where!r} is not signed (it has no {SIGNATURE}); "
            f"it is not loaded. It was saved without key=, or its signature was removed. Sign "
            f"it by saving the model again with sknas.save(estimator, path, key=...)."
        )
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
        algorithm, given = record["algorithm"], record["hmac"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(
            f"{SIGNATURE} in {where!r} is damaged ({exc}); it must be a JSON object with "
            f"'algorithm' and 'hmac'. Save the model again with key=."
        ) from None
    if algorithm != SIGNATURE_ALGORITHM or not isinstance(given, str):
        raise BundleError(
            f"{SIGNATURE} in {where!r} holds algorithm {algorithm!r} and an hmac of type "
            f"{type(given).__name__}; sknas signs with {SIGNATURE_ALGORITHM!r} and a hex "
            f"string. Save the model again with key=."
        )
    if not hmac.compare_digest(_hmac(secret, content).encode(), given.encode("utf-8")):
        raise BundleError(
            f"the signature of the bundle {where!r} does not match: {METADATA} was changed "
            f"after it was signed, or it was signed with another key. It is not loaded. Check "
            f"the key; do not use a bundle from a source you do not trust."
        )


def _invalid(folder: Path, field: str, value: Any, allowed: str) -> BundleError:
    """The error for a value of ``sknas.json`` that sknas.save never writes."""
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return BundleError(
        f"{METADATA} in {str(folder)!r}: {field} is {shown}; allowed: {allowed}. The file "
        f"was changed after sknas.save wrote it, so the bundle is not loaded. Save the model "
        f"again, or restore the bundle from a copy you trust."
    )


def _check_architecture(folder: Path, data: Any, field: str = "architecture") -> None:
    """Refuse an architecture that is not what sknas.save writes: unknown fields or block
    types, nodes wired to nodes that do not come before them, bad training settings.
    ``field`` names it in the error."""
    fields = ("nodes", "inputs", "outputs", "training")
    if not isinstance(data, dict) or set(data) != set(fields):
        shown = sorted(data) if isinstance(data, dict) else data
        raise _invalid(folder, field, shown, f"an object with the fields {fields}")
    for part in ("inputs", "outputs"):
        names = data[part]
        if not _is_names(names) or not names or len(set(names)) != len(names):
            raise _invalid(
                folder, f"{field}.{part}", names, "a non-empty list of distinct node names"
            )
    nodes = data["nodes"]
    if not isinstance(nodes, list) or not nodes:
        raise _invalid(folder, f"{field}.nodes", nodes, "a non-empty list of nodes")
    kinds: dict[str, str] = {}
    for position, node in enumerate(nodes):
        where = f"{field}.nodes[{position}]"
        node_fields = ("name", "type", "inputs", "config")
        if not isinstance(node, dict) or set(node) != set(node_fields):
            shown = sorted(node) if isinstance(node, dict) else node
            raise _invalid(folder, where, shown, f"an object with the fields {node_fields}")
        name, kind, sources, config = (node[f] for f in node_fields)
        if not isinstance(name, str) or not name or name in kinds:
            raise _invalid(folder, f"{where}.name", name, "a name that no other node has")
        if name in data["inputs"]:
            if not isinstance(kind, str) or kind not in INPUT_ADAPTERS:
                raise _invalid(folder, f"{where}.type", kind, f"one of {list(INPUT_ADAPTERS)}")
            if sources != []:
                raise _invalid(folder, f"{where}.inputs", sources, "[] (an input has none)")
        else:
            if not isinstance(kind, str) or kind not in BUILDERS:
                raise _invalid(folder, f"{where}.type", kind, f"one of {sorted(BUILDERS)}")
            if not _is_names(sources) or not sources or not set(sources) <= set(kinds):
                raise _invalid(
                    folder, f"{where}.inputs", sources, f"names of earlier nodes: {list(kinds)}"
                )
        if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
            raise _invalid(folder, f"{where}.config", config, "an object of named arguments")
        kinds[name] = kind
    for name in data["inputs"]:
        if name not in kinds:
            raise _invalid(folder, f"{field}.inputs", name, f"one of the nodes {list(kinds)}")
    for name in data["outputs"]:
        if kinds.get(name) not in HEAD_TARGETS:
            heads = [n for n, k in kinds.items() if k in HEAD_TARGETS]
            raise _invalid(folder, f"{field}.outputs", name, f"one of the heads {heads}")
    training = data["training"]
    if not isinstance(training, dict) or not set(TRAINING) <= set(training) <= {
        *TRAINING,
        *OPTIONAL_TRAINING,
    }:
        shown = sorted(training) if isinstance(training, dict) else training
        raise _invalid(
            folder,
            f"{field}.training",
            shown,
            f"the fields {list(TRAINING)}, and optionally {list(OPTIONAL_TRAINING)}",
        )
    for setting, (check, allowed) in {**TRAINING, **OPTIONAL_TRAINING}.items():
        if setting in training and not check(training[setting]):
            raise _invalid(folder, f"{field}.training.{setting}", training[setting], allowed)


def _check_params(folder: Path, name: str, params: Any, left_out: Any) -> None:
    """Refuse parameters the estimator does not have or whose values it would refuse."""
    import sknas

    cls = getattr(sknas, name)
    known = [p for p in cls().get_params(deep=False) if p not in NOT_SAVED]
    if not isinstance(params, dict):
        raise _invalid(folder, "params", params, "an object of the estimator's parameters")
    for param in params:
        if param not in known:
            raise _invalid(folder, "params", param, f"parameters of {name}: {known}")
    if not _is_names(left_out) or not set(left_out) <= set(known) - set(params):
        raise _invalid(folder, "params_left_out", left_out, "a list of the other parameters' names")
    try:
        cls(**params)._validate_params()
    except InvalidParameterError as exc:
        raise BundleError(
            f"{METADATA} in {str(folder)!r}: params holds a value {name} refuses: {exc} The "
            f"file was changed after sknas.save wrote it, so the bundle is not loaded. Save "
            f"the model again, or restore the bundle from a copy you trust."
        ) from None


def _check_metadata(folder: Path, metadata: dict[str, Any]) -> None:
    """Refuse a ``sknas.json`` holding a field or value that sknas.save never writes."""
    missing = [f for f in FIELDS if f not in metadata]
    unknown = sorted(set(metadata) - set(FIELDS) - set(OPTIONAL_FIELDS))
    if missing or unknown:
        problems = [f"lacks the field(s) {missing}"] if missing else []
        problems += [f"holds unknown field(s) {unknown}"] if unknown else []
        raise BundleError(
            f"{METADATA} in {str(folder)!r} {' and '.join(problems)}; bundle format {FORMAT} "
            f"has {list(FIELDS + OPTIONAL_FIELDS)}. Save the model again, or restore the "
            f"bundle from a copy you trust."
        )
    for field in ("sknas", "torch"):
        if not isinstance(metadata[field], str):
            raise _invalid(folder, field, metadata[field], "a version string")
    name = metadata["estimator"]
    if name not in ESTIMATORS:
        raise _invalid(folder, "estimator", name, f"one of {list(ESTIMATORS)}")
    files = metadata["files"]
    if not isinstance(files, dict) or set(files) != {WEIGHTS, PREPROCESSING, STUDY}:
        shown = sorted(files) if isinstance(files, dict) else files
        raise _invalid(folder, "files", shown, f"the digests of {[WEIGHTS, PREPROCESSING, STUDY]}")
    _check_params(folder, name, metadata["params"], metadata["params_left_out"])
    _check_architecture(folder, metadata["architecture"])
    best = metadata["best_trial"]
    if not _is_int(best) or best < 0:
        raise _invalid(folder, "best_trial", best, "a trial number (an integer >= 0)")
    fitted = metadata["fitted"]
    if not isinstance(fitted, dict):
        raise _invalid(folder, "fitted", fitted, "an object of fitted attributes")
    for attribute, value in fitted.items():
        if attribute not in FITTED:
            raise _invalid(folder, "fitted", attribute, f"the attributes {list(FITTED)}")
        check, allowed = FITTED[attribute]
        if not check(value):
            raise _invalid(folder, f"fitted.{attribute}", value, allowed)
    names, count = fitted.get("feature_names_in_"), fitted.get("n_features_in_")
    if names is not None and count is not None and len(names) != count:
        raise _invalid(
            folder, "fitted.feature_names_in_", names, f"{count} names (fitted.n_features_in_)"
        )
    if not isinstance(metadata.get("data", {}), dict):
        raise _invalid(folder, "data", metadata["data"], "an object")
    if "ensemble" in metadata:
        _check_ensemble(folder, metadata["ensemble"], metadata["architecture"])
    elif metadata["format"] >= 2:
        raise BundleError(
            f"{METADATA} in {str(folder)!r} lacks the field 'ensemble' that bundle format "
            f"{metadata['format']} always has. Save the model again, or restore the bundle "
            f"from a copy you trust."
        )


def _check_ensemble(folder: Path, data: Any, architecture: dict[str, Any]) -> None:
    """Refuse an ensemble that is not what sknas.save writes: distinct members, positive
    weights summing to one, an architecture per member after the first (the best trial,
    whose architecture is ``architecture``) with the same inputs and heads."""
    if not isinstance(data, dict) or set(data) != set(ENSEMBLE_FIELDS):
        shown = sorted(data) if isinstance(data, dict) else data
        raise _invalid(folder, "ensemble", shown, f"an object with the fields {ENSEMBLE_FIELDS}")
    members, weights = data["members"], data["weights"]
    if (
        not isinstance(members, list)
        or not members
        or not all(_is_int(n) and n >= 0 for n in members)
        or len(set(members)) != len(members)
    ):
        raise _invalid(folder, "ensemble.members", members, "distinct trial numbers")
    if (
        not isinstance(weights, list)
        or len(weights) != len(members)
        or not all(_is_number(w) and w > 0 for w in weights)
        or abs(sum(weights) - 1.0) > 1e-6
    ):
        raise _invalid(
            folder, "ensemble.weights", weights, f"{len(members)} numbers > 0 summing to 1"
        )
    if not _is_number(data["score"]):
        raise _invalid(folder, "ensemble.score", data["score"], "a finite number")
    if not _is_int(data["rounds"]) or data["rounds"] < len(members):
        raise _invalid(folder, "ensemble.rounds", data["rounds"], f"an integer >= {len(members)}")
    if not _is_int(data["folds"]) or data["folds"] < 1:
        raise _invalid(folder, "ensemble.folds", data["folds"], "an integer >= 1")
    architectures = data["architectures"]
    if not isinstance(architectures, list) or len(architectures) != len(members) - 1:
        raise _invalid(
            folder,
            "ensemble.architectures",
            architectures,
            f"{len(members) - 1} architectures (of the members after the first)",
        )
    for position, spec in enumerate(architectures):
        _check_architecture(folder, spec, f"ensemble.architectures[{position}]")
        if (spec["inputs"], spec["outputs"]) != (architecture["inputs"], architecture["outputs"]):
            raise _invalid(
                folder,
                f"ensemble.architectures[{position}]",
                (spec["inputs"], spec["outputs"]),
                f"the inputs and heads of architecture: {architecture['inputs']}, "
                f"{architecture['outputs']}",
            )


def _open(folder: Path, key: bytes | str | None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The checked metadata of a bundle and the bytes of its other files, each read once."""
    if not (folder / METADATA).is_file():
        raise BundleError(
            f"{str(folder)!r} is not an sknas model bundle: it has no {METADATA}. Bundles are "
            f"written by sknas.save or `sknas search --out`."
        )
    content = (folder / METADATA).read_bytes()
    _check_signature(folder, content, key)
    try:
        metadata = json.loads(content)
    except ValueError as exc:
        raise BundleError(f"{METADATA} in {str(folder)!r} is damaged ({exc}).") from None
    if not isinstance(metadata, dict):
        raise BundleError(
            f"{METADATA} in {str(folder)!r} is damaged: it holds a JSON "
            f"{type(metadata).__name__}, not an object."
        )
    version = metadata.get("format")
    if not _is_int(version) or version < 1:
        raise _invalid(folder, "format", version, f"a bundle format number, 1 to {FORMAT}")
    if version > FORMAT:
        raise BundleError(
            f"the bundle was written by sknas {metadata.get('sknas')} in bundle format "
            f"{version}; this sknas ({__version__}) reads formats up to {FORMAT}. Upgrade "
            f"sknas to load it."
        )
    files = metadata.get("files")
    files = files if isinstance(files, dict) else {}
    contents = {}
    for name in (WEIGHTS, PREPROCESSING, STUDY):
        file = folder / name
        if not file.is_file():
            raise BundleError(f"the bundle {str(folder)!r} lacks {name}.")
        contents[name] = file.read_bytes()
        if hashlib.sha256(contents[name]).hexdigest() != files.get(name):
            raise BundleError(
                f"{name} in {str(folder)!r} is corrupted or changed: its SHA-256 differs from "
                f"the one {METADATA} recorded when it was saved. It is not loaded; save the "
                f"model again or copy the bundle anew. (This check catches damage, not "
                f"deliberate edits: sign bundles with key= for that.)"
            )
    _check_metadata(folder, metadata)
    return metadata, contents


def bundle_metadata(path: str | Path, *, key: bytes | str | None = None) -> dict[str, Any]:
    """The checked ``sknas.json`` of a bundle.

    Parameters
    ----------
    path : str or Path
        The bundle folder.
    key : bytes or str, optional
        The key the bundle was signed with; needed for a signed bundle, refused for an
        unsigned one (see :func:`load`).

    Returns
    -------
    dict
        The content of ``sknas.json``, every field checked.

    Raises
    ------
    BundleError
        When the folder is not a bundle, its signature does not match ``key``, a file is
        corrupted or changed, a value in ``sknas.json`` is not one sknas.save writes, or it
        comes from a newer format.
    """
    return _open(Path(path), key)[0]


def _skops_types(folder: Path, data: bytes) -> set[tuple[str, str]]:
    """Every (type, node kind) in a skops file, read from its schema without loading it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BundleError(
            f"{PREPROCESSING} in {str(folder)!r} is not a skops file ({exc}). Save the model again."
        ) from None
    found, pending = set(), [schema]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if "__class__" in item or "__module__" in item or "__loader__" in item:
                kind = f"{item.get('__module__')}.{item.get('__class__')}"
                found.add((kind, str(item.get("__loader__"))))
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _load_preprocessing(folder: Path, data: bytes) -> dict[str, Any]:
    """The adapters of ``preprocessing.skops``, when it holds the types sknas writes only."""
    found = _skops_types(folder, data)
    refused = sorted({kind for kind, _ in found} - TRUSTED_TYPES)
    if refused:
        raise BundleError(
            f"{PREPROCESSING} in {str(folder)!r} holds type(s) that sknas never writes: "
            f"{refused}. It is not loaded: sknas loads only the {len(TRUSTED_TYPES)} types of "
            f"sknas.io.TRUSTED_TYPES. The file was replaced or not written by sknas.save; "
            f"save the model again."
        )
    nodes = sorted({node for _, node in found} - NODE_KINDS)
    if nodes:
        raise BundleError(
            f"{PREPROCESSING} in {str(folder)!r} stores values as {nodes} (callables), which "
            f"sknas never writes; allowed: {sorted(NODE_KINDS)}. It is not loaded; save the "
            f"model again."
        )
    try:
        return skops.io.loads(data, trusted=sorted(TRUSTED_TYPES))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BundleError(
            f"{PREPROCESSING} in {str(folder)!r} cannot be read ({exc}). Save the model again."
        ) from None


def _check_adapters(folder: Path, adapters: Any, spec: ArchitectureSpec) -> None:
    """Refuse preprocessing that does not feed the architecture's inputs and heads."""
    if (
        not isinstance(adapters, dict)
        or set(adapters) != {"inputs", "targets"}
        or not all(isinstance(v, list) for v in adapters.values())
    ):
        raise BundleError(
            f"{PREPROCESSING} in {str(folder)!r} holds a {type(adapters).__name__}, not the "
            f"{{'inputs': [...], 'targets': [...]}} that sknas.save writes. Save the model again."
        )
    kinds = {node.name: node.type for node in spec.nodes}
    for role, names, held, allowed in (
        ("input", spec.inputs, adapters["inputs"], INPUT_ADAPTERS),
        ("head", spec.outputs, adapters["targets"], HEAD_TARGETS),
    ):
        if len(held) != len(names):
            raise BundleError(
                f"{PREPROCESSING} in {str(folder)!r} holds {len(held)} {role} adapter(s); the "
                f"architecture has {len(names)} {role}(s) {list(names)}. Save the model again."
            )
        for name, adapter in zip(names, held):
            classes = allowed[kinds[name]]
            if not isinstance(adapter, classes) or not hasattr(adapter, "info_"):
                needed = " or ".join(c.__name__ for c in classes)
                raise BundleError(
                    f"{PREPROCESSING} in {str(folder)!r} does not fit the architecture: "
                    f"{role} {name!r} ({kinds[name]}) needs a fitted {needed}; the bundle "
                    f"holds {type(adapter).__name__}. Save the model again."
                )


def _read_study(folder: Path, data: bytes, best: int) -> tuple[optuna.Study, Any]:
    """The saved study and its trial ``best``, which must have completed."""
    try:
        study = _study_from_json(json.loads(data))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BundleError(
            f"{STUDY} in {str(folder)!r} cannot be read as the saved trials ({exc!r}). Save "
            f"the model again."
        ) from None
    completed = [t for t in study.trials if t.state == TrialState.COMPLETE]
    trial = next((t for t in completed if t.number == best), None)
    if trial is None:
        numbers = [t.number for t in completed]
        raise _invalid(folder, "best_trial", best, f"a completed trial of {STUDY}: {numbers}")
    return study, trial


def load(path: str | Path, *, device: str | None = None, key: bytes | str | None = None) -> Any:
    """Rebuild a fitted estimator from a bundle written by :func:`save`, without pickle.

    Parameters
    ----------
    path : str or Path
        The bundle folder.
    device : str, optional
        Torch device of the loaded network; None uses CUDA when the saved estimator asked for
        it (or for "auto") and it is available here, else the CPU.
    key : bytes or str, optional
        The key the bundle was signed with (:func:`save` with ``key=``). A signed bundle is
        refused without it, and an unsigned one is refused with it, so that code which
        passes a key never runs a bundle nobody signed.

    Returns
    -------
    estimator
        Fitted; ``predict`` gives what the saved estimator gave.

    Raises
    ------
    BundleError
        When the bundle's signature does not match ``key``, a file is corrupted or changed, a
        value in ``sknas.json`` or a type in the preprocessing is not one sknas.save writes,
        the bundle is too new, or its weights do not match its architecture.
    """
    import sknas

    folder = Path(path)
    metadata, contents = _open(folder, key)
    estimator = getattr(sknas, metadata["estimator"])(**metadata["params"])
    spec = ArchitectureSpec.from_dict(metadata["architecture"])
    adapters = _load_preprocessing(folder, contents[PREPROCESSING])
    _check_adapters(folder, adapters, spec)
    estimator.input_adapters_ = adapters["inputs"]
    estimator.target_adapters_ = adapters["targets"]
    estimator.best_architecture_ = spec
    for attribute, value in metadata["fitted"].items():
        if attribute.endswith("names_in_"):
            value = np.asarray(value, dtype=object)
        setattr(estimator, attribute, value)
    study, best = _read_study(folder, contents[STUDY], metadata["best_trial"])
    estimator.study_ = study
    estimator.best_trial_ = best
    estimator.best_params_ = dict(best.params)
    saved = metadata.get("ensemble")
    if saved is None:  # format 1: the best trial alone
        saved = {"members": [best.number], "weights": [1.0], "score": best.value, "rounds": 1}
        saved.update(folds=1, architectures=[])
    _check_members(folder, saved["members"], study, best.number)
    estimator.ensemble_ = Ensemble(
        saved["members"], saved["weights"], float(saved["score"]), saved["rounds"], saved["folds"]
    )
    estimator.leaderboard_ = leaderboard(study, estimator.ensemble_)
    if device is None:
        wanted = metadata["params"].get("device", "auto")
        device = "cuda" if wanted in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
    members = [spec, *(ArchitectureSpec.from_dict(a) for a in saved["architectures"])]
    estimator.model_ = _network(
        estimator, members, saved["weights"], saved["folds"], contents[WEIGHTS], device
    )
    return estimator


def _check_members(folder: Path, members: list[int], study: optuna.Study, best: int) -> None:
    """Refuse an ensemble whose first member is not the best trial, or whose members are not
    completed trials of the saved study."""
    completed = [t.number for t in study.trials if t.state == TrialState.COMPLETE]
    if members[0] != best or not set(members) <= set(completed):
        raise _invalid(
            folder,
            "ensemble.members",
            members,
            f"completed trials of {STUDY} ({completed}), best_trial ({best}) first",
        )


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _network(
    estimator: Any,
    members: list[ArchitectureSpec],
    shares: list[float],
    folds: int,
    weights: bytes,
    device: str,
) -> Any:
    """The skorch net of the network (one member) or ensemble (several), each member a bag
    of ``folds`` fold models with cross-validation, with the saved weights, checked against
    the architectures before any real tensor is allocated."""
    targets = [a.info_ for a in estimator.target_adapters_]
    infos = [a.info_ for a in estimator.input_adapters_]

    def member(spec: ArchitectureSpec) -> torch.nn.Module:
        if folds == 1:
            return GraphModule(spec, infos, targets)
        bag = [GraphModule(spec, infos, targets) for _ in range(folds)]
        return EnsembleModule(bag, [1.0 / folds] * folds, targets)

    def build() -> torch.nn.Module:
        networks = [member(spec) for spec in members]
        return networks[0] if len(networks) == 1 else EnsembleModule(networks, shares, targets)

    try:
        state = safetensors.torch.load(weights)
    except safetensors.SafetensorError as exc:
        raise BundleError(
            f"{WEIGHTS} is not a safetensors file ({exc}). Save the model again."
        ) from None
    try:
        with torch.device("meta"):
            skeleton = build()
    except (GraphError, KeyError, IndexError, TypeError, ValueError, RuntimeError) as exc:
        raise BundleError(
            f"the architecture in {METADATA} cannot be built on the bundle's preprocessing "
            f"({_first_line(exc)}); the bundle is not consistent. Save the model again."
        ) from None
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        missing, extra = sorted(expected.keys() - found), sorted(found.keys() - expected)
        shaped = sorted(k for k in expected.keys() & found if expected[k] != found[k])
        detail = (
            f"{missing[0]!r} is missing"
            if missing
            else f"{extra[0]!r} is not in the architecture"
            if extra
            else f"{shaped[0]!r} has shape {found[shaped[0]]}, not {expected[shaped[0]]}"
        )
        raise BundleError(
            f"the weights in {WEIGHTS} do not match the bundle's architecture ({detail}); "
            f"the bundle is not consistent. Save the model again."
        )
    module = build()
    module.load_state_dict(state, strict=True)
    net = make_net(module, members[0], targets, max_epochs=1, device=device)
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
