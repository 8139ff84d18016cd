"""Block name -> class: listing, lookup, and "did you mean" on unknown names."""

from __future__ import annotations

import difflib

from ..exceptions import GraphError

__all__ = ["get", "names", "register"]

_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make a block or input known under its ``type_name``."""
    if cls.type_name in _REGISTRY:
        raise GraphError(f"block name {cls.type_name!r} is registered twice.")
    _REGISTRY[cls.type_name] = cls
    return cls


def names() -> list[str]:
    """Every registered block name, sorted."""
    return sorted(_REGISTRY)


def get(name: str) -> type:
    """The block class registered under ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise GraphError(
            f"unknown block {name!r}.{hint} Known blocks: {', '.join(names())}."
        ) from None
