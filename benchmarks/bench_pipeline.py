"""The whole ``presets.doersch2019`` pipeline beside the paper's CPU pipeline (clip by clip)."""

import numpy as np
import pytest
import torch

from benchmarks import peak_rss, reference
from benchmarks.conftest import BATCHES, FRAMES, MEMORY, QUICK, SIZE, report, timed
from simcomp.data.synthetic import SyntheticClips
from simcomp.presets import doersch2019


def _clip(batch, device):
    return SyntheticClips(length=1, batch_size=batch, num_frames=FRAMES, size=SIZE, seed=0)[0].to(
        device
    )


@pytest.mark.parametrize("batch", BATCHES)
def test_doersch2019(benchmark, device, batch):
    clip, pipe, g = _clip(batch, device), doersch2019(), torch.Generator().manual_seed(0)
    benchmark.pedantic(
        timed(device, lambda: pipe(clip, g)), rounds=1 if batch > 8 else 2, warmup_rounds=1
    )
    report(benchmark, batch, "doersch2019", device, batch)


@pytest.mark.parametrize("batch", BATCHES[:2])
def test_reference_cpu_pipeline(benchmark, batch):
    """The paper's pipeline clip by clip, on the clips of simcomp's batch of the same size."""
    clip = _clip(batch, torch.device("cpu"))
    people = [reference.person_arrays(clip, i) for i in range(batch)]
    bgs = [clip.background[i].permute(0, 2, 3, 1).numpy() for i in range(batch)]
    rng = np.random.default_rng(0)

    def run():
        return [reference.augment(p, bg, rng) for p, bg in zip(people, bgs, strict=True)]

    out = benchmark.pedantic(timed(torch.device("cpu"), run), rounds=2 if batch == 1 else 1)
    assert out[0].shape == (FRAMES - 1, 16, 224, 224)
    report(benchmark, batch, "reference", torch.device("cpu"), batch)


@pytest.mark.parametrize("reuse", [False, True], ids=["plain", "reuse_freed_memory"])
def test_peak_rss_of_one_call(benchmark, reuse):
    """Peak RSS of one preset call at batch 8 in a fresh process (benchmarks/peak_rss.py)."""
    batch = 1 if QUICK else 8
    result = benchmark.pedantic(
        lambda: peak_rss.measure(batch, FRAMES, SIZE, reuse), rounds=1, warmup_rounds=0
    )
    benchmark.extra_info.update(result)
    MEMORY[f"batch {batch}, {'reuse_freed_memory' if reuse else 'plain'}"] = result
