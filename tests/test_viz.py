import numpy as np
import pytest
import torch
from PIL import Image

from simcomp import Clip
from simcomp.viz import GREEN, RED, contact_sheet, render_frames, save_gif


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
    assert f0[5, 37].any() and not f0[10, 37].any()  # outline, not fill
    # totally occluded frame 2 is crossed out (diagonal pixels red), frame 0 is not
    assert tuple(frames[2][39, 0]) == RED and tuple(frames[0][39, 0]) == (0, 0, 0)


def test_contact_sheet_png(tmp_path):
    path = tmp_path / "sub" / "sheet.png"
    sheet = contact_sheet(_clip(), path=path, columns=2)
    assert sheet.shape == (80, 100, 3)
    assert np.array_equal(np.asarray(Image.open(path)), sheet)


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
    assert sheet.shape == (32, 96, 3)
    assert sheet[10, 32 + 10, 1] == 255 and tuple(sheet[0, 64]) == RED
    with pytest.raises(ValueError, match="kinds"):
        input_sheet(Clip(inputs=inputs[:, :, :4]))
