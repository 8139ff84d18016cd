"""Preprocessing of tables inside the network: numeric scaling and categorical encoding."""

from __future__ import annotations

import torch
from torch import nn

from ...exceptions import GraphError
from ...space.spec import TensorInfo
from ..builder import builds
from .common import vector


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor, right: bool) -> torch.Tensor:
    """Row-wise linear interpolation: ``x`` (k, B), knots ``xp`` (k, m), values ``fp`` (m,)."""
    idx = torch.searchsorted(xp, x, right=right).clamp(1, xp.shape[1] - 1)
    lo, hi = xp.gather(1, idx - 1), xp.gather(1, idx)
    span = hi - lo
    t = torch.where(span > 0, (x - lo) / torch.where(span > 0, span, 1.0), 0.5)
    return fp[idx - 1] + t * (fp[idx] - fp[idx - 1])


class NumericScaler(nn.Module):
    """Scale the first ``n`` columns of a table; leave the categorical codes after them.

    Parameters
    ----------
    method : {"standard", "quantile"}
        Standardization, or the quantile map to a normal distribution.
    stats : dict
        ``mean`` and ``scale`` (standard), or ``quantiles`` (n_quantiles x n) and
        ``references`` (quantile), as learned from the training data.
    """

    def __init__(self, method: str, stats: dict) -> None:
        super().__init__()
        self.method = method
        if method == "standard":
            self.register_buffer("mean", torch.tensor(stats["mean"], dtype=torch.float32))
            self.register_buffer("scale", torch.tensor(stats["scale"], dtype=torch.float32))
            self.n = len(stats["mean"])
        else:
            quantiles = torch.tensor(stats["quantiles"], dtype=torch.float32).T.contiguous()
            self.register_buffer("quantiles", quantiles)
            self.register_buffer(
                "references", torch.tensor(stats["references"], dtype=torch.float32)
            )
            self.n = quantiles.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        num, rest = x[:, : self.n], x[:, self.n :]
        if self.method == "standard":
            num = (num - self.mean) / self.scale
        elif self.n:
            q = self.quantiles
            xt = torch.minimum(torch.maximum(num.T.contiguous(), q[:, :1]), q[:, -1:])
            p = 0.5 * (
                _interp(xt, q, self.references, right=False)
                + _interp(xt, q, self.references, right=True)
            )
            # as scikit-learn's QuantileTransformer: the bounds map to the extreme references
            p = torch.where(xt == q[:, :1], self.references[0], p)
            p = torch.where(xt == q[:, -1:], self.references[-1], p)
            num = torch.special.ndtri(p.double().clamp(1e-7, 1 - 1e-7)).to(x.dtype).T
        return torch.cat([num, rest], dim=1)


class CategoricalEncoder(nn.Module):
    """Replace the trailing categorical code columns by embeddings or one-hot vectors.

    Code 0 is reserved for missing and unseen categories.
    """

    def __init__(self, n_numerical: int, cardinalities: list[int], method: str, dim: int) -> None:
        super().__init__()
        self.n = n_numerical
        self.method = method
        self.cardinalities = list(cardinalities)
        if method == "embedding":
            self.embeddings = nn.ModuleList(
                nn.Embedding(c + 1, min(dim, c + 1)) for c in self.cardinalities
            )
            self.width = sum(min(dim, c + 1) for c in self.cardinalities)
        else:
            self.width = sum(c + 1 for c in self.cardinalities)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        num, codes = x[:, : self.n], x[:, self.n :].long()
        if self.method == "embedding":
            parts = [emb(codes[:, i]) for i, emb in enumerate(self.embeddings)]
        else:
            parts = [
                nn.functional.one_hot(codes[:, i], c + 1).to(x.dtype)
                for i, c in enumerate(self.cardinalities)
            ]
        return torch.cat([num, *parts], dim=1)


def _table(info: TensorInfo, block: str) -> TensorInfo:
    if info.kind != "tabular":
        raise GraphError(
            f"{block} needs a table straight from a TabularInput; received a {info.kind} node."
        )
    return info


@builds("categorical_encoding")
def build_categorical_encoding(config, infos, target):
    info = _table(infos[0], "CategoricalEncoding")
    cards = info.meta.get("cardinalities", [])
    module = CategoricalEncoder(
        info.meta["n_numerical"], cards, config["method"], config.get("embedding_dim", 0)
    )
    return module, vector(info.meta["n_numerical"] + module.width)
