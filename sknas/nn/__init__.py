"""Build torch modules from sampled specs. Knows nothing of Optuna, skorch or scikit-learn."""

from . import layers
from .builder import GraphModule, count_parameters
from .export import ExportedModel

__all__ = ["ExportedModel", "GraphModule", "count_parameters", "layers"]
