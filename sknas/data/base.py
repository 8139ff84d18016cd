"""What every input adapter offers the search."""

from __future__ import annotations

from typing import Any

from ..space.spec import TensorInfo

__all__ = ["FixedView"]


class FixedView:
    """For adapters whose output does not depend on the trial (tables, images).

    Text adapters instead vectorize per sampled :class:`~sknas.TextInput` configuration; the
    search calls these three methods on every adapter alike.
    """

    info_: TensorInfo

    def info_for(self, config: dict[str, Any]) -> TensorInfo:
        """What the data looks like to the network; the same for every configuration."""
        return self.info_

    def select(self, config: dict[str, Any]) -> FixedView:
        """Nothing to choose: the adapter has one way to present the data."""
        return self
