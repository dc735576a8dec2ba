"""simcomp._parallel: pieces side by side on one kept pool, nested calls and forks included."""

import multiprocessing
import threading

import pytest
import torch

from simcomp import _parallel
from simcomp._parallel import side_by_side
from tests.helpers import threads


@pytest.fixture
def two_threads():
    with threads(2):
        yield


def test_results_in_order_on_the_kept_pool(two_threads):
    names = side_by_side(lambda i: (i, threading.current_thread().name), 8)
    assert [i for i, _ in names] == list(range(8))
    assert all(name.startswith("simcomp") for _, name in names)  # not the caller's thread
    first = _parallel._shared
    side_by_side(lambda i: i, 2)
    assert _parallel._shared is first  # kept, not started again


def test_a_piece_that_calls_again_runs_its_pieces_in_place(two_threads):
    # on a kept pool of 2 workers, 2 pieces waiting on pieces queued behind them would hang
    out = side_by_side(lambda i: side_by_side(lambda j: 10 * i + j, 3), 2)
    assert out == [[0, 1, 2], [10, 11, 12]]


def test_an_error_in_a_piece_is_raised_here(two_threads):
    def fail(i):
        if i == 1:
            raise ValueError("piece 1")
        return i

    with pytest.raises(ValueError, match="piece 1"):
        side_by_side(fail, 4)
    assert side_by_side(lambda i: i, 4) == [0, 1, 2, 3]  # the pool still works


def _in_child(queue):
    torch.set_num_threads(2)
    queue.put(side_by_side(lambda i: i * i, 4))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_a_forked_child_gets_its_own_pool(two_threads):
    side_by_side(lambda i: i, 2)  # the parent's pool exists before the fork
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "side_by_side hung in a forked child"
    assert queue.get(timeout=5) == [0, 1, 4, 9]
