"""Preprocessing of tables inside the network: numeric scaling and categorical encoding."""

from __future__ import annotations

import warnings

import torch
from rtdl_num_embeddings import PeriodicEmbeddings, PiecewiseLinearEmbeddings
from torch import nn

from ...data.tabular import ONE_BIN
from ...exceptions import GraphError
from ...space.spec import TensorInfo
from ..builder import builds

# Wichura's algorithm AS 241 (PPND16): the standard normal quantile to double precision, in
# plain tensor operations so that the scaler exports to ONNX (which has no inverse erf).
_CENTRAL = (
    (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
     1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
     3.3430575583588128105e4, 2.5090809287301226727e3),
    (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
     2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
     5.2264952788528545610e3),
)  # fmt: skip
_NEAR = (
    (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
     3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
     2.27238449892691845833e-2, 7.74545014278341407640e-4),
    (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
     1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
     1.05075007164441684324e-9),
)  # fmt: skip
_FAR = (
    (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
     2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
     2.71155556874348757815e-5, 2.01033439929228813265e-7),
    (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
     7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
     2.04426310338993978564e-15),
)  # fmt: skip


def _ratio(coefficients: tuple[tuple[float, ...], ...], x: torch.Tensor) -> torch.Tensor:
    num, den = (torch.full_like(x, c[-1]) for c in coefficients)
    for a, b in zip(reversed(coefficients[0][:-1]), reversed(coefficients[1][:-1])):
        num, den = num * x + a, den * x + b
    return num / den


def ndtri(p: torch.Tensor) -> torch.Tensor:
    """The standard normal quantile of ``p`` in (0, 1), as ``torch.special.ndtri``."""
    q = p - 0.5
    central = q * _ratio(_CENTRAL, 0.180625 - q * q)
    t = torch.sqrt(-torch.log(torch.minimum(p, 1.0 - p)))
    tail = torch.where(t <= 5.0, _ratio(_NEAR, t - 1.6), _ratio(_FAR, t - 5.0))
    return torch.where(q.abs() <= 0.425, central, torch.where(q < 0, -tail, tail))


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor, right: bool) -> torch.Tensor:
    """Row-wise linear interpolation: ``x`` (k, B), knots ``xp`` (k, m), values ``fp`` (m,)."""
    # searchsorted by counting knots below x: the same indices, and it exports to ONNX
    below = xp.unsqueeze(2) <= x.unsqueeze(1) if right else xp.unsqueeze(2) < x.unsqueeze(1)
    idx = below.sum(dim=1).clamp(1, xp.shape[1] - 1)
    lo, hi = xp.gather(1, idx - 1), xp.gather(1, idx)
    span = hi - lo
    t = torch.where(span > 0, (x - lo) / torch.where(span > 0, span, 1.0), 0.5)
    return fp[idx - 1] + t * (fp[idx] - fp[idx - 1])


#: smooth clipping of robust-scaled values (RealMLP, Holzmüller et al. 2024): x / sqrt(1 +
#: (x / SMOOTH_CLIP) ** 2), near the identity for small values and bounded by this
SMOOTH_CLIP = 3.0


class NumericScaler(nn.Module):
    """Scale the first ``n`` columns of a table; leave the categorical codes after them.

    Parameters
    ----------
    method : {"standard", "quantile", "robust"}
        Standardization; the quantile map to a normal distribution; or robust scaling
        (median and interquartile range, scaled to unit variance for normal data, or half
        the range where the interquartile range is zero) followed by smooth clipping to
        (-3, 3), as RealMLP preprocesses numbers.
    stats : dict
        ``mean`` and ``scale`` (standard), ``quantiles`` (n_quantiles x n) and
        ``references`` (quantile), or ``median`` and ``iqr_scale`` (robust: the divisor), as
        learned from the training data.
    """

    def __init__(self, method: str, stats: dict) -> None:
        super().__init__()
        self.method = method
        if method in ("standard", "robust"):
            center, scale = ("mean", "scale") if method == "standard" else ("median", "iqr_scale")
            self.register_buffer("mean", torch.tensor(stats[center], dtype=torch.float32))
            self.register_buffer("scale", torch.tensor(stats[scale], dtype=torch.float32))
            self.n = len(stats[center])
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
        elif self.method == "robust":
            num = (num - self.mean) / self.scale
            num = num / torch.sqrt(1.0 + (num / SMOOTH_CLIP) ** 2)
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
            # clipped 1e-7 from either end as scikit-learn does; computed from the nearer end
            # so that no constant near 1 is needed (exporters may round it to float32)
            p = p.double()
            z = ndtri(torch.minimum(p, 1.0 - p).clamp(min=1e-7))
            num = torch.where(p > 0.5, -z, z).to(x.dtype).T
        return torch.cat([num, rest], dim=1)


def scaled_bins(method: str, stats: dict) -> list[list[float]]:
    """The bin edges of each numeric column (``stats["bins"]``) mapped through the
    ``NumericScaler(method, stats)``, into the space of the values it outputs (every method
    is increasing); edges it merges are kept once."""
    bins = stats["bins"]
    if not bins:
        return []
    width = max(len(edges) for edges in bins)
    padded = [edges + edges[-1:] * (width - len(edges)) for edges in bins]
    # the edges decide the shapes of the layers after: computed even while a bundle's
    # network is built on the meta device
    with torch.device("cpu"), torch.no_grad():
        scaler = NumericScaler(method, stats)
        mapped = scaler(torch.tensor(padded, dtype=torch.float32).T).T
    return [_distinct(row[: len(edges)]) for edges, row in zip(bins, mapped)]


def _distinct(edges: torch.Tensor) -> list[float]:
    """Sorted distinct float32 edges; a single one becomes the bin [e, e + 1]."""
    unique = torch.unique(edges.float()).tolist()
    return unique if len(unique) > 1 else [unique[0], unique[0] + 1.0]


class EmbeddedNumbers(nn.Module):
    """Embeddings of the first ``n`` columns, flattened; the categorical codes after them
    pass through.

    Parameters
    ----------
    n : int
        Numeric columns.
    embeddings : torch.nn.Module
        Maps ``(batch, n)`` to ``(batch, n, dim)``: periodic (PLR, lite) or piecewise-linear
        embeddings of ``rtdl_num_embeddings``.
    """

    def __init__(self, n: int, embeddings: nn.Module) -> None:
        super().__init__()
        self.n = n
        self.embeddings = embeddings

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        num, rest = x[:, : self.n], x[:, self.n :]
        return torch.cat([self.embeddings(num).flatten(1), rest], dim=1)


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
            self.widths = [min(dim, c + 1) for c in self.cardinalities]
        else:
            self.widths = [c + 1 for c in self.cardinalities]
        self.width = sum(self.widths)

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


@builds("numeric_embedding")
def build_numeric_embedding(config, infos, target):
    info = _table(infos[0], "NumericEmbedding")
    n = info.meta["n_numerical"]
    if config["method"] == "none" or n == 0:
        return nn.Identity(), info
    dim = config["embedding_dim"]
    if config["method"] == "periodic":
        embeddings: nn.Module = PeriodicEmbeddings(
            n, dim, frequency_init_scale=config["frequency_scale"], lite=True
        )
    else:
        # edges in the space of the values it receives: after a Normalization, that one's
        bins = info.meta.get("bins", info.meta.get("stats", {}).get("bins"))
        if bins is None:
            raise GraphError(
                "NumericEmbedding(method='piecewise_linear') needs the bin edges a "
                "TabularInput learns from the training data; apply it to a TabularInput, "
                "directly or after a Normalization."
            )
        # set from the edges, which it checks: on the CPU even while a bundle's network is
        # built on the meta device
        with torch.device("cpu"), warnings.catch_warnings():
            # a one-bin column (constant, or a 0/1 missing indicator) is min-max scaled
            warnings.filterwarnings("ignore", ONE_BIN, UserWarning)
            edges = [torch.tensor(_distinct(torch.tensor(e, dtype=torch.float64))) for e in bins]
            embeddings = PiecewiseLinearEmbeddings(edges, dim, activation=False, version="B")
    module = EmbeddedNumbers(n, embeddings)
    width = info.shape[0] + n * (dim - 1)
    meta = {k: v for k, v in info.meta.items() if k not in ("stats", "bins")}
    meta.update(n_numerical=n * dim, feature_widths=[dim] * n, embedded=True)
    return module, TensorInfo("tabular", (width,), meta)


@builds("categorical_encoding")
def build_categorical_encoding(config, infos, target):
    info = _table(infos[0], "CategoricalEncoding")
    cards = info.meta.get("cardinalities", [])
    n = info.meta["n_numerical"]
    module = CategoricalEncoder(n, cards, config["method"], config.get("embedding_dim", 0))
    return module, TensorInfo(
        "vector",
        (n + module.width,),
        {
            "feature_widths": info.meta.get("feature_widths", [1] * n) + module.widths,
            "embedded": info.meta.get("embedded", False),
        },
    )
