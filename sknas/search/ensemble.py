"""Ensembles of trials: validation predictions kept with each trial, and greedy selection.

Every completed trial records what its network predicts for the validation rows (class
probabilities, per-label probabilities or values, one column block per head) as a user
attribute of its trial, so the study's storage holds the predictions of every process's
trials. After the search, greedy ensemble selection with replacement (Caruana et al., 2004)
adds, round after round, the trial whose predictions improve the average most, starting
from the best trial; the round with the best objective decides the members and their
weights (how often each was picked).
"""

from __future__ import annotations

import base64
import io
import itertools
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import get_scorer

from ..nn import activate, head_activation
from ..space import TensorInfo

__all__ = [
    "PREDICTIONS",
    "Ensemble",
    "EnsembleLoss",
    "pack_predictions",
    "predictions_of",
    "select_ensemble",
    "unpack_predictions",
]

#: the user attribute of a trial that holds its validation predictions
PREDICTIONS = "valid_predictions"


def pack_predictions(values: np.ndarray) -> str:
    """A float32 matrix as text for a trial's user attributes (compressed ``.npy``)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(values, dtype=np.float32), allow_pickle=False)
    return base64.b64encode(zlib.compress(buffer.getvalue())).decode("ascii")


def unpack_predictions(text: str) -> np.ndarray:
    """The matrix :func:`pack_predictions` wrote."""
    raw = zlib.decompress(base64.b64decode(text.encode("ascii")))
    return np.load(io.BytesIO(raw), allow_pickle=False).astype(np.float64)


def predictions_of(net: Any, X: Any, targets: Sequence[TensorInfo]) -> np.ndarray:
    """What a trained skorch net predicts for ``X``: each head's probabilities or values,
    side by side, as a float32 matrix."""
    with torch.no_grad():
        out = net.forward(X, training=False)
    outputs = out if isinstance(out, tuple) else (out,)
    heads = [
        activate(head_activation(t), value.float()).reshape(len(value), -1).numpy()
        for t, value in zip(targets, outputs)
    ]
    return np.hstack(heads).astype(np.float32)


@dataclass
class Ensemble:
    """Trials averaged into the final model.

    Attributes
    ----------
    members : list of int
        Trial numbers, the best trial first.
    weights : list of float
        Weight of each member in the average (they sum to one).
    score : float
        The objective of the weighted average on the validation rows (the validation loss
        when ``objective=None``, else the scorer's value).
    rounds : int
        Selection rounds that gave these weights (``weights`` are picks / ``rounds``).
    folds : int
        Networks per member: with cross-validation each member averages its trial's fold
        models; 1 otherwise.
    """

    members: list[int]
    weights: list[float]
    score: float
    rounds: int
    folds: int = 1


class _Replay(BaseEstimator):
    """Replays fixed predictions for the row indices it is given, so that a scikit-learn
    scorer can score an average of networks without any of them."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.values[rows]


class _ReplayClassifier(ClassifierMixin, _Replay):
    def __init__(self, values: np.ndarray) -> None:
        super().__init__(values)
        self.classes_ = np.arange(values.shape[1])

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return self.values[rows]

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.values[rows].argmax(axis=1)


class _ReplayRegressor(RegressorMixin, _Replay):
    pass


class EnsembleLoss:
    """The search's objective as a loss (lower is better) of validation predictions.

    Parameters
    ----------
    targets : sequence of TensorInfo
        Each head's target, in output order (the column blocks of the predictions).
    y : ndarray or dict
        Encoded validation targets (a dict keyed by head name for several heads).
    heads : sequence of str
        Head names, in output order.
    objective : str, callable or None
        The estimator's ``objective``: None uses the training loss (cross-entropy with the
        class weights, per-label binary cross-entropy, squared error in units of the
        target's standard deviation; weighted and summed over heads); a scorer is negated.
    class_weight : ndarray, optional
        Per-class loss weights.
    loss_weights : sequence of float, optional
        Weight of each head's loss.
    """

    def __init__(
        self,
        targets: Sequence[TensorInfo],
        y: Any,
        heads: Sequence[str],
        objective: Any = None,
        class_weight: np.ndarray | None = None,
        loss_weights: Sequence[float] | None = None,
    ) -> None:
        self.targets = list(targets)
        self.ys = [y[h] for h in heads] if isinstance(y, dict) else [y]
        self.objective = objective
        self.class_weight = class_weight
        self.loss_weights = list(loss_weights or [1.0] * len(self.targets))
        edges = np.cumsum([0] + [t.shape[0] for t in self.targets])
        self.blocks = [slice(a, b) for a, b in itertools.pairwise(edges)]

    def __call__(self, predictions: np.ndarray) -> float:
        if self.objective is not None:
            return -self._score(predictions)
        total = 0.0
        for target, y, block, weight in zip(self.targets, self.ys, self.blocks, self.loss_weights):
            value = torch.as_tensor(predictions[:, block])
            truth = torch.as_tensor(np.asarray(y))
            activation = head_activation(target)
            if activation == "softmax":
                loss = torch.nn.functional.nll_loss(
                    torch.log(value.clamp_min(1e-15)),
                    truth.long(),
                    weight=None
                    if self.class_weight is None
                    else torch.as_tensor(self.class_weight, dtype=value.dtype),
                )
            elif activation == "sigmoid":
                loss = torch.nn.functional.binary_cross_entropy(
                    value.clamp(1e-15, 1 - 1e-15), truth.to(value.dtype)
                )
            else:
                scale = torch.as_tensor(target.meta["scale"], dtype=value.dtype)
                loss = (((value - truth.to(value.dtype)) / scale) ** 2).mean()
            total += weight * float(loss)
        return total

    def _score(self, predictions: np.ndarray) -> float:
        single = self.targets[0]
        classifier = single.kind == "classification"
        replay = (_ReplayClassifier if classifier else _ReplayRegressor)(predictions)
        scorer = get_scorer(self.objective) if isinstance(self.objective, str) else self.objective
        return float(scorer(replay, np.arange(len(predictions)), self.ys[0]))


def select_ensemble(
    predictions: dict[int, np.ndarray],
    best: int,
    loss: Callable[[np.ndarray], float],
    rounds: int,
    sign: float = 1.0,
    folds: int = 1,
) -> Ensemble:
    """Greedy ensemble selection with replacement (Caruana et al., 2004).

    Parameters
    ----------
    predictions : dict
        Validation predictions of each candidate trial, keyed by trial number, in the order
        ties are broken by (better trials first).
    best : int
        The best trial: the first member.
    loss : callable
        Lower is better, of an averaged prediction matrix.
    rounds : int
        Selection rounds; each adds one pick of some candidate (possibly again).
    sign : float
        Multiplies the loss in :attr:`Ensemble.score` (-1 turns a negated scorer back into
        the scorer's value).
    folds : int
        Networks per candidate (:attr:`Ensemble.folds`).

    Returns
    -------
    Ensemble
        The members and weights of the best round (the earliest among equals).
    """
    candidates = list(predictions)
    total = predictions[best].copy()
    picks = Counter({best: 1})
    best_loss, chosen = loss(total), (Counter(picks), 1)
    for size in range(2, rounds + 1):
        losses = [loss((total + predictions[n]) / size) for n in candidates]
        pick = candidates[int(np.argmin(losses))]
        total += predictions[pick]
        picks[pick] += 1
        if min(losses) < best_loss:
            best_loss, chosen = min(losses), (Counter(picks), size)
    counts, size = chosen
    members = [best, *sorted((n for n in counts if n != best), key=candidates.index)]
    return Ensemble(
        members=members,
        weights=[counts[n] / size for n in members],
        score=sign * float(best_loss),
        rounds=size,
        folds=folds,
    )
