"""sknas: neural architecture search as plain scikit-learn estimators."""

from .exceptions import GraphError, InvalidInputError, SearchError, SknasError
from .hyperparameters import Bool, Choice, Fixed, Float, Int
from .space.blocks import (
    CategoricalEncoding,
    ClassificationHead,
    ConvBlock,
    DenseBlock,
    Embedding,
    ImageAugmentation,
    ImageBlock,
    ImageInput,
    Merge,
    NaiveBayesWeighting,
    NgramEmbedding,
    Normalization,
    NumericEmbedding,
    RegressionHead,
    ResNetBlock,
    RNNBlock,
    SpatialReduction,
    TabMBlock,
    TabularBlock,
    TabularInput,
    TemporalReduction,
    TextBlock,
    TextInput,
    TransformerBlock,
    XceptionBlock,
)
from .space.spec import ArchitectureSpec

__version__ = "0.1.0"

# The estimators pull in torch, skorch and Optuna; load them on first use so that the pure
# Python layers (blocks, hyperparameters, sknas.space) import without them.
_LAZY = {
    "AutoModel": "automodel",
    "NASImageClassifier": "image",
    "NASImageRegressor": "image",
    "NASTabularClassifier": "tabular",
    "NASTabularRegressor": "tabular",
    "NASTextClassifier": "text",
    "NASTextRegressor": "text",
    "open_storage": "search.storage",
    "save": "io",
    "load": "io",
}
#: submodules that need torch, loaded on first use as well
_SUBMODULES = ("cli", "io", "plot")


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'sknas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ArchitectureSpec",
    "AutoModel",
    "Bool",
    "CategoricalEncoding",
    "Choice",
    "ClassificationHead",
    "ConvBlock",
    "DenseBlock",
    "Embedding",
    "Fixed",
    "Float",
    "GraphError",
    "ImageAugmentation",
    "ImageBlock",
    "ImageInput",
    "Int",
    "InvalidInputError",
    "Merge",
    "NASImageClassifier",
    "NASImageRegressor",
    "NASTabularClassifier",
    "NASTabularRegressor",
    "NASTextClassifier",
    "NASTextRegressor",
    "NaiveBayesWeighting",
    "NgramEmbedding",
    "Normalization",
    "NumericEmbedding",
    "RNNBlock",
    "RegressionHead",
    "ResNetBlock",
    "SearchError",
    "SknasError",
    "SpatialReduction",
    "TabMBlock",
    "TabularBlock",
    "TabularInput",
    "TemporalReduction",
    "TextBlock",
    "TextInput",
    "TransformerBlock",
    "XceptionBlock",
    "__version__",
    "io",
    "load",
    "open_storage",
    "plot",
    "save",
]
