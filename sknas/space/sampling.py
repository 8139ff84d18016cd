"""The only place that calls ``trial.suggest_*``: block arguments -> plain values of a trial.

The bottom of ``sknas.space``: blocks, the training space and the graph resolve their arguments
through :class:`HyperparameterSampler`, and :func:`sknas.space.graph.sample_architecture`
walks a whole graph with it. The trial is duck-typed: an ``optuna.trial.Trial``, an
``optuna.trial.FixedTrial`` or anything with the same ``suggest_*`` methods, so this module
imports neither Optuna nor torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any

from ..exceptions import GraphError
from ..hyperparameters import Bool, Choice, Fixed, Float, Hyperparameter, Int

__all__ = ["HyperparameterSampler", "ProbeTrial", "ReplayTrial", "possible_values"]

Check = tuple[Callable[[Any], bool], str]


def _candidates(value: Hyperparameter) -> list[Any]:
    """Values that bound a hyperparameter's range, used to validate it up front."""
    if isinstance(value, Choice):
        return list(value.values)
    if isinstance(value, (Int, Float)):
        return [value.low, value.high]
    if isinstance(value, Bool):
        return [False, True]
    if isinstance(value, Fixed):
        return [value.value]
    return []


def possible_values(value: Any) -> list[Any]:
    """What an argument may take: a plain value itself, a hyperparameter the values that bound
    its range."""
    return _candidates(value) if isinstance(value, Hyperparameter) else [value]


class HyperparameterSampler:
    """Resolves block arguments to plain values for one trial, under a name prefix.

    Parameters
    ----------
    trial : optuna.trial.BaseTrial or compatible
        Where searched values come from.
    prefix : str, default=""
        Prepended (with ``/``) to every parameter name.
    """

    def __init__(self, trial: Any, prefix: str = "") -> None:
        self.trial = trial
        self.prefix = prefix

    def scope(self, name: str) -> HyperparameterSampler:
        """A sampler whose parameter names start with ``name/``."""
        return HyperparameterSampler(self.trial, self._full(name))

    def _full(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def get(
        self,
        name: str,
        value: Any,
        default: Any,
        check: Check | None = None,
    ) -> Any:
        """Resolve one argument.

        Parameters
        ----------
        name : str
            Argument name inside the current scope.
        value : object
            What the user passed: a plain value, a hyperparameter object or ``None``.
        default : object
            What ``None`` means: a plain value or a hyperparameter object.
        check : (callable, str), optional
            A predicate every possible value must satisfy, and its description for the error.

        Returns
        -------
        object
            The plain value for this trial.
        """
        spec = default if value is None else value
        if check is not None:
            predicate, allowed = check
            bad = [
                v
                for v in (_candidates(spec) if isinstance(spec, Hyperparameter) else [spec])
                if not predicate(v)
            ]
            if bad:
                raise GraphError(
                    f"{self.prefix or 'block'}: argument {name}={spec!r} is invalid "
                    f"({bad[0]!r} is not {allowed}). Pass {allowed}, a sknas hyperparameter "
                    f"over such values, or None for the default range."
                )
        full = self._full(name)
        if isinstance(spec, Fixed):
            return spec.value
        if isinstance(spec, Choice):
            return self.trial.suggest_categorical(full, spec.values)
        if isinstance(spec, Bool):
            return self.trial.suggest_categorical(full, [False, True])
        if isinstance(spec, Int):
            return self.trial.suggest_int(full, spec.low, spec.high, step=spec.step, log=spec.log)
        if isinstance(spec, Float):
            return self.trial.suggest_float(full, spec.low, spec.high, log=spec.log)
        return spec


class ProbeTrial:
    """A stand-in trial that answers every ``suggest_*`` with the lowest or first candidate.

    Sampling a graph with it, before a search, validates every block argument met on the way.
    """

    number = 0

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def _keep(self, name: str, value: Any) -> Any:
        return self.params.setdefault(name, value)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._keep(name, choices[0])

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        return self._keep(name, low)

    def suggest_float(self, name: str, low: float, high: float, log: bool = False) -> float:
        return self._keep(name, low)


class ReplayTrial(ProbeTrial):
    """A stand-in trial that answers from ``given`` where its value is one the question
    allows, and otherwise as :class:`ProbeTrial` does.

    Sampling a graph with it tells which of the given parameters that search space asks for
    and allows (:attr:`params`): Optuna ignores a fixed parameter that is never asked for and
    uses one outside its range with no more than a warning.

    Parameters
    ----------
    given : mapping of str to object
        Parameters by their sampled names, e.g. a known-good first trial.
    """

    def __init__(self, given: Mapping[str, Any]) -> None:
        super().__init__()
        self.given = dict(given)

    def _replay(self, name: str, allowed: Callable[[Any], bool], fallback: Any) -> Any:
        if name in self.given and allowed(self.given[name]):
            return self._keep(name, self.given[name])
        return fallback

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._replay(
            name,
            # as Optuna matches a choice, but True is not 1
            lambda v: any(v == c and isinstance(v, bool) == isinstance(c, bool) for c in choices),
            choices[0],
        )

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        return self._replay(
            name,
            lambda v: (
                isinstance(v, int)
                and not isinstance(v, bool)
                and low <= v <= high
                and (v - low) % step == 0
            ),
            low,
        )

    def suggest_float(self, name: str, low: float, high: float, log: bool = False) -> float:
        return self._replay(
            name,
            lambda v: isinstance(v, Real) and not isinstance(v, bool) and low <= v <= high,
            low,
        )
