"""Block families, one module each."""

from .base import Block, Head, Input, Node
from .dense import DenseBlock
from .heads import ClassificationHead, RegressionHead
from .hyperblocks import TabularBlock
from .inputs import TabularInput
from .merge import Merge
from .preprocessing import CategoricalEncoding, Normalization

__all__ = [
    "Block",
    "CategoricalEncoding",
    "ClassificationHead",
    "DenseBlock",
    "Head",
    "Input",
    "Merge",
    "Node",
    "Normalization",
    "RegressionHead",
    "TabularBlock",
    "TabularInput",
]
