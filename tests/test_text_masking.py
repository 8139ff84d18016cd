"""Text sequence models do not see padding: more trailing padding gives the same output."""

import io
import warnings
from contextlib import redirect_stdout

import onnxruntime
import optuna
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import sknas
from sknas.data import TextAdapter
from sknas.nn import GraphModule
from sknas.nn.builder import PaddedSequence
from sknas.nn.layers.text import Recurrent
from sknas.space import Graph, TensorInfo, TrainingSpace
from sknas.space import sample_architecture as sample

SHORT, LONG = 12, 24
TEXTS = [
    "free entry to win a prize now",
    "see you at lunch tomorrow",
    "",
    "ok",
    "call me when you land at the airport tonight please",
    "zebra quokka",
]
CLASSES = TensorInfo("classification", (3,))

TRUNKS = {
    **{
        f"{kind}-{'bi' if both else 'uni'}-{layers}": lambda k=kind, b=both, n=layers: (
            sknas.RNNBlock(layer_type=k, bidirectional=b, num_layers=n, units=8)
        )
        for kind in ("lstm", "gru")
        for both in (False, True)
        for layers in (1, 2)
    },
    "transformer-1": lambda: sknas.TransformerBlock(num_heads=2, num_layers=1, dense_dim=16),
    "transformer-2": lambda: sknas.TransformerBlock(num_heads=2, num_layers=2, dense_dim=16),
    "conv": lambda: sknas.ConvBlock(kernel_size=3, num_layers=2, max_pooling=False),
    "conv-pooling": lambda: sknas.ConvBlock(kernel_size=3, num_layers=1, max_pooling=True),
    "embedding": None,
}


@pytest.fixture(scope="module")
def adapter():
    return TextAdapter().fit(TEXTS)


def _network(adapter, trunk, reduction):
    """A network for LONG tokens, and the texts as ids of SHORT and of LONG tokens."""
    text = sknas.TextInput(representation="sequence", sequence_length=LONG, max_tokens=100)
    hidden = sknas.Embedding(embedding_dim=8, dropout=0.25)(text)
    if TRUNKS[trunk] is not None:
        hidden = TRUNKS[trunk]()(hidden)
    pooled = sknas.TemporalReduction(reduction_type=reduction)(hidden)
    graph = Graph(text, sknas.ClassificationHead(dropout=0.0)(pooled))
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(0)).ask()
    spec = sample(graph, trial, [adapter.info_for], TrainingSpace())
    config = spec.input_configs()[0]
    torch.manual_seed(0)
    module = GraphModule(spec, [adapter.info_for(config)], [CLASSES]).eval()
    short = torch.as_tensor(adapter.transform(TEXTS, {**config, "sequence_length": SHORT}))
    long = torch.as_tensor(adapter.transform(TEXTS, config))
    return module, short, long


@pytest.mark.parametrize("reduction", ["global_avg", "global_max"])
@pytest.mark.parametrize("trunk", list(TRUNKS))
def test_appending_padding_does_not_change_the_output(adapter, trunk, reduction):
    module, short, long = _network(adapter, trunk, reduction)
    assert torch.equal(long[:, :SHORT], short) and not long[:, SHORT:].any()
    assert not short[2].any() and short[3, 1:].eq(0).all()
    with torch.no_grad():
        torch.testing.assert_close(module(long), module(short), rtol=0, atol=1e-5)


@pytest.mark.parametrize("block", [sknas.DenseBlock, sknas.RNNBlock])
def test_blocks_after_an_embedding_train(adapter, block):
    text = sknas.TextInput(representation="sequence", sequence_length=LONG, max_tokens=100)
    hidden = block()(sknas.Embedding()(text))
    graph = Graph(text, sknas.ClassificationHead()(hidden))
    spec = sample(graph, optuna.create_study().ask(), [adapter.info_for], TrainingSpace())
    config = spec.input_configs()[0]
    module = GraphModule(spec, [adapter.info_for(config)], [CLASSES])
    out = module(torch.as_tensor(adapter.transform(TEXTS, config)))
    assert out.shape == (len(TEXTS), 3)
    out.sum().backward()


@pytest.mark.parametrize("rnn_type", [torch.nn.LSTM, torch.nn.GRU])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_layers_equal_packed_sequences(rnn_type, bidirectional):
    torch.manual_seed(0)
    recurrent = Recurrent(rnn_type, 5, 4, 2, bidirectional, 0.0).eval()
    packed = rnn_type(5, 4, num_layers=2, bidirectional=bidirectional, batch_first=True).eval()
    for i, directions in enumerate(recurrent.layers):
        for direction, rnn in enumerate(directions):
            for name, weight in rnn.named_parameters():
                suffix = f"{i}_reverse" if direction else f"{i}"
                getattr(packed, name.replace("0", suffix)).data.copy_(weight)
    lengths = torch.tensor([7, 3, 1, 5])
    mask = torch.arange(7) < lengths[:, None]
    x = torch.randn(4, 7, 5)
    with torch.no_grad():
        got = recurrent(PaddedSequence(x, mask)).values
        out = packed(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        expected = pad_packed_sequence(out[0], batch_first=True, total_length=7)[0]
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("trunk", ["lstm-bi-2", "transformer-2", "conv-pooling"])
def test_masked_networks_export_to_torchscript_and_onnx(adapter, trunk, tmp_path):
    module, _, long = _network(adapter, trunk, "global_avg")
    batch = long[[4, 2, 0, 1, 3]]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = module(batch)
        scripted = torch.jit.trace(module, (long[:3],))
        torch.testing.assert_close(scripted(batch), expected, rtol=0, atol=1e-5)
        with redirect_stdout(io.StringIO()):
            program = torch.onnx.export(
                module,
                (long[:3],),
                input_names=["text"],
                dynamic_shapes=(({0: torch.export.Dim("batch")},),),
                dynamo=True,
            )
    program.save(str(tmp_path / "model.onnx"))
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    (got,) = session.run(None, {"text": batch.numpy()})
    torch.testing.assert_close(torch.as_tensor(got), expected, rtol=0, atol=1e-5)
