import math

import pytest
import torch

from simcomp import Clip
from simcomp.functional.visibility import occlude_sparse_frames, visibility_rules
from simcomp.joints import SMPL_LEG_JOINTS
from simcomp.transforms import Compose, KeypointVisibility, TotalOcclusion
from tests.helpers import assert_clips_equal, gen

H, W = 20, 30
NO_RANDOM = dict(p_unhide_legs=0.0, p_flip=0.0)


def _clip(device, b=1, t=2):
    j2d = torch.full((b, t, 24, 2), 10.0)
    j3d = torch.zeros(b, t, 24, 3)
    j3d[..., 2] = 3.0
    depth = torch.full((b, t, H, W), 3.0)
    return Clip(
        background=torch.zeros(b, t, 3, H, W), joints_2d=j2d, joints_3d=j3d, person_depth=depth
    ).to(device)


def test_r14_outside_frame(device):  # SPEC R14
    clip = _clip(device)
    j = clip.joints_2d.clone()
    j[0, 0, 0] = torch.tensor([-0.1, 5.0])
    j[0, 0, 1] = torch.tensor([29.9, 19.9])
    j[0, 0, 2] = torch.tensor([30.0, 5.0])
    j[0, 0, 3] = torch.tensor([5.0, 20.0])
    out = KeypointVisibility(**NO_RANDOM)(clip.replace(joints_2d=j), gen())
    assert out.visible[0, 0, :4].tolist() == [False, True, False, False]
    assert out.visible[0, 1].all()


def test_r15_occluder(device):  # SPEC R15
    clip = _clip(device)
    occ = torch.zeros(1, 2, H, W, dtype=torch.bool, device=device)
    occ[0, 1, 10, 10] = True
    j = clip.joints_2d.clone()
    j[0, 1, 5] = torch.tensor([3.0, 3.0])
    out = KeypointVisibility(**NO_RANDOM)(clip.replace(occluder=occ, joints_2d=j), gen())
    assert out.visible[0, 0].all()
    assert out.visible[0, 1].sum() == 1 and out.visible[0, 1, 5]


def test_r16_total_occlusion(device):  # SPEC R16
    tot = torch.tensor([[False, True]], device=device)
    out = KeypointVisibility(**NO_RANDOM)(_clip(device).replace(total_occlusion=tot), gen())
    assert out.visible[0, 0].all() and not out.visible[0, 1].any()


def test_r17_behind_the_body(device):  # SPEC R17
    clip = _clip(device)
    j3d = clip.joints_3d.clone()
    j3d[0, 0, 0, 2] = 3.2  # exactly 20 cm behind: hidden
    j3d[0, 0, 1, 2] = 3.19  # 19 cm: visible
    j3d[0, 0, 2, 2] = 2.5  # in front: visible
    depth = clip.person_depth.clone()
    depth[0, 1] = float("inf")  # off the body: no rule
    j3d[0, 1, 3, 2] = 50.0
    out = KeypointVisibility(**NO_RANDOM)(clip.replace(joints_3d=j3d, person_depth=depth), gen())
    assert out.visible[0, 0, :3].tolist() == [False, True, True]
    assert out.visible[0, 1].all()
    out = KeypointVisibility(behind=0.5, **NO_RANDOM)(clip.replace(joints_3d=j3d), gen())
    assert out.visible[0, 0, 0]


def test_r18_unhides_legs_after_r17(device):  # SPEC R18 (order: R17 then R18)
    clip = _clip(device)
    j3d = clip.joints_3d.clone()
    j3d[..., 2] = 4.0  # everything hidden by R17
    out = KeypointVisibility(p_unhide_legs=1.0, p_flip=0.0)(clip.replace(joints_3d=j3d), gen())
    legs = torch.zeros(24, dtype=torch.bool)
    legs[list(SMPL_LEG_JOINTS)] = True
    assert torch.equal(out.visible[0, 0].cpu(), legs)


def test_r19_flip_after_r18(device):  # SPEC R19 (order: R18 then R19)
    clip = _clip(device)
    out = KeypointVisibility(p_unhide_legs=1.0, p_flip=1.0)(clip, gen())
    assert not out.visible.any()  # all visible, then all flipped


def _binomial_ok(count, n, p, z=5.0):
    sd = math.sqrt(n * p * (1 - p))
    return abs(count - n * p) <= z * sd


def test_r18_r19_rates(device):  # SPEC R18, SPEC R19
    b = 400
    clip = _clip(device, b=b, t=4)
    out = KeypointVisibility()(clip, gen(11))
    p = out.params["keypoint_visibility"]
    assert _binomial_ok(int(p["unhide_legs"].sum()), b, 0.5)
    assert _binomial_ok(int(p["flip"].sum()), b * 4 * 24, 0.05)
    # all joints start visible, so hidden == flipped
    assert torch.equal(~out.visible, p["flip"])


def test_total_occlusion_runs(device):  # SPEC R11
    b, t = 300, 31
    clip = _clip(device, b=b, t=t)
    out = TotalOcclusion(p=0.5)(clip, gen(3))
    occ = out.total_occlusion
    applied = out.params["total_occlusion"]["applied"]
    n = occ.sum(1)
    assert (n[~applied] == 0).all()
    assert ((n[applied] >= 1) & (n[applied] <= 15)).all()
    # one consecutive run: at most one rising edge
    edges = (occ[:, 1:] & ~occ[:, :-1]).sum(1) + occ[:, 0]
    assert (edges <= 1).all()
    assert _binomial_ok(int(applied.sum()), b, 0.5)
    starts = occ.float().argmax(1)[applied]
    assert starts.min() == 0 and (starts + n[applied]).max() == t  # runs reach both ends


def test_total_occlusion_keeps_existing_and_replays(device):  # SPEC R13, R11
    clip = _clip(device, b=3, t=5)
    pre = torch.zeros(3, 5, dtype=torch.bool, device=device)
    pre[:, 0] = True
    t = TotalOcclusion(p=0.0)
    out = t(clip.replace(total_occlusion=pre), gen())
    assert torch.equal(out.total_occlusion, pre)
    chain = Compose([TotalOcclusion(p=0.7), KeypointVisibility()])
    out = chain(clip, gen(9))
    assert_clips_equal(chain(clip, params=out.params), out)
    assert_clips_equal(chain(clip, gen(9)), out)


def test_r13_sparse_frames():  # SPEC R13
    vis = torch.zeros(1, 3, 14, dtype=torch.bool)
    vis[0, 0, :7] = True
    vis[0, 1, :6] = True
    assert occlude_sparse_frames(vis).tolist() == [[False, True, True]]


def test_rules_skip_missing_inputs():
    j = torch.full((1, 1, 24, 2), 5.0)
    assert visibility_rules(j, (10, 10)).all()


def test_errors():
    with pytest.raises(ValueError, match="p_flip"):
        KeypointVisibility(p_flip=2.0)
    with pytest.raises(ValueError, match="length"):
        TotalOcclusion(length=(5, 2))
    with pytest.raises(ValueError, match=r"KeypointVisibility needs Clip fields \['joints_2d'\]"):
        KeypointVisibility()(Clip(background=torch.zeros(1, 2, 3, 4, 4)))
