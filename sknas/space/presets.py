"""Default search spaces per task, and known-good first trials enqueued before the sampler."""

from __future__ import annotations

from typing import Any

from .blocks import ClassificationHead, RegressionHead, TabularBlock, TabularInput
from .graph import Graph

__all__ = ["tabular_first_trials", "tabular_graph"]


def tabular_graph(task: str) -> Graph:
    """Table -> TabularBlock -> one head for ``task`` ("classification" or "regression")."""
    inp = TabularInput()
    head = ClassificationHead() if task == "classification" else RegressionHead()
    return Graph(inp, head(TabularBlock()(inp)))


def tabular_first_trials(graph: Graph, n_samples: int) -> list[dict[str, Any]]:
    """Two configurations that train well on most tables, sized for ``n_samples`` rows.

    Parameters that a graph does not sample (a table without categorical columns has no
    encoding) are ignored by the sampler.
    """
    block = "tabular_block_1"
    head = graph.output_names[0]
    batch = 32 if n_samples < 2000 else 128
    return [
        {
            f"{block}/normalization/method": "standard",
            f"{block}/categorical_encoding/method": "embedding",
            f"{block}/categorical_encoding/embedding_dim": 8,
            f"{block}/dense_block/num_layers": 2,
            f"{block}/dense_block/units_0": 128,
            f"{block}/dense_block/units_1": 64,
            f"{block}/dense_block/dropout": 0.1,
            f"{block}/dense_block/use_batchnorm": False,
            f"{block}/dense_block/activation": "relu",
            f"{block}/dense_block/residual": False,
            f"{head}/dropout": 0.0,
            "training/optimizer": "adam",
            "training/learning_rate": 1e-3,
            "training/weight_decay": 1e-5,
            "training/batch_size": batch,
        },
        {
            f"{block}/normalization/method": "quantile",
            f"{block}/categorical_encoding/method": "one_hot",
            f"{block}/dense_block/num_layers": 3,
            f"{block}/dense_block/units_0": 256,
            f"{block}/dense_block/units_1": 256,
            f"{block}/dense_block/units_2": 256,
            f"{block}/dense_block/dropout": 0.25,
            f"{block}/dense_block/use_batchnorm": True,
            f"{block}/dense_block/activation": "gelu",
            f"{block}/dense_block/residual": True,
            f"{head}/dropout": 0.0,
            "training/optimizer": "adamw",
            "training/learning_rate": 3e-3,
            "training/weight_decay": 1e-4,
            "training/batch_size": batch,
        },
    ]
