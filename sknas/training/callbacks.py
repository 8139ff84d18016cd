"""skorch callbacks: pruning bridge, time-budget and Ctrl-C guards, divergence guard, and the
layers set from the training labels."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from optuna.exceptions import TrialPruned
from skorch.callbacks import Callback

__all__ = [
    "DivergenceGuard",
    "FitLabelStatistics",
    "PruningReporter",
    "StopOnRequest",
    "TimeLimit",
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


class FitLabelStatistics(Callback):
    """Before training, set the layers of the network that are computed from the training
    labels (a :class:`~sknas.NaiveBayesWeighting`'s ratios) from the rows being fitted.

    Each fit sets them again from its own rows: a trial's network from its training rows (a
    fold's, with cross-validation), the final model from every row it is refit on, so that
    validation labels never reach them.
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs) -> None:
        if len(net.history):
            # a further partial_fit trains on: its weights were learned with these ratios
            return
        module = net.module_
        for key, source, head in getattr(module, "label_fitted", ()):
            x = X[source] if isinstance(X, dict) else X
            labels = y[head] if isinstance(y, dict) else y
            module.blocks[key].fit_ratios(x, labels)
