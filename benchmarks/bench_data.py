import pytest
import torch

from benchmarks.conftest import BATCHES, FRAMES, SIZE, report, timed
from simcomp.data.synthetic import background_clips, person_clips


@pytest.mark.parametrize("batch", BATCHES)
def test_person_clips(benchmark, device, batch):
    g = torch.Generator().manual_seed(0)
    fn = timed(device, lambda: person_clips(batch, FRAMES, SIZE, g, device=device))
    benchmark.pedantic(fn, rounds=2, warmup_rounds=1)
    report(benchmark, batch, "person_clips", device, batch)


@pytest.mark.parametrize("batch", BATCHES)
def test_background_clips(benchmark, device, batch):
    g = torch.Generator().manual_seed(0)
    fn = timed(device, lambda: background_clips(batch, FRAMES, SIZE, g, device=device))
    benchmark.pedantic(fn, rounds=2, warmup_rounds=1)
    report(benchmark, batch, "background_clips", device, batch)
