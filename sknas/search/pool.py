"""Worker processes of ``n_jobs``: more processes running trials of one study."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import torch
from joblib.externals.loky import get_reusable_executor

from ..training import torch_threads

__all__ = ["local_storage", "run_with_workers"]

Result = TypeVar("Result")


@contextlib.contextmanager
def local_storage(workers: int, storage: Any, study_name: str | None) -> Iterator[tuple[Any, Any]]:
    """The storage and study name the processes share: a temporary journal file when several
    processes search without a storage of the user's, removed on exit."""
    if workers == 1 or storage is not None:
        yield storage, study_name
        return
    with tempfile.TemporaryDirectory(prefix="sknas-") as folder:
        yield os.path.join(folder, "study.log"), study_name or f"sknas-{uuid.uuid4().hex[:12]}"


def _in_worker(
    elsewhere: Callable[[float | None, int], Result],
    threads: int,
    ends_at: float | None,
    index: int,
) -> Result:
    # the budget's end as a wall-clock time: the process's own start-up is counted in it
    torch.set_num_threads(threads)
    return elsewhere(None if ends_at is None else ends_at - time.time(), index)


def run_with_workers(
    here: Callable[[], Result],
    elsewhere: Callable[[float | None, int], Any],
    workers: int,
    deadline: float | None,
) -> tuple[Result, list[Any]]:
    """Run ``here()`` in this process and ``elsewhere`` in ``workers - 1`` worker processes,
    torch's threads divided between them.

    Parameters
    ----------
    here : callable
        This process's part.
    elsewhere : callable
        Picklable; ``elsewhere(seconds_left, index)`` is run in worker ``index`` (from 1),
        with the seconds left of the budget once the worker has started (None without one).
    workers : int
        Processes in all, this one included.
    deadline : float or None
        ``time.monotonic()`` value of the budget's end in this process.

    Returns
    -------
    result
        What ``here()`` returned.
    others : list
        What each worker returned.
    """
    if workers == 1:
        return here(), []
    threads = max(1, torch.get_num_threads() // workers)
    ends_at = None if deadline is None else time.time() + deadline - time.monotonic()
    pool = get_reusable_executor(max_workers=workers - 1)
    others = [pool.submit(_in_worker, elsewhere, threads, ends_at, i) for i in range(1, workers)]
    try:
        with torch_threads(threads):
            result = here()
    finally:
        # the workers share this study's storage: none may outlive the search
        concurrent.futures.wait(others)
    return result, [future.result() for future in others]
