"""Independent pieces of CPU work side by side, each on one thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

T = TypeVar("T")


def each_on_one_thread(fn: Callable[[int], T], count: int) -> list[T]:
    """``[fn(0), ..., fn(count - 1)]`` on up to ``torch.get_num_threads()`` threads of one.

    For pieces (a batch's clips, runs of frame pairs) whose work includes single-threaded
    passes (cc3d's labelling, OpenCV's flow, Python between small ops): run side by side,
    each on one intra-op thread, they keep every core busy where one piece at a time on all
    of torch's threads leaves cores idle in those passes. Each worker sets its own intra-op
    thread count (OpenMP's is per thread); the caller keeps its own, and MKL's process-wide
    count is put back afterwards. Results come in order; an error in a piece is raised here.
    """
    threads = torch.get_num_threads()
    workers = min(threads, count)
    if workers <= 1:
        return [fn(i) for i in range(count)]
    try:
        with ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            return list(pool.map(fn, range(count)))
    finally:
        torch.set_num_threads(threads)
