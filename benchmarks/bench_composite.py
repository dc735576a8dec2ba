import pytest
import torch

from benchmarks.conftest import BATCHES, FRAMES, SIZE, report, timed
from simcomp.data.synthetic import background_clips, merge, person_clips
from simcomp.flow import OpenCVFlowMedian
from simcomp.transforms import CameraTrackedComposite


def _clip(batch, device):
    g = torch.Generator().manual_seed(0)
    return merge(person_clips(batch, FRAMES, SIZE, g), background_clips(batch, FRAMES, SIZE, g)).to(
        device
    )


@pytest.mark.parametrize("batch", BATCHES)
def test_camera_tracked_composite(benchmark, device, batch):
    clip, t, g = _clip(batch, device), CameraTrackedComposite(), torch.Generator().manual_seed(0)
    benchmark.pedantic(timed(device, lambda: t(clip, g)), rounds=3, warmup_rounds=1)
    report(benchmark, batch, "camera_tracked_composite", device, batch)


@pytest.mark.parametrize("batch", BATCHES[:2])
def test_camera_tracked_composite_opencv_reference(benchmark, batch):
    clip = _clip(batch, torch.device("cpu"))
    t, g = CameraTrackedComposite(estimator=OpenCVFlowMedian()), torch.Generator().manual_seed(0)
    benchmark.pedantic(timed(clip.device, lambda: t(clip, g)), rounds=2, warmup_rounds=0)
    report(benchmark, batch, "camera_tracked_composite_opencv_reference", None, batch)
