"""Exceptions raised by sknas.

Each one is also a builtin error, so ``except ValueError`` keeps working for code that does
not know sknas.
"""

__all__ = ["GraphError", "InvalidInputError", "SearchError", "SknasError"]


class SknasError(Exception):
    """Base class of every error raised by sknas itself."""


class InvalidInputError(SknasError, ValueError):
    """The data given to ``fit``, ``predict`` or ``score`` cannot be used."""


class GraphError(SknasError, ValueError):
    """A block graph is wired wrongly or a block argument is impossible."""


class SearchError(SknasError, RuntimeError):
    """The architecture search could not produce a model (for example, every trial failed)."""
