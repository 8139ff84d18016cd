"""Block families, one module each."""

from .base import Block, Head, Input, Node
from .conv import ConvBlock
from .dense import DenseBlock
from .heads import ClassificationHead, RegressionHead
from .hyperblocks import ImageBlock, TabularBlock
from .inputs import ImageInput, TabularInput
from .merge import Merge, SpatialReduction
from .preprocessing import CategoricalEncoding, ImageAugmentation, Normalization
from .resnet import ResNetBlock
from .xception import XceptionBlock

__all__ = [
    "Block",
    "CategoricalEncoding",
    "ClassificationHead",
    "ConvBlock",
    "DenseBlock",
    "Head",
    "ImageAugmentation",
    "ImageBlock",
    "ImageInput",
    "Input",
    "Merge",
    "Node",
    "Normalization",
    "RegressionHead",
    "ResNetBlock",
    "SpatialReduction",
    "TabularBlock",
    "TabularInput",
    "XceptionBlock",
]
