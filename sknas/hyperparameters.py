"""What a block argument may be besides a plain value.

A block argument is a plain value (fixed), one of these objects (searched), or ``None`` (the
block's own default range). These objects only declare a range; ``sknas.space.sampling`` is
the one place that turns them into values for a trial.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .exceptions import GraphError

__all__ = ["Bool", "Choice", "Fixed", "Float", "Hyperparameter", "Int"]


class Hyperparameter:
    """Base class of the searchable argument declarations."""

    def _fields(self) -> dict[str, Any]:
        return dict(vars(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._fields().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


class Choice(Hyperparameter):
    """One value out of a list.

    Parameters
    ----------
    values : sequence of bool, int, float or str
        The candidates, at least one, without duplicates.
    """

    def __init__(self, values: Sequence[Any]) -> None:
        values = list(values)
        if not values:
            raise GraphError("Choice() needs at least one value; received an empty list.")
        if len(set(map(repr, values))) != len(values):
            raise GraphError(f"Choice() values must be distinct; received {values!r}.")
        for value in values:
            if not isinstance(value, (bool, int, float, str)) and value is not None:
                raise GraphError(
                    f"Choice() values must be bool, int, float, str or None; received "
                    f"{value!r} of type {type(value).__name__}."
                )
        self.values = values


class Int(Hyperparameter):
    """An integer in ``[low, high]``.

    Parameters
    ----------
    low, high : int
        Inclusive bounds, ``low <= high``.
    step : int, default=1
        Spacing between candidate values.
    log : bool, default=False
        Sample on a log scale (needs ``low >= 1`` and ``step == 1``).
    """

    def __init__(self, low: int, high: int, *, step: int = 1, log: bool = False) -> None:
        if int(low) != low or int(high) != high or low > high:
            raise GraphError(
                f"Int() needs integer bounds with low <= high; received low={low!r}, high={high!r}."
            )
        if log and (low < 1 or step != 1):
            raise GraphError(
                f"Int(log=True) needs low >= 1 and step=1; received low={low}, step={step}."
            )
        self.low = int(low)
        self.high = int(high)
        self.step = int(step)
        self.log = bool(log)


class Float(Hyperparameter):
    """A float in ``[low, high]``.

    Parameters
    ----------
    low, high : float
        Inclusive bounds, ``low <= high``.
    log : bool, default=False
        Sample on a log scale (needs ``low > 0``).
    """

    def __init__(self, low: float, high: float, *, log: bool = False) -> None:
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise GraphError(
                f"Float() needs finite bounds with low <= high; received low={low!r}, "
                f"high={high!r}."
            )
        if log and low <= 0:
            raise GraphError(f"Float(log=True) needs low > 0; received low={low!r}.")
        self.low = float(low)
        self.high = float(high)
        self.log = bool(log)


class Bool(Hyperparameter):
    """``True`` or ``False``."""


class Fixed(Hyperparameter):
    """A value that is not searched; the same as passing the plain value.

    Parameters
    ----------
    value : object
        The value every trial uses.
    """

    def __init__(self, value: Any) -> None:
        self.value = value
