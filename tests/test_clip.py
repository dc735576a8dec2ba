import pytest
import torch

from simcomp import Clip
from tests.helpers import assert_clips_equal, random_clip


def test_sizes(device):
    clip = random_clip(b=2, t=3, h=8, w=10, device=device)
    assert (clip.batch_size, clip.num_frames, clip.image_size, clip.num_joints) == (
        2,
        3,
        (8, 10),
        24,
    )
    assert clip.device.type == device.type
    assert len(clip) == 2


def test_wrong_shape_names_field():
    clip = random_clip()
    with pytest.raises(ValueError, match=r"person_mask: expected shape \(B, T, H, W\) with H=8"):
        clip.replace(person_mask=torch.zeros(2, 3, 9, 10, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"joints_2d: expected shape \(B, T, J, 2\)"):
        clip.replace(joints_2d=torch.zeros(2, 3, 24, 3))
    with pytest.raises(ValueError, match=r"camera_shift: expected shape \(B, T, 2\) with B=2"):
        clip.replace(camera_shift=torch.zeros(3, 3, 2))


def test_wrong_dtype_names_field():
    clip = random_clip()
    with pytest.raises(TypeError, match="person_mask: expected dtype bool, got torch.float32"):
        clip.replace(person_mask=torch.zeros(2, 3, 8, 10))
    with pytest.raises(TypeError, match="background: expected dtype float, got torch.uint8"):
        clip.replace(background=torch.zeros(2, 3, 3, 8, 10, dtype=torch.uint8))
    with pytest.raises(TypeError, match="frames: expected a torch.Tensor, got ndarray"):
        import numpy as np

        clip.replace(frames=np.zeros((2, 3, 3, 8, 10)))


def test_wrong_device_names_field():
    clip = random_clip()
    with pytest.raises(
        ValueError, match=r"person_rgb: expected device cpu \(as background\), got meta"
    ):
        clip.replace(person_rgb=torch.zeros(2, 3, 3, 8, 10, device="meta"))


def test_empty_clip_rejected():
    with pytest.raises(ValueError, match="at least one field"):
        Clip()
    with pytest.raises(ValueError, match="at least one frame"):
        Clip(background=torch.zeros(1, 0, 3, 4, 4))
    assert Clip(background=torch.zeros(0, 2, 3, 4, 4)).batch_size == 0


def test_unknown_field_and_bad_params():
    clip = random_clip()
    with pytest.raises(TypeError, match="unknown Clip fields"):
        clip.replace(colour=torch.zeros(1))
    with pytest.raises(TypeError, match="params: expected a dict"):
        clip.replace(params=[1])


def test_require_names_missing():
    with pytest.raises(ValueError, match=r"Foo needs Clip fields \['occluder'\]"):
        random_clip().require("background", "occluder", by="Foo")


def test_index_slice_cat(device):
    clip = random_clip(b=4, device=device).with_params("x", {"a": torch.arange(4, device=device)})
    one = clip[2]
    assert one.batch_size == 1
    assert torch.equal(one.background[0], clip.background[2])
    assert torch.equal(one.params["x"]["a"], torch.tensor([2], device=device))
    assert clip[-1].batch_size == 1 and torch.equal(clip[-1].background, clip.background[3:])
    picked = clip[torch.tensor([3, 0], device=device)]
    assert torch.equal(picked.joints_2d, clip.joints_2d[[3, 0]])
    back = Clip.cat([clip[:1], clip[1:3], clip[3:]])
    assert_clips_equal(back, clip)
    assert torch.equal(back.params["x"]["a"], clip.params["x"]["a"])


def test_cat_mismatched_fields():
    a = random_clip()
    b = a.replace(joints_2d=None)
    with pytest.raises(ValueError, match="clip 1 sets fields"):
        Clip.cat([a, b])
    with pytest.raises(ValueError, match="empty sequence"):
        Clip.cat([])


def test_to_moves_params():
    clip = random_clip().with_params("x", {"a": torch.zeros(2)})
    moved = clip.to("meta")
    assert moved.device.type == "meta"
    assert moved.params["x"]["a"].device.type == "meta"


def test_replace_shares_other_fields():
    clip = random_clip()
    new = clip.replace(background=torch.zeros_like(clip.background))
    assert new.person_rgb is clip.person_rgb
    assert clip.background.sum() > 0  # input not modified
