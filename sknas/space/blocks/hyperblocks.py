"""Hyperblocks: a whole family of sub-networks for one kind of input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...exceptions import GraphError
from ...hyperparameters import Bool, Choice, Int
from ..registry import get, register
from ..sampling import possible_values
from ..spec import NodeSpec, TensorInfo
from .base import Block, Head, boolean, one_of
from .conv import ConvBlock
from .dense import DenseBlock, TabMBlock
from .heads import ClassificationHead
from .merge import SpatialReduction, TemporalReduction
from .preprocessing import (
    CategoricalEncoding,
    ImageAugmentation,
    Normalization,
    NumericEmbedding,
)
from .resnet import ResNetBlock
from .text import Embedding, NaiveBayesWeighting, NgramEmbedding, RNNBlock, TransformerBlock
from .xception import XceptionBlock

__all__ = ["SMALL_IMAGE", "ImageBlock", "TabularBlock", "TextBlock"]

TEXT_FAMILIES = ("cnn", "rnn", "transformer")

TABULAR_BACKBONES = ("mlp", "tabm")

IMAGE_FAMILIES = ("conv", "resnet", "xception")

#: images whose larger side has at most this many pixels get the narrow, shallow ranges
SMALL_IMAGE = 32


def chain(
    hp, name: str, inputs: tuple[str, ...], parts: Sequence[tuple[str, Block]]
) -> list[NodeSpec]:
    """Expand ``parts`` one after another under ``name/part``."""
    specs: list[NodeSpec] = []
    for part, block in parts:
        expanded = block.expand(hp.scope(part), f"{name}/{part}", inputs, [None] * len(inputs))
        specs.extend(expanded)
        inputs = (expanded[-1].name,)
    return specs


@register
class TabularBlock(Block):
    """Normalization, numeric embeddings, categorical encoding and a dense stack or a TabM
    ensemble for a table.

    Parameters
    ----------
    scaling : {"standard", "quantile", "robust"}, hyperparameter or None, default=None
        Numeric scaling (see :class:`Normalization`); None searches the three.
    numeric_embedding : {"none", "periodic", "piecewise_linear"}, hyperparameter or None, \
default=None
        Embedding of the numeric columns (see :class:`NumericEmbedding`); None searches the
        three.
    encoding : {"embedding", "one_hot"}, hyperparameter or None, default=None
        Categorical encoding; None searches both. Unused for tables without categorical columns.
    backbone : {"mlp", "tabm"}, hyperparameter or None, default=None
        A :class:`DenseBlock` or a :class:`TabMBlock` (k members averaged); None searches both
        where the block feeds heads only and ``num_layers`` allows a layer, and means "mlp"
        elsewhere: TabM's members feed heads only (not a Merge, say). Asking for "tabm" where
        it cannot be built is a GraphError.
    num_layers : int, hyperparameter or None, default=None
        Layers; None searches 0 to 3 for the dense stack, where 0 is a linear model of the
        encoded features (strong on small tables), and TabM's range for TabM.
    num_units, dropout : optional
        Passed to the :class:`DenseBlock` or the :class:`TabMBlock`.
    use_batchnorm, activation, residual : optional
        Passed to the :class:`DenseBlock`.
    input_scale : bool, hyperparameter or None, default=False
        A learned factor per input value before the dense stack (see :class:`DenseBlock`).
        Off by default: it did not raise the benchmarks' scores; None searches it.
    name : str, optional
        Block name.
    """

    type_name = "tabular_block"

    def __init__(
        self,
        *,
        scaling: Any = None,
        numeric_embedding: Any = None,
        encoding: Any = None,
        backbone: Any = None,
        num_layers: Any = None,
        num_units: Any = None,
        dropout: Any = None,
        use_batchnorm: Any = None,
        activation: Any = None,
        residual: Any = None,
        input_scale: Any = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.scaling = scaling
        self.numeric_embedding = numeric_embedding
        self.encoding = encoding
        self.backbone = backbone
        self.num_layers = num_layers
        self.num_units = num_units
        self.dropout = dropout
        self.use_batchnorm = use_batchnorm
        self.activation = activation
        self.residual = residual
        self.input_scale = input_scale

    def expand(
        self,
        hp,
        name: str,
        inputs: tuple[str, ...],
        input_infos: Sequence[TensorInfo | None],
        consumers: Sequence[str] = (),
    ) -> list[NodeSpec]:
        info = input_infos[0]
        has_categorical = info is None or bool(info.meta.get("cardinalities"))
        parts: list[tuple[str, Block]] = [
            (
                "normalization",
                Normalization(method=self.scaling or Choice(["standard", "quantile", "robust"])),
            ),
            ("numeric_embedding", NumericEmbedding(method=self.numeric_embedding)),
        ]
        if has_categorical:
            parts.append(("categorical_encoding", CategoricalEncoding(method=self.encoding)))
        # TabM's members feed heads only, through one layer or more
        feeds_heads = bool(consumers) and all(issubclass(get(c), Head) for c in consumers)
        layers = [1] if self.num_layers is None else possible_values(self.num_layers)
        tabm_fits = feeds_heads and all(isinstance(n, int) and n >= 1 for n in layers)
        if self.backbone is not None and "tabm" in possible_values(self.backbone) and not tabm_fits:
            raise GraphError(
                f"TabularBlock(backbone={self.backbone!r}) may build a TabMBlock, whose "
                f"members feed heads only through at least one layer; this block feeds "
                f"{list(consumers) or 'blocks inside a hyperblock'} with "
                f"num_layers={self.num_layers!r}. Use backbone='mlp', or connect the block "
                f"to heads only with num_layers of 1 or more."
            )
        backbone = hp.get(
            "backbone",
            self.backbone,
            Choice(list(TABULAR_BACKBONES)) if tabm_fits else "mlp",
            one_of(*TABULAR_BACKBONES),
        )
        if backbone == "tabm":
            tabm = TabMBlock(
                num_layers=self.num_layers, num_units=self.num_units, dropout=self.dropout
            )
            parts.append(("tabm_block", tabm))
        else:
            dense = DenseBlock(
                num_layers=Int(0, 3) if self.num_layers is None else self.num_layers,
                num_units=self.num_units,
                dropout=self.dropout,
                use_batchnorm=self.use_batchnorm,
                activation=self.activation,
                residual=self.residual,
                input_scale=self.input_scale,
            )
            parts.append(("dense_block", dense))
        return chain(hp, name, inputs, parts)


@register
class ImageBlock(Block):
    """Normalization, optional augmentation, and one family of image networks.

    The families' default ranges are sized for the image: images of up to 32 pixels get
    narrower, shallower networks than large ones, and no image is resized.

    Parameters
    ----------
    block_type : {"conv", "resnet", "xception"}, hyperparameter or None, default=None
        The family; None searches all three.
    normalize : bool, hyperparameter or None, default=None
        Standardize each channel with the training images' statistics; None means True.
    augment : bool, hyperparameter or None, default=None
        Add an :class:`ImageAugmentation` with its default ranges; None searches both.
    name : str, optional
        Block name.
    """

    type_name = "image_block"

    def __init__(
        self,
        *,
        block_type: Any = None,
        normalize: Any = None,
        augment: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.block_type = block_type
        self.normalize = normalize
        self.augment = augment

    def expand(
        self,
        hp,
        name: str,
        inputs: tuple[str, ...],
        input_infos: Sequence[TensorInfo | None],
        consumers: Sequence[str] = (),
    ) -> list[NodeSpec]:
        info = input_infos[0]
        small = info is not None and max(info.shape[1:]) <= SMALL_IMAGE
        parts: list[tuple[str, Block]] = []
        if hp.get("normalize", self.normalize, True, boolean):
            parts.append(("normalization", Normalization()))
        if hp.get("augment", self.augment, Bool(), boolean):
            parts.append(("image_augmentation", ImageAugmentation()))
        family = hp.get(
            "block_type", self.block_type, Choice(list(IMAGE_FAMILIES)), one_of(*IMAGE_FAMILIES)
        )
        if family == "conv":
            block: Block = ConvBlock(
                filters=Choice([16, 32, 64]) if small else None,
                num_blocks=Int(1, 2) if small else None,
            )
        elif family == "resnet":
            block = ResNetBlock(
                num_stages=Int(1, 2) if small else None,
                base_filters=Choice([16, 32]) if small else None,
            )
        else:
            block = XceptionBlock(
                num_middle_blocks=Int(1, 2) if small else None,
                filters=Choice([16, 32]) if small else None,
            )
        parts.append((f"{family}_block", block))
        parts.append(("spatial_reduction", SpatialReduction()))
        return chain(hp, name, inputs, parts)


@register
class TextBlock(Block):
    """A whole text network, following the representation the TextInput sampled.

    On TF-IDF n-grams: the n-gram dense path (a :class:`DenseBlock`, 0 to 2 layers, 0 being a
    linear model), for a classifier optionally after a :class:`NaiveBayesWeighting` (NBSVM's
    feature scaling). On hashed n-grams: an :class:`NgramEmbedding` then the same dense path
    (with 0 layers, fastText). On token sequences: an :class:`Embedding`, then a convolutional,
    recurrent or transformer family, then a :class:`TemporalReduction`.

    Parameters
    ----------
    block_type : {"cnn", "rnn", "transformer"}, hyperparameter or None, default=None
        The sequence family; None searches all three. Unused on n-grams.
    nb_weighting : bool, hyperparameter or None, default=None
        Put a :class:`NaiveBayesWeighting` before the n-gram dense path. None searches both
        where the block reads a TextInput and feeds one :class:`ClassificationHead` only,
        and means False elsewhere; True elsewhere is a GraphError. Unused on hashed n-grams
        and sequences.
    name : str, optional
        Block name.
    """

    type_name = "text_block"

    def __init__(
        self, *, block_type: Any = None, nb_weighting: Any = None, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.block_type = block_type
        self.nb_weighting = nb_weighting

    def expand(
        self,
        hp,
        name: str,
        inputs: tuple[str, ...],
        input_infos: Sequence[TensorInfo | None],
        consumers: Sequence[str] = (),
    ) -> list[NodeSpec]:
        info = input_infos[0]
        self._check_weighting(consumers, info)
        representation = None if info is None else info.meta.get("representation")
        dense = DenseBlock(num_layers=Int(0, 2), num_units=Choice([64, 128, 256]))
        if representation in (None, "ngram"):
            parts: list[tuple[str, Block]] = [("dense_block", dense)]
            # the weighting reads TF-IDF n-grams of a TextInput, not another node
            if representation == "ngram" and self._weighted(hp, consumers):
                parts.insert(0, ("nb_weighting", NaiveBayesWeighting()))
            return chain(hp, name, inputs, parts)
        if representation == "hashed":
            bag = NgramEmbedding()
            return chain(hp, name, inputs, [("ngram_embedding", bag), ("dense_block", dense)])
        family = hp.get(
            "block_type", self.block_type, Choice(list(TEXT_FAMILIES)), one_of(*TEXT_FAMILIES)
        )
        parts = [("embedding", Embedding())]
        if family == "cnn":
            parts.append(("conv_block", ConvBlock(max_pooling=False)))
        elif family == "rnn":
            parts.append(("rnn_block", RNNBlock()))
        else:
            parts.append(("transformer_block", TransformerBlock()))
        parts.append(("temporal_reduction", TemporalReduction()))
        return chain(hp, name, inputs, parts)

    @staticmethod
    def weighs(consumers: Sequence[str]) -> bool:
        """Whether a TextBlock read by ``consumers`` (registry names) may start its n-gram
        path with a naive Bayes weighting: it feeds one classification head only."""
        return list(consumers) == [ClassificationHead.type_name]

    def _weighted(self, hp, consumers: Sequence[str]) -> bool:
        """Whether the n-gram path starts with a naive Bayes weighting (searched where
        :meth:`weighs` allows it)."""
        default = Bool() if self.weighs(consumers) else False
        return hp.get("nb_weighting", self.nb_weighting, default, boolean)

    def _check_weighting(self, consumers: Sequence[str], info: TensorInfo | None) -> None:
        """A GraphError when a weighting is asked for where it cannot be built, whatever
        representation the trial samples: the block must feed one classification head only
        (:meth:`weighs`) and read a TextInput."""
        if self.nb_weighting is None or not any(
            value is True for value in possible_values(self.nb_weighting)
        ):
            return
        if not self.weighs(consumers):
            raise GraphError(
                f"TextBlock(nb_weighting={self.nb_weighting!r}) may weigh n-grams by their "
                f"class labels, which needs the block to feed one ClassificationHead only; "
                f"it feeds {list(consumers) or 'nothing'}. Use nb_weighting=False, or connect "
                f"the block to a single ClassificationHead."
            )
        if info is None or info.kind != "text":
            read = "another block" if info is None else f"a {info.kind} input"
            raise GraphError(
                f"TextBlock(nb_weighting={self.nb_weighting!r}) weighs the n-grams of a "
                f"TextInput, which it must read directly; it reads {read}. Apply the block to "
                f"a TextInput, or use nb_weighting=False."
            )
