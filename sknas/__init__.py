"""sknas: neural architecture search as plain scikit-learn estimators."""

from .exceptions import GraphError, InvalidInputError, SearchError, SknasError
from .hyperparameters import Bool, Choice, Fixed, Float, Int
from .space.blocks import (
    CategoricalEncoding,
    ClassificationHead,
    DenseBlock,
    Merge,
    Normalization,
    RegressionHead,
    TabularBlock,
    TabularInput,
)
from .space.spec import ArchitectureSpec
from .tabular import NASTabularClassifier, NASTabularRegressor

__version__ = "0.1.0"

__all__ = [
    "ArchitectureSpec",
    "Bool",
    "CategoricalEncoding",
    "Choice",
    "ClassificationHead",
    "DenseBlock",
    "Fixed",
    "Float",
    "GraphError",
    "Int",
    "InvalidInputError",
    "Merge",
    "NASTabularClassifier",
    "NASTabularRegressor",
    "Normalization",
    "RegressionHead",
    "SearchError",
    "SknasError",
    "TabularBlock",
    "TabularInput",
    "__version__",
]
