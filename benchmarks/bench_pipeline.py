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


def test_reference_cpu_pipeline(benchmark):
    clip = _clip(1, torch.device("cpu"))
    person = reference.person_arrays(clip, 0)
    bg = clip.background[0].permute(0, 2, 3, 1).numpy()
    rng = np.random.default_rng(0)
    run = timed(torch.device("cpu"), lambda: reference.augment(person, bg, rng))
    out = benchmark.pedantic(run, rounds=2, warmup_rounds=0)
    assert out.shape == (FRAMES - 1, 16, 224, 224)
    report(benchmark, 1, "reference", torch.device("cpu"), 1)


@pytest.mark.parametrize("reuse", [False, True], ids=["plain", "reuse_freed_memory"])
def test_peak_rss_of_one_call(benchmark, reuse):
    """Peak RSS of one preset call at batch 8 in a fresh process (benchmarks/peak_rss.py)."""
    batch = 1 if QUICK else 8
    result = benchmark.pedantic(
        lambda: peak_rss.measure(batch, FRAMES, SIZE, reuse), rounds=1, warmup_rounds=0
    )
    benchmark.extra_info.update(result)
    MEMORY[f"batch {batch}, {'reuse_freed_memory' if reuse else 'plain'}"] = result
