"""Build torch modules from sampled specs. Knows nothing of Optuna, skorch or scikit-learn."""

from . import layers
from .builder import GraphModule, count_parameters
from .ensemble import EnsembleModule
from .export import ExportedModel, activate, head_activation

__all__ = [
    "EnsembleModule",
    "ExportedModel",
    "GraphModule",
    "activate",
    "count_parameters",
    "head_activation",
    "layers",
]
