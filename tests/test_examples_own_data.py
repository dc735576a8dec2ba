"""simcomp in your own trainer: plain tensors, COCO-17 keypoints, no depth (issue 16's check)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_plain_tensors_example_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, "-W", "error", "examples/own_data.py", str(tmp_path / "o.png")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'visible': (2, 8, 17)" in done.stdout and (tmp_path / "o.png").exists()


def test_data_depends_on_no_transform():  # layering: data/ -> clip, joints, _random only
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in (ROOT / "src/simcomp/data").glob("*.py")
        for line in path.read_text().splitlines()
        if line.lstrip().startswith(("from ..transforms", "import simcomp.transforms"))
    ]
    assert offenders == []


def test_torchvision_tv_tensors_round_trip():
    import pytest

    tv = pytest.importorskip("torchvision.tv_tensors")
    import torch

    from simcomp.interop import from_torchvision, to_torchvision
    from simcomp.joints import COCO17
    from simcomp.transforms import KeypointVisibility

    video = tv.Video(torch.randint(0, 255, (5, 3, 24, 32), dtype=torch.uint8))
    points = tv.KeyPoints(torch.rand(5, 17, 2) * 20, canvas_size=(24, 32))
    clip = from_torchvision(background=video, joints_2d=points)
    assert clip.background.max() <= 1 and clip.joints_2d.shape == (1, 5, 17, 2)
    out = to_torchvision(KeypointVisibility(layout=COCO17)(clip, torch.Generator().manual_seed(0)))
    assert isinstance(out["background"], tv.Video) and isinstance(out["joints_2d"], tv.KeyPoints)
    assert out["joints_2d"].canvas_size == (24, 32) and out["visible"].shape == (1, 5, 17)
