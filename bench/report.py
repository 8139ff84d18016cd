"""What every benchmark script shares: the environment line and the command line."""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable
from pathlib import Path

import sklearn
import torch

import sknas


def environment(script: str, quick: bool) -> str:
    """One sentence naming the script and the versions it measured with."""
    return (
        f"Measured by `bench/{script}`{' --quick' if quick else ''} in one run: sknas "
        f"{sknas.__version__}, torch {torch.__version__}, scikit-learn {sklearn.__version__}, "
        f"Python {platform.python_version()}, {torch.get_num_threads()} CPU threads, no GPU."
    )


def main(run: Callable[[bool], str], description: str, results: Path) -> None:
    """Parse ``--quick`` and ``--out``, run the benchmark, write and print its table."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="short budgets, smoke run")
    parser.add_argument("--out", type=Path, default=results)
    args = parser.parse_args()
    torch.set_num_threads(2)
    table = run(args.quick)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    print(table)
