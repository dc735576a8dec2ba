import pytest
import torch

from benchmarks.conftest import BATCHES, FRAMES, SIZE, report, timed
from simcomp.data.synthetic import background_clips, person_clips


@pytest.mark.parametrize("make", [person_clips, background_clips], ids=lambda f: f.__name__)
@pytest.mark.parametrize("batch", BATCHES)
def test_built_in_data(benchmark, device, batch, make):
    g = torch.Generator().manual_seed(0)
    fn = timed(device, lambda: make(batch, FRAMES, SIZE, g, device=device))
    benchmark.pedantic(fn, rounds=2, warmup_rounds=1)
    report(benchmark, batch, make.__name__, device, batch)
