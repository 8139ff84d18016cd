"""Default search spaces per task, and known-good first trials enqueued before the sampler."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .blocks import (
    ClassificationHead,
    ImageBlock,
    ImageInput,
    RegressionHead,
    TabularBlock,
    TabularInput,
    TextBlock,
    TextInput,
)
from .blocks.hyperblocks import SMALL_IMAGE
from .graph import Graph
from .spec import TensorInfo

__all__ = [
    "hyperblock_first_trials",
    "image_first_trials",
    "image_graph",
    "tabular_first_trials",
    "tabular_graph",
    "text_first_trials",
    "text_graph",
]


def _head(task: str):
    return ClassificationHead() if task == "classification" else RegressionHead()


def tabular_graph(task: str) -> Graph:
    """Table -> TabularBlock -> one head for ``task`` ("classification" or "regression")."""
    inp = TabularInput()
    return Graph(inp, _head(task)(TabularBlock()(inp)))


def image_graph(task: str) -> Graph:
    """Images -> ImageBlock (sized for the images when sampled) -> one head for ``task``."""
    inp = ImageInput()
    return Graph(inp, _head(task)(ImageBlock()(inp)))


#: training settings of most first trials: a constant learning rate, no label smoothing
CONSTANT_RATE = {"training/lr_schedule": "constant", "training/label_smoothing": 0.0}


def image_first_trials(graph: Graph, info: TensorInfo, device: str) -> list[dict[str, Any]]:
    """A small CNN that trains in seconds on a CPU, the same with light augmentation, and a
    small residual network; wider and with larger batches on a GPU.
    """
    block = "image_block_1"
    head = graph.output_names[0]
    gpu = device.startswith("cuda")
    small = max(info.shape[1:]) <= SMALL_IMAGE
    width = 32 if small and not gpu else 64
    # the space gives small images one searched width for every stack, large ones a width
    # per stack
    widths = (
        {f"{block}/conv_block/filters": width}
        if small
        else {f"{block}/conv_block/filters_0": width, f"{block}/conv_block/filters_1": 2 * width}
    )
    training = {
        "training/optimizer": "adam",
        "training/learning_rate": 1e-3,
        "training/weight_decay": 1e-4,
        "training/batch_size": 128 if gpu else 64,
        "training/batch_mixing": "none",
        **CONSTANT_RATE,
    }
    cnn = {
        f"{block}/augment": False,
        f"{block}/block_type": "conv",
        f"{block}/conv_block/kernel_size": 3,
        f"{block}/conv_block/num_blocks": 2,
        f"{block}/conv_block/num_layers": 1 if small and not gpu else 2,
        **widths,
        f"{block}/conv_block/max_pooling": True,
        f"{block}/conv_block/separable": False,
        f"{block}/conv_block/dropout": 0.25,
        f"{block}/spatial_reduction/reduction_type": "flatten",
        f"{head}/dropout": 0.25,
        **training,
    }
    augmented = {
        **cnn,
        f"{block}/augment": True,
        f"{block}/image_augmentation/percentage": 0.5,
        f"{block}/image_augmentation/rotation_range": 10.0,
        f"{block}/image_augmentation/random_crop": False,
        f"{block}/image_augmentation/horizontal_flip": False,
        f"{block}/image_augmentation/vertical_flip": False,
        f"{block}/image_augmentation/translation_factor": 0.1,
        f"{block}/image_augmentation/zoom_factor": 0.1,
        f"{block}/image_augmentation/contrast_factor": 0.0,
    }
    resnet = {
        f"{block}/augment": False,
        f"{block}/block_type": "resnet",
        f"{block}/resnet_block/num_stages": 2,
        f"{block}/resnet_block/blocks_per_stage": 1,
        f"{block}/resnet_block/base_filters": 16 if width == 32 else 32,
        f"{block}/spatial_reduction/reduction_type": "global_avg",
        f"{head}/dropout": 0.0,
        **training,
    }
    return [cnn, augmented, resnet]


def tabular_first_trials(
    graph: Graph, n_samples: int, info: TensorInfo | None = None, device: str = "cpu"
) -> list[dict[str, Any]]:
    """Configurations that train well on most tables, sized for ``n_samples`` rows.

    A two-layer MLP, a wider residual one, an MLP on robust-scaled, smoothly clipped numbers
    with periodic (PLR) embeddings and label smoothing (after Gorishniy et al. 2022 and
    Holzmüller et al. 2024's RealMLP-TD, here with a flat-then-cosine learning rate and no
    per-feature scale), TabM-D on small tables or a GPU (Gorishniy et al. 2025's defaults as
    pytabkit sets them: quantile-scaled numbers, one-hot categories, 32 members of 512 units
    in three layers, dropout 0.1, AdamW at 2e-3, batches of 256; see docs/tabular.md for
    where it differs), and on small tables a regularized linear model.

    Parameters
    ----------
    graph : Graph
        The default tabular space (:func:`tabular_graph`).
    n_samples : int
        Rows the search trains on.
    info : TensorInfo, optional
        The table's description; a table without categorical columns gets no encoding
        parameters. None: the table may have categorical columns.
    device : str, default="cpu"
        Where the trials train: TabM-D runs on larger tables only on a GPU.

    Returns
    -------
    list of dict
        Each trial's parameters, named as the space samples them.
    """
    block = "tabular_block_1"
    head = graph.output_names[0]
    small = n_samples < 2000
    batch = 32 if small else 128
    categorical = info is None or bool(info.meta.get("cardinalities"))
    trials = [
        {
            f"{block}/normalization/method": "standard",
            f"{block}/numeric_embedding/method": "none",
            f"{block}/categorical_encoding/method": "embedding",
            f"{block}/categorical_encoding/embedding_dim": 8,
            f"{block}/backbone": "mlp",
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
            **CONSTANT_RATE,
        },
        {
            f"{block}/normalization/method": "quantile",
            f"{block}/numeric_embedding/method": "none",
            f"{block}/categorical_encoding/method": "one_hot",
            f"{block}/backbone": "mlp",
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
            **CONSTANT_RATE,
        },
        {
            f"{block}/normalization/method": "robust",
            f"{block}/numeric_embedding/method": "periodic",
            f"{block}/numeric_embedding/embedding_dim": 16,
            f"{block}/numeric_embedding/frequency_scale": 0.1,
            f"{block}/categorical_encoding/method": "embedding",
            f"{block}/categorical_encoding/embedding_dim": 8,
            f"{block}/backbone": "mlp",
            f"{block}/dense_block/num_layers": 3,
            f"{block}/dense_block/units_0": 256,
            f"{block}/dense_block/units_1": 256,
            f"{block}/dense_block/units_2": 256,
            f"{block}/dense_block/dropout": 0.1,
            f"{block}/dense_block/use_batchnorm": False,
            f"{block}/dense_block/activation": "gelu",
            f"{block}/dense_block/residual": False,
            f"{head}/dropout": 0.0,
            "training/optimizer": "adamw",
            "training/learning_rate": 1e-3,
            "training/weight_decay": 1e-4,
            "training/batch_size": batch,
            "training/lr_schedule": "flat_cosine",
            "training/label_smoothing": 0.1,
        },
    ]
    # TabM-D where its 32 members train fast enough: on a CPU they cost 32 networks' time,
    # and on larger tables the trial was pruned after its first epochs
    if small or device.startswith("cuda"):
        trials.append(
            {
                f"{block}/normalization/method": "quantile",
                f"{block}/numeric_embedding/method": "none",
                f"{block}/categorical_encoding/method": "one_hot",
                f"{block}/backbone": "tabm",
                f"{block}/tabm_block/k": 32,
                f"{block}/tabm_block/num_layers": 3,
                f"{block}/tabm_block/num_units": 512,
                f"{block}/tabm_block/dropout": 0.1,
                f"{block}/tabm_block/architecture": "tabm",
                f"{head}/dropout": 0.0,
                "training/optimizer": "adamw",
                "training/learning_rate": 2e-3,
                "training/weight_decay": 1e-6,
                "training/batch_size": 256,
                **CONSTANT_RATE,
            }
        )
    if small:
        trials.append(
            {
                f"{block}/normalization/method": "standard",
                f"{block}/numeric_embedding/method": "none",
                f"{block}/categorical_encoding/method": "one_hot",
                f"{block}/backbone": "mlp",
                f"{block}/dense_block/num_layers": 0,
                f"{block}/dense_block/dropout": 0.0,
                f"{block}/dense_block/use_batchnorm": False,
                f"{block}/dense_block/activation": "relu",
                f"{block}/dense_block/residual": False,
                f"{head}/dropout": 0.0,
                "training/optimizer": "adam",
                "training/learning_rate": 1e-2,
                "training/weight_decay": 1e-3,
                "training/batch_size": batch,
                **CONSTANT_RATE,
            }
        )
    if categorical:
        return trials
    encoding = f"{block}/categorical_encoding/"
    return [{k: v for k, v in trial.items() if not k.startswith(encoding)} for trial in trials]


def text_graph(task: str) -> Graph:
    """Texts -> TextBlock (n-gram dense path, fastText or a sequence family) -> one head for
    ``task``."""
    inp = TextInput()
    return Graph(inp, _head(task)(TextBlock()(inp)))


def text_first_trials(
    graph: Graph, n_samples: int, device: str, consumers: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """TF-IDF character n-grams into one hidden layer (strong on small data), word n-grams
    into a linear model (for a classifier on naive Bayes scaled n-grams, as NBSVM scales
    them; for a regressor with more weight decay), fastText (hashed word and character
    n-grams, averaged embeddings, a linear classifier, a decaying rate), and a word-level 1-D
    CNN.

    Parameters
    ----------
    graph : Graph
        The space; its first head is the text block's.
    n_samples : int
        Texts the search trains on.
    device : str
        Where the trials train.
    consumers : sequence of str, default=()
        Registry names of the blocks that read the text block. Where it feeds one
        classification head only, it searches a naive Bayes weighting
        (:meth:`TextBlock.weighs`): the linear trial then uses it, the one-layer trial does
        not. Where it feeds one regression head only, the linear trial decays its weights by
        3e-4 instead of the other trials' 1e-5 (measured on EmoBank valence,
        bench/README.md).

    Returns
    -------
    list of dict
        Each trial's parameters, named as the default text space samples them.
    """
    inp, block, head = "text_input_1", "text_block_1", graph.output_names[0]
    training = {
        "training/optimizer": "adam",
        "training/learning_rate": 1e-3,
        "training/weight_decay": 1e-5,
        "training/batch_size": 32 if n_samples < 5000 else 64,
        **CONSTANT_RATE,
    }
    dense = f"{block}/dense_block"
    ngram_mlp = {
        f"{inp}/representation": "ngram",
        f"{inp}/analyzer": "char_wb",
        f"{inp}/max_tokens": 20000,
        f"{dense}/num_layers": 1,
        f"{dense}/num_units": 256,
        f"{dense}/dropout": 0.5,
        f"{dense}/use_batchnorm": False,
        f"{dense}/activation": "relu",
        f"{dense}/residual": False,
        f"{head}/dropout": 0.0,
        **training,
    }
    # no hidden layer: no width; for a classifier on naive Bayes weighted n-grams (NBSVM),
    # for a regressor with more weight decay
    ngram_linear = {
        **{k: v for k, v in ngram_mlp.items() if k != f"{dense}/num_units"},
        f"{inp}/analyzer": "word",
        f"{dense}/num_layers": 0,
        "training/learning_rate": 3e-3,
    }
    if list(consumers) == [RegressionHead.type_name]:
        ngram_linear["training/weight_decay"] = 3e-4
    if TextBlock.weighs(consumers):
        ngram_mlp[f"{block}/nb_weighting"] = False
        ngram_linear[f"{block}/nb_weighting"] = True
    fasttext = {
        f"{inp}/representation": "hashed",
        f"{inp}/analyzer": "word+char",
        f"{block}/ngram_embedding/embedding_dim": 16,
        f"{block}/ngram_embedding/dropout": 0.0,
        **{k: v for k, v in ngram_linear.items() if k.startswith(dense)},
        f"{head}/dropout": 0.0,
        **training,
        "training/learning_rate": 1e-2,
        "training/lr_schedule": "cosine",
    }
    cnn = {
        f"{inp}/representation": "sequence",
        f"{inp}/units": "word",
        f"{inp}/max_tokens": 20000,
        f"{inp}/sequence_length": 128,
        f"{block}/block_type": "cnn",
        f"{block}/embedding/embedding_dim": 64,
        f"{block}/embedding/dropout": 0.25,
        f"{block}/conv_block/kernel_size": 5,
        f"{block}/conv_block/num_blocks": 1,
        f"{block}/conv_block/num_layers": 1,
        f"{block}/conv_block/filters_0": 128,
        f"{block}/conv_block/separable": False,
        f"{block}/conv_block/dropout": 0.25,
        f"{block}/temporal_reduction/reduction_type": "global_max",
        f"{head}/dropout": 0.25,
        **training,
    }
    return [ngram_mlp, ngram_linear, fasttext, cnn]


#: for each hyperblock: the input it reads in a task's default graph, the names that graph
#: gives the two, and that task's first trials as a function of (graph, the block's node,
#: rows, input info, device)
_HYPERBLOCK_PRESETS: dict[type, tuple[type, str, str, Callable[..., list[dict[str, Any]]]]] = {
    TabularBlock: (
        TabularInput,
        "tabular_input_1",
        "tabular_block_1",
        lambda graph, node, n_samples, info, device: tabular_first_trials(
            graph, n_samples, info, device
        ),
    ),
    ImageBlock: (
        ImageInput,
        "image_input_1",
        "image_block_1",
        lambda graph, node, n_samples, info, device: image_first_trials(graph, info, device),
    ),
    TextBlock: (
        TextInput,
        "text_input_1",
        "text_block_1",
        lambda graph, node, n_samples, info, device: text_first_trials(
            graph, n_samples, device, graph.consumers(node)
        ),
    ),
}


def hyperblock_first_trials(
    graph: Graph, n_samples: int, infos: Sequence[TensorInfo | None], device: str = "cpu"
) -> list[dict[str, Any]]:
    """First trials for a graph, from the hyperblocks in it: every estimator's (its default
    graph is one hyperblock on its input) and an AutoModel's.

    Each :class:`TabularBlock`, :class:`ImageBlock` or :class:`TextBlock` that reads an input
    of its kind directly gets the first trials of that task's estimator, under this graph's
    names. Trial ``i`` joins every such block's ``i``-th one, with the training settings of
    the first block that has one; every head takes the dropout the presets give their head. What
    they leave out (other blocks, other head settings) is drawn by the sampler, and so is
    any value the graph's own arguments do not allow (the search enqueues only what
    :meth:`sknas.search.Objective.within_space` keeps).

    Parameters
    ----------
    graph : Graph
        The search space.
    n_samples : int
        Rows the search trains on.
    infos : sequence of TensorInfo or None
        What each graph input looks like, in the graph's input order (None where the
        description depends on the trial, as for texts).
    device : str, default="cpu"
        Where the trials train.

    Returns
    -------
    list of dict
        Each trial's parameters, named as the graph samples them; empty without hyperblocks
        on inputs.
    """
    per_block = []
    for node in graph.order:
        block = getattr(node, "block", None)
        if type(block) not in _HYPERBLOCK_PRESETS or len(block.inputs_) != 1:
            continue
        kind, input_name, block_name, presets = _HYPERBLOCK_PRESETS[type(block)]
        (source,) = block.inputs_
        if not isinstance(source, kind):
            continue
        info = infos[[id(i) for i in graph.inputs].index(id(source))]
        names = {
            f"{input_name}/": f"{graph.names[id(source)]}/",
            f"{block_name}/": f"{graph.names[id(node)]}/",
        }
        per_block.append(
            [
                {_renamed(key, names): value for key, value in trial.items()}
                for trial in presets(graph, node, n_samples, info, device)
            ]
        )
    trials: list[dict[str, Any]] = []
    for i in range(max(map(len, per_block), default=0)):
        trial: dict[str, Any] = {}
        for block_trials in per_block[::-1]:
            if i < len(block_trials):
                trial.update(block_trials[i])
        # the presets set their one head's dropout; every head here takes it
        first = f"{graph.output_names[0]}/dropout"
        if first in trial:
            trial.update({f"{head}/dropout": trial[first] for head in graph.output_names})
        trials.append(trial)
    return trials


def _renamed(key: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        if key.startswith(old):
            return new + key[len(old) :]
    return key
