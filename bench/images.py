"""Image benchmark: sknas against scikit-learn baselines and a plain PyTorch loop, in one run.

Run from the repository root: ``python bench/images.py`` (``--quick`` for a smoke run).
Writes ``bench/results/images.md``.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from pathlib import Path

import numpy as np
import torch
from datasets import mnist_test
from report import environment, main, search_note
from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import RidgeCV
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from skorch.callbacks import Callback

import sknas
from sknas.space import ArchitectureSpec
from sknas.training import make_net

RESULTS = Path(__file__).resolve().parent / "results" / "images.md"
SEED = 0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def digits_split():
    digits = load_digits()
    return train_test_split(
        digits.images, digits.target, test_size=0.25, stratify=digits.target, random_state=SEED
    )


def mnist_split():
    images, labels = mnist_test()
    return train_test_split(images, labels, test_size=2000, stratify=labels, random_state=SEED)


def baseline_rows(name, X_train, X_test, y_train, y_test):
    flat_train, flat_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    models = {
        "SVC (scaled pixels)": make_pipeline(StandardScaler(), SVC()),
        "HistGradientBoosting": HistGradientBoostingClassifier(random_state=SEED),
    }
    rows = []
    for label, model in models.items():
        start = time.perf_counter()
        model.fit(flat_train, y_train)
        score = model.score(flat_test, y_test)
        rows.append((name, "accuracy", label, score, time.perf_counter() - start, ""))
    return rows


def search_in_child(queue, split_name, budget):
    """Run one classifier search in a fresh process, so its peak memory is its own."""
    X_train, X_test, y_train, y_test = digits_split() if split_name == "digits" else mnist_split()
    start = time.perf_counter()
    clf = sknas.NASImageClassifier(time_budget=budget, random_state=SEED).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    queue.put(
        {
            "score": clf.score(X_test, y_test),
            "seconds": seconds,
            "peak_mb": peak_rss_mb(),
            "trials": search_note(clf, budget, seconds),
            "spec": clf.best_architecture_.to_json(),
            "best_epoch": int(clf.best_trial_.user_attrs["best_epoch"]),
        }
    )


def run_child(split_name, budget):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=search_in_child, args=(queue, split_name, budget))
    process.start()
    result = queue.get()
    process.join()
    return result


class PeakMemory(Callback):
    """Records the process's peak RSS at the end of every trial."""

    peaks: list[float] = []

    def on_train_end(self, net, **kwargs):
        type(self).peaks.append(peak_rss_mb())


def overhead(spec_json: str, epochs: int) -> tuple[float, float]:
    """Seconds to train the same module on MNIST through sknas's skorch net and a plain loop."""
    X_train, _, y_train, _ = mnist_split()
    adapter = sknas.data.ImageAdapter().fit(X_train)
    target = sknas.data.ClassificationTarget().fit(y_train)
    X = adapter.transform(X_train)
    y = target.transform(y_train)
    spec = ArchitectureSpec.from_json(spec_json)
    training = spec.training

    def module():
        torch.manual_seed(SEED)
        return sknas.nn.GraphModule(spec, [adapter.info_], [target.info_])

    net = make_net(module(), spec, [target.info_], max_epochs=epochs)
    start = time.perf_counter()
    net.fit(X, y)
    through_sknas = time.perf_counter() - start

    model = module()
    optimizer = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[training["optimizer"]](
        model.parameters(), lr=training["learning_rate"], weight_decay=training["weight_decay"]
    )
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y)),
        batch_size=training["batch_size"],
        shuffle=True,
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
    plain = time.perf_counter() - start
    return through_sknas, plain


def run(quick: bool) -> str:
    rows = []
    budgets = {"digits": 10 if quick else 60, "mnist": 20 if quick else 300}

    rows += baseline_rows("digits 8x8", *digits_split())
    digits = run_child("digits", budgets["digits"])
    rows.append(
        (
            "digits 8x8",
            "accuracy",
            "sknas NASImageClassifier",
            digits["score"],
            digits["seconds"],
            f"peak memory {digits['peak_mb']:.0f} MB; {digits['trials']}",
        )
    )
    print(rows[-1], flush=True)

    X_train, X_test, y_train, y_test = mnist_split()
    rows += baseline_rows("MNIST 8k/2k", X_train, X_test, y_train, y_test)
    mnist = run_child("mnist", budgets["mnist"])
    rows.append(
        (
            "MNIST 8k/2k",
            "accuracy",
            "sknas NASImageClassifier",
            mnist["score"],
            mnist["seconds"],
            f"peak memory {mnist['peak_mb']:.0f} MB; {mnist['trials']}",
        )
    )
    print(rows[-1], flush=True)

    flat_train = X_train.reshape(len(X_train), -1) / 255.0
    flat_test = X_test.reshape(len(X_test), -1) / 255.0
    start = time.perf_counter()
    ridge = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(flat_train, y_train.astype(float))
    ridge_rmse = root_mean_squared_error(y_test, ridge.predict(flat_test))
    rows.append(
        ("MNIST digit value", "RMSE", "RidgeCV", ridge_rmse, time.perf_counter() - start, "")
    )
    budget = 30 if quick else 120
    reg = sknas.NASImageRegressor(time_budget=budget, random_state=SEED)
    start = time.perf_counter()
    reg.fit(X_train, y_train.astype(float))
    seconds = time.perf_counter() - start
    rmse = root_mean_squared_error(y_test, reg.predict(X_test))
    rows.append(
        (
            "MNIST digit value",
            "RMSE",
            "sknas NASImageRegressor",
            rmse,
            seconds,
            f"lower is better; {search_note(reg, budget, seconds)}",
        )
    )
    print(rows[-1], flush=True)

    epochs = 2 if quick else 5
    through_sknas, plain = overhead(mnist["spec"], epochs)
    overhead_note = (
        f"best MNIST architecture, {epochs} epochs on 8,000 images; sknas/plain = "
        f"{through_sknas / plain:.3f}"
    )

    PeakMemory.peaks.clear()
    trials = 8 if quick else 30
    sknas.NASImageClassifier(
        max_trials=trials, epochs=3, pruner=None, random_state=SEED, callbacks=[PeakMemory()]
    ).fit(*digits_split()[::2])
    peaks = PeakMemory.peaks
    memory_note = (
        f"peak RSS after trial 5: {peaks[4]:.0f} MB, after trial {len(peaks) - 1}: "
        f"{peaks[-2]:.0f} MB (ratio {peaks[-2] / peaks[4]:.3f}); the last entry is the refit"
    )

    header = [
        "# Image benchmark",
        "",
        environment("images.py", quick),
        "Splits: digits 75/25 stratified; MNIST test set 8,000/2,000 stratified (seed 0), "
        "the same split for every model. Seconds are fit wall-clock times (search and refit).",
        "",
        "| data | metric | model | score | fit seconds | notes |",
        "|---|---|---|---|---|---|",
    ]
    lines = [
        f"| {data} | {metric} | {model} | {score:.4f} | {secs:.1f} | {note} |"
        for data, metric, model, score, secs, note in rows
    ]
    extra = [
        "",
        "## Framework overhead",
        "",
        "| path | seconds | ratio |",
        "|---|---|---|",
        f"| plain PyTorch loop | {plain:.2f} | 1.000 |",
        f"| sknas (skorch net from `make_net`) | {through_sknas:.2f} | "
        f"{through_sknas / plain:.3f} |",
        "",
        overhead_note + ". Same module, data, batch size and optimizer; no validation in either.",
        "",
        "## Memory across trials",
        "",
        f"{trials} trials on the digits (3 epochs each, no pruning): {memory_note}.",
    ]
    return "\n".join(header + lines + extra) + "\n"


if __name__ == "__main__":
    main(run, __doc__, RESULTS)
