"""Block families, one module each."""

from .base import Block, Head, Input, Node
from .conv import ConvBlock
from .dense import DenseBlock, TabMBlock
from .heads import ClassificationHead, RegressionHead
from .hyperblocks import ImageBlock, TabularBlock, TextBlock
from .inputs import ImageInput, TabularInput, TextInput
from .merge import Merge, SpatialReduction, TemporalReduction
from .preprocessing import (
    CategoricalEncoding,
    ImageAugmentation,
    Normalization,
    NumericEmbedding,
)
from .resnet import ResNetBlock
from .text import Embedding, NaiveBayesWeighting, NgramEmbedding, RNNBlock, TransformerBlock
from .xception import XceptionBlock

__all__ = [
    "Block",
    "CategoricalEncoding",
    "ClassificationHead",
    "ConvBlock",
    "DenseBlock",
    "Embedding",
    "Head",
    "ImageAugmentation",
    "ImageBlock",
    "ImageInput",
    "Input",
    "Merge",
    "NaiveBayesWeighting",
    "NgramEmbedding",
    "Node",
    "Normalization",
    "NumericEmbedding",
    "RNNBlock",
    "RegressionHead",
    "ResNetBlock",
    "SpatialReduction",
    "TabMBlock",
    "TabularBlock",
    "TabularInput",
    "TemporalReduction",
    "TextBlock",
    "TextInput",
    "TransformerBlock",
    "XceptionBlock",
]
