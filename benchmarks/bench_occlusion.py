import pytest
import torch

from benchmarks.conftest import BATCHES, FRAMES, QUICK, SIZE, report, timed
from simcomp.data.synthetic import background_clips
from simcomp.functional.occlusion import slic_features
from simcomp.functional.slic import slic_seeds, slic_skimage, slic_video


def _features(batch, device):
    clip = background_clips(batch, FRAMES, SIZE, torch.Generator().manual_seed(0)).to(device)
    return slic_features(
        clip.background, clip.camera_shift, torch.full((batch,), 5e-4, device=device)
    )


# The issue asks for batch 1 and 8 on the CPU and 8, 32 and 128 on a GPU.
SLIC_BATCHES = {"cpu": BATCHES[:2], "cuda": [1] if QUICK else [8, 32, 128]}


@pytest.mark.parametrize("batch", sorted({b for bs in SLIC_BATCHES.values() for b in bs}))
def test_slic_video(benchmark, device, batch):
    if batch not in SLIC_BATCHES[device.type]:
        pytest.skip(f"batch {batch} is not measured on {device.type}")
    feats = _features(batch, device)
    seeds, valid, step = slic_seeds((FRAMES, *SIZE), [20] * batch)
    benchmark.pedantic(
        timed(device, lambda: slic_video(feats, seeds, valid, step)), rounds=2, warmup_rounds=1
    )
    report(benchmark, batch, "slic_video", device, batch)


@pytest.mark.parametrize("batch", BATCHES[:2])
def test_slic_skimage_reference(benchmark, batch):
    """scikit-image's slic clip by clip, on the clips of simcomp's batch of the same size."""
    feats = _features(batch, torch.device("cpu"))
    benchmark.pedantic(
        timed(feats.device, lambda: slic_skimage(feats, [20] * batch)),
        rounds=2 if batch == 1 else 1,
    )
    report(benchmark, batch, "slic_skimage_reference", None, batch)
