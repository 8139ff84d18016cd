"""Declare what can vary: blocks, the graph, sampling and the sampled spec.

Pure Python: this package imports neither torch nor skorch nor Optuna.
"""

from . import registry
from .graph import Graph, sample_architecture, space_signature
from .sampling import HyperparameterSampler
from .spec import ArchitectureSpec, NodeSpec, TensorInfo
from .training import TrainingSpace

__all__ = [
    "ArchitectureSpec",
    "Graph",
    "HyperparameterSampler",
    "NodeSpec",
    "TensorInfo",
    "TrainingSpace",
    "registry",
    "sample_architecture",
    "space_signature",
]
