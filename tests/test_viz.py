import numpy as np
import pytest
import torch
from PIL import Image

from simcomp import Clip
from simcomp.viz import (
    GREEN,
    MAGENTA,
    RED,
    YELLOW,
    contact_sheet,
    flow_to_colour,
    render_frames,
    save_gif,
    what_happened,
)


def _clip():
    b, t, h, w = 1, 4, 40, 50
    joints = torch.full((b, t, 24, 2), 20.0)
    joints[..., 0, :] = torch.tensor([10.0, 10.0])
    joints[..., 1, :] = torch.tensor([30.0, 30.0])
    visible = torch.ones(b, t, 24, dtype=torch.bool)
    visible[..., 1] = False
    occ = torch.zeros(b, t, h, w, dtype=torch.bool)
    occ[..., 5:15, 30:45] = True
    tot = torch.tensor([[False, False, True, False]])
    return Clip(
        frames=torch.zeros(b, t, 3, h, w),
        joints_2d=joints,
        visible=visible,
        occluder=occ,
        total_occlusion=tot,
    )


def test_keypoint_colours_occluder_and_crossed_frames():
    frames = render_frames(_clip())
    f0 = frames[0]
    assert tuple(f0[10, 10]) == GREEN  # visible joint
    assert tuple(f0[30, 30]) == RED  # hidden joint
    assert tuple(f0[5, 37]) == YELLOW  # the occluder's outline
    assert 0 < f0[10, 37, 0] < YELLOW[0] and f0[10, 37, 2] == 0  # its inside: tinted, not filled
    # totally occluded frame 2 is crossed out (diagonal pixels red), frame 0 is not
    assert tuple(frames[2][39, 0]) == RED and tuple(frames[0][39, 0]) == (0, 0, 0)


def test_contact_sheet_png(tmp_path):
    path = tmp_path / "sub" / "sheet.png"
    sheet = contact_sheet(_clip(), path=path, columns=2)
    assert sheet.shape[1] == 480 and sheet.shape[0] > 80  # padded for the legend band below
    assert np.array_equal(np.asarray(Image.open(path)), sheet)
    assert contact_sheet(_clip(), columns=2, legend=False).shape == (80, 100, 3)
    assert what_happened(_clip()) == "supervoxel occlusion kept; total occlusion: frames 2-2"


def test_gif(tmp_path):
    path = save_gif(_clip(), tmp_path / "a.gif")
    assert Image.open(path).n_frames == 4


def test_errors():
    with pytest.raises(IndexError, match="index"):
        contact_sheet(_clip(), index=3)
    with pytest.raises(ValueError, match="no image field"):
        contact_sheet(Clip(camera_shift=torch.zeros(1, 2, 2)))


def test_input_sheet(tmp_path):
    from simcomp.viz import input_sheet

    inputs = torch.zeros(1, 3, 16, 32, 32)
    inputs[0, :, 0] = 0.2  # flow_x = 4 px after /20: full brightness
    inputs[0, 1, 3, 10, 10] = 1.0  # a heatmap peak
    inputs[0, 2, 15] = 1.0  # totally occluded
    sheet = input_sheet(
        Clip(inputs=inputs, total_occlusion=torch.zeros(1, 4, dtype=torch.bool)),
        path=tmp_path / "in.png",
    )
    top, left = 16, 60  # pair labels above, row labels at the left
    assert sheet.shape[1] == 480 and sheet.shape[0] > top + 2 * 32
    flow_row, heat_row = top, top + 32
    assert tuple(sheet[flow_row + 5, left + 5]) == tuple(
        flow_to_colour(np.array([[[4.0, 0]]]))[0, 0]
    )
    assert tuple(sheet[heat_row + 10, left + 32 + 10]) == MAGENTA  # pair 1's heatmap peak
    assert tuple(sheet[flow_row, left + 64]) == RED  # pair 2: totally occluded
    with pytest.raises(ValueError, match="kinds"):
        input_sheet(Clip(inputs=inputs[:, :, :4]))


def test_flow_colour_wheel():
    still = flow_to_colour(np.zeros((1, 1, 2)))
    assert tuple(still[0, 0]) == (255, 255, 255)  # no motion: white
    right = flow_to_colour(np.array([[[4.0, 0.0]]]))[0, 0]
    left = flow_to_colour(np.array([[[-4.0, 0.0]]]))[0, 0]
    # Middlebury's wheel (as flow_vis draws it): right red, left cyan, down yellow, up violet
    assert tuple(right) == (255, 0, 0) and left[0] == 0 and left[2] == 255
    down = flow_to_colour(np.array([[[0.0, 4.0]]]))[0, 0]
    assert down[0] == 255 and down[1] > 200 and down[2] == 0
    half = flow_to_colour(np.array([[[2.0, 0.0]]]))[0, 0]
    assert (half >= right).all() and half[1] > 100  # slower: paler


@pytest.mark.parametrize(
    "argv", [["-m", "simcomp.data.synthetic", "--clips", "1"],
             ["examples/gallery.py", "--frames", "5", "--size", "60", "80", "--crop-size", "32",
              "--batch", "1", "--index", "0"]],
)  # fmt: skip
def test_preview_and_gallery_run_without_warnings(tmp_path, argv):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = ["--out", str(tmp_path / ("p.png" if "-m" in argv else "g"))]
    done = subprocess.run([sys.executable, "-W", "error", *argv, *out], cwd=root,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Warning" not in done.stderr
