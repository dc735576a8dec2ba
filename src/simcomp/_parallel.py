"""Independent pieces of CPU work side by side on threads (their native code frees the GIL)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

T = TypeVar("T")

# One pool kept for the plain case: starting threads cost ~0.3 ms a call, and SLIC's kernels
# make ~14 calls a clip (10 k-means iterations among them). Its workers mark themselves, so a
# piece that calls side_by_side again runs its pieces in place instead of waiting on its own
# pool; a forked child starts without it (its threads do not survive the fork).
_shared: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_worker = threading.local()


def _mark_worker() -> None:
    _worker.busy = True


def _pool(workers: int) -> ThreadPoolExecutor:
    global _shared
    with _lock:
        if _shared is None or _shared._max_workers < workers:
            if _shared is not None:
                _shared.shutdown(wait=False)
            _shared = ThreadPoolExecutor(workers, thread_name_prefix="simcomp",
                                         initializer=_mark_worker)  # fmt: skip
        return _shared


def _forget_pool() -> None:
    global _shared, _lock
    _shared, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def side_by_side(fn: Callable[[int], T], count: int, one_thread_each: bool = False) -> list[T]:
    """``[fn(0), ..., fn(count - 1)]`` on up to ``torch.get_num_threads()`` threads.

    For pieces whose work runs in native code that frees the GIL (numba kernels, OpenCV).
    ``one_thread_each``: each worker also sets its own intra-op thread count to 1, for pieces
    (a batch's clips, runs of frame pairs) whose torch ops would otherwise each use every core:
    side by side, one thread each, they keep every core busy where one piece at a time on all
    of torch's threads leaves cores idle in its single-threaded passes (Python between small
    ops, OpenCV's calls). OpenMP's count is per thread, so the caller keeps its own; MKL's
    process-wide count is put back afterwards. Results come in order; an error in a piece is
    raised here. Without ``one_thread_each`` the pieces run on one pool kept for the process
    (called from one of its pieces, in place).
    """
    threads = torch.get_num_threads()
    workers = min(threads, count)
    if workers <= 1 or getattr(_worker, "busy", False):
        return [fn(i) for i in range(count)]
    chunksize = max(1, count // (4 * workers))
    if not one_thread_each:
        return list(_pool(workers).map(fn, range(count), chunksize=chunksize))
    try:
        with ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            return list(pool.map(fn, range(count), chunksize=chunksize))
    finally:
        torch.set_num_threads(threads)
