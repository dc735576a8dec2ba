"""Every transform alone, on the clip the preceding steps of the preset produce."""

import pytest
import torch

from benchmarks.conftest import BATCHES, FRAMES, SIZE, report, timed
from simcomp.data.synthetic import SyntheticClips
from simcomp.presets import doersch2019


@pytest.fixture(scope="module")
def stages():
    """Per batch size: the input of each step of the preset, on the CPU."""
    pipe = doersch2019()
    out = {}
    for batch in BATCHES:
        clip = SyntheticClips(length=1, batch_size=batch, num_frames=FRAMES, size=SIZE, seed=1)[0]
        g = torch.Generator().manual_seed(0)
        inputs = {}
        for t in pipe.transforms:
            inputs[t.name] = clip
            clip = t(clip, g)
        out[batch] = inputs
    return pipe, out


NAMES = [
    "superpixel_occlusion",
    "total_occlusion",
    "keypoint_visibility",
    "person_crop",
    "motion_inputs",
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", BATCHES[:2])
def test_transform(benchmark, stages, device, batch, name):
    pipe, inputs = stages
    t = next(t for t in pipe.transforms if t.name == name)
    clip, g = inputs[batch][name].to(device), torch.Generator().manual_seed(0)
    benchmark.pedantic(timed(device, lambda: t(clip, g)), rounds=2, warmup_rounds=1)
    report(benchmark, batch, name, device, batch)
