"""skorch callbacks: pruning bridge, time-budget and Ctrl-C guards, divergence guard, and the
layers set from the training labels."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from optuna.exceptions import TrialPruned
from scipy import sparse
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from skorch.callbacks import Callback

__all__ = [
    "DivergenceGuard",
    "FitLabelStatistics",
    "PruningReporter",
    "StopOnRequest",
    "TimeLimit",
    "log_count_ratios",
]


class PruningReporter(Callback):
    """Report the monitored validation value to the trial each epoch; stop pruned trials.

    Parameters
    ----------
    trial : optuna.trial.Trial or compatible
        Anything with ``report(value, step)`` and ``should_prune()``.
    monitor : str
        History key reported, e.g. ``"valid_loss"`` or ``"score"``.
    """

    def __init__(self, trial: Any, monitor: str) -> None:
        self.trial = trial
        self.monitor = monitor

    def on_epoch_end(self, net, **kwargs) -> None:
        epoch = len(net.history)
        value = net.history[-1, self.monitor]
        self.trial.report(float(value), step=epoch)
        if self.trial.should_prune():
            self.trial.set_user_attr("epochs", epoch)
            raise TrialPruned(f"pruned at epoch {epoch} with {self.monitor}={value:.6g}")


class TimeLimit(Callback):
    """Stop training once a wall-clock deadline (``time.monotonic()``) has passed.

    Training ends at the next batch boundary, the way skorch's EarlyStopping ends it;
    ``expired_`` tells that it happened.

    Parameters
    ----------
    deadline : float, callable or None
        Monotonic time after which training stops; None never stops. A callable
        ``deadline(net)`` is asked again at the start of every epoch, so that the deadline
        can depend on the epochs trained so far.
    """

    def __init__(self, deadline: float | Callable[[Any], float | None] | None) -> None:
        self.deadline = deadline

    def initialize(self) -> TimeLimit:
        self.expired_ = False
        self.current_ = None if callable(self.deadline) else self.deadline
        return self

    def on_epoch_begin(self, net, **kwargs) -> None:
        if callable(self.deadline):
            self.current_ = self.deadline(net)

    def on_batch_end(self, net, **kwargs) -> None:
        if self.current_ is not None and time.monotonic() > self.current_:
            self.expired_ = True
            raise KeyboardInterrupt


class StopOnRequest(Callback):
    """End training at the next batch boundary once ``requested()`` is true.

    A Ctrl-C during a search only sets a flag: stopping here, inside skorch's loop, keeps the
    interrupt out of storage writes and other code that must not be cut in half.

    Parameters
    ----------
    requested : callable
        ``requested()`` is true once training should stop.

    Attributes
    ----------
    stopped_ : bool
        Whether it ended the training.
    """

    def __init__(self, requested: Callable[[], bool]) -> None:
        self.requested = requested

    def initialize(self) -> StopOnRequest:
        self.stopped_ = False
        return self

    def on_batch_end(self, net, **kwargs) -> None:
        if self.requested():
            self.stopped_ = True
            raise KeyboardInterrupt


class DivergenceGuard(Callback):
    """Fail the trial as soon as a training batch loss is not finite."""

    def on_batch_end(self, net, training: bool, **kwargs) -> None:
        if not training:
            return
        loss = net.history[-1, "batches", -1, "train_loss"]
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"training diverged: the loss became {loss} in epoch {len(net.history)}; "
                f"a lower learning rate usually helps."
            )


def log_count_ratios(x: Any, labels: Any) -> np.ndarray:
    """The magnitude of each feature's naive Bayes log-count ratio, NBSVM's feature scaling
    (Wang and Manning 2012), from the rows a network is fitted on.

    A feature's ratio for a class is ``log((p / |p|) / (q / |q|))``, with ``p`` and ``q`` its
    numbers of texts (plus one) in the class and outside it, as scikit-learn's
    ``MultinomialNB`` and ``ComplementNB`` (``alpha=1``) estimate them on whether each
    feature occurs. Each class (or label) is compared with the rest and the largest
    magnitude is kept. A class missing from the rows is left out, and so is a constant
    label; with nothing to compare the ratios are 1. A feature that occurs in none of the
    rows gets 0: nothing was learned about it.

    Parameters
    ----------
    x : sparse matrix or ndarray of shape (n_samples, n_features)
        TF-IDF vectors; only whether each feature occurs counts.
    labels : ndarray of shape (n_samples,) or (n_samples, n_labels)
        Class codes, or a 0/1 indicator matrix of labels.

    Returns
    -------
    ndarray of shape (n_features,)
    """
    present = (sparse.csr_matrix(x) > 0).astype(np.float64)
    labels = np.asarray(labels)
    columns = [labels] if labels.ndim == 1 else list(labels.T)
    ratios = [
        np.abs(
            MultinomialNB(alpha=1.0).fit(present, column).feature_log_prob_
            + ComplementNB(alpha=1.0).fit(present, column).feature_log_prob_
        ).max(axis=0)
        for column in columns
        if len(np.unique(column)) > 1
    ]
    ratio = np.max(ratios, axis=0) if ratios else np.ones(present.shape[1])
    ratio[np.asarray(present.sum(axis=0)).ravel() == 0] = 0.0
    return ratio


class FitLabelStatistics(Callback):
    """Before training, set the layers of the network that are computed from the training
    labels (a :class:`~sknas.NaiveBayesWeighting`'s ratios, :func:`log_count_ratios`) from
    the rows being fitted.

    A network's first fit sets them: a trial's from its training rows (a fold's, with
    cross-validation), the final model's from every row it is refit on, so that validation
    labels never reach them. A network whose layers were already set (trained on by
    ``partial_fit``, or rebuilt from saved weights) keeps them.
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs) -> None:
        module = net.module_
        for key, source, head in getattr(module, "label_fitted", ()):
            layer = module.blocks[key]
            if layer.fitted:
                continue
            x = X[source] if isinstance(X, dict) else X
            labels = y[head] if isinstance(y, dict) else y
            layer.set_ratios(log_count_ratios(x, labels))
