"""Independent pieces of CPU work side by side on threads (their native code frees the GIL)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

T = TypeVar("T")


def side_by_side(fn: Callable[[int], T], count: int, one_thread_each: bool = False) -> list[T]:
    """``[fn(0), ..., fn(count - 1)]`` on up to ``torch.get_num_threads()`` threads.

    For pieces whose work runs in native code that frees the GIL (numba kernels, OpenCV).
    ``one_thread_each``: each worker also sets its own intra-op thread count to 1, for pieces
    (a batch's clips, runs of frame pairs) whose torch ops would otherwise each use every core:
    side by side, one thread each, they keep every core busy where one piece at a time on all
    of torch's threads leaves cores idle in its single-threaded passes (Python between small
    ops, OpenCV's calls). OpenMP's count is per thread, so the caller keeps its own; MKL's
    process-wide count is put back afterwards. Results come in order; an error in a piece is
    raised here.
    """
    threads = torch.get_num_threads()
    workers = min(threads, count)
    if workers <= 1:
        return [fn(i) for i in range(count)]
    setup = {"initializer": torch.set_num_threads, "initargs": (1,)} if one_thread_each else {}
    try:
        with ThreadPoolExecutor(workers, **setup) as pool:
            return list(pool.map(fn, range(count), chunksize=max(1, count // (4 * workers))))
    finally:
        if one_thread_each:
            torch.set_num_threads(threads)
