"""One checker for every transform (torchvision's check_transform): replay is exact, inputs are
not mutated, a batch equals its samples done one by one, p=0 is a no-op, fields keep dtype and
device; and a hypothesis property of the placement kernel."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from simcomp.data.synthetic import background_clips, merge, person_clips
from simcomp.flow import OpenCVDenseFlow
from simcomp.functional.composite import place_person
from simcomp.transforms import (
    CameraTrackedComposite,
    KeypointVisibility,
    MotionInputs,
    PersonCrop,
    SuperpixelOcclusion,
    TotalOcclusion,
)
from tests.helpers import assert_clips_equal, gen


@pytest.fixture(scope="module")
def base():
    g = gen(11)
    clip = merge(person_clips(3, 4, (48, 64), g), background_clips(3, 4, (48, 64), g))
    return CameraTrackedComposite(estimator=None)(clip, g)


def _stages():
    return [
        ("composite", lambda: CameraTrackedComposite(estimator=None), []),
        ("occlusion", lambda: SuperpixelOcclusion(min_visible=0), []),
        ("total", lambda: TotalOcclusion(p=0.7), []),
        ("visibility", lambda: KeypointVisibility(), []),
        ("crop", lambda: PersonCrop(crop_size=32, person_size=20), []),
        ("inputs", lambda: MotionInputs(flow=OpenCVDenseFlow(), crop_size=32),
         [lambda c: PersonCrop(crop_size=32, person_size=20)(c, gen())]),
    ]  # fmt: skip


@pytest.mark.parametrize("name,make,prepare", _stages(), ids=[s[0] for s in _stages()])
def test_transform_contract(base, device, name, make, prepare):
    clip = base.to(device)
    for step in prepare:
        clip = step(clip)
    before = {n: v.clone() for n, v in clip.items()}
    t = make()
    out = t(clip, gen(5))
    for n, v in clip.items():  # input not mutated
        assert torch.equal(v, before[n]), n
    for n, v in out.items():  # dtype and device kept
        assert v.device.type == device.type, n
        if getattr(clip, n) is not None:
            assert v.dtype == getattr(clip, n).dtype, n
    assert_clips_equal(t(clip, params=out.params[t.name]), out)  # exact replay
    # a batch equals its samples done one by one, with the same params
    for i in range(clip.batch_size):
        one = t(clip[i], params={k: v[i : i + 1] for k, v in out.params[t.name].items()})
        for n, v in one.items():
            torch.testing.assert_close(v, getattr(out, n)[i : i + 1], msg=f"{name}: {n}")


@pytest.mark.parametrize("make", [lambda: CameraTrackedComposite(estimator=None, p=0.0),
                                  lambda: SuperpixelOcclusion(p=0.0),
                                  lambda: TotalOcclusion(p=0.0)])  # fmt: skip
def test_p_zero_changes_nothing(base, make):
    out = make()(base, gen(1))
    for n, v in base.items():
        assert torch.equal(getattr(out, n), v), n
    if out.total_occlusion is not None and base.total_occlusion is None:
        assert not out.total_occlusion.any()
    if out.occluder is not None:
        assert not out.occluder.any()


@given(dx=st.integers(-20, 20), dy=st.integers(-12, 12))
def test_translation_moves_pixels_and_joints_alike(dx, dy):  # SPEC R3
    mask = torch.zeros(1, 1, 30, 40, dtype=torch.bool)
    mask[0, 0, 10:14, 15:18] = True
    joints = torch.tensor([[[[16.5, 12.5]]]])
    rgb = mask[:, :, None].float().expand(1, 1, 3, 30, 40)
    depth = torch.where(mask, 2.0, float("inf"))
    shift = torch.tensor([[[float(dx), float(dy)]]])
    _, m, d, j, _ = place_person(rgb, mask, depth, joints, None, shift, torch.ones(1),
                                 torch.tensor([[20.0, 15.0]]))  # fmt: skip
    expected = torch.zeros_like(mask)
    ys, xs = torch.arange(30)[:, None], torch.arange(40)[None]
    expected[0, 0] = (ys - dy >= 10) & (ys - dy < 14) & (xs - dx >= 15) & (xs - dx < 18)
    assert torch.equal(m, expected)
    assert torch.equal(torch.isfinite(d), m)
    torch.testing.assert_close(j, joints + shift[:, :, None])
    x, y = j[0, 0, 0].floor().long().tolist()
    if 0 <= x < 40 and 0 <= y < 30:
        assert m[0, 0, y, x]  # the joint still sits on its pixel
