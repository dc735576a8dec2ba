import pytest
import torch
import torch.nn.functional as F

from simcomp.data.humans import JOINT_RADIUS, project
from simcomp.data.synthetic import SyntheticClips, background_clips, main, person_clips
from tests.helpers import assert_clips_equal, gen

LIMB_JOINTS = [4, 5, 7, 8, 18, 19, 20, 21]  # knees, ankles, elbows, wrists


@pytest.fixture(scope="module")
def people():
    return {d: person_clips(6, 12, (120, 160), gen(1), device=d) for d in ("cpu",)}


def _at_pixel(image, joints):
    """image (B,T,H,W) sampled at the nearest pixel of joints (B,T,J,2); and in-frame mask."""
    b, t, h, w = image.shape
    px = joints.floor().long()
    inside = (px[..., 0] >= 1) & (px[..., 0] < w - 1) & (px[..., 1] >= 1) & (px[..., 1] < h - 1)
    x, y = px[..., 0].clamp(0, w - 1), px[..., 1].clamp(0, h - 1)
    bi = torch.arange(b)[:, None, None]
    ti = torch.arange(t)[None, :, None]
    return image[bi, ti, y, x], inside


def test_fields_and_shapes(device):
    clip = person_clips(2, 5, (60, 80), gen(0), device=device)
    assert clip.person_rgb.shape == (2, 5, 3, 60, 80)
    assert clip.joints_3d.shape == (2, 5, 24, 3) and clip.smpl_pose.shape == (2, 5, 72)
    assert clip.device.type == device.type
    assert clip.person_rgb.min() >= 0 and clip.person_rgb.max() <= 1
    off = ~clip.person_mask
    assert torch.isinf(clip.person_depth[off]).all() and (clip.person_rgb.sum(2)[off] == 0).all()


def test_joints_2d_are_projections(people):
    clip = people["cpu"]
    torch.testing.assert_close(
        project(clip.joints_3d, clip.focal, clip.principal_point), clip.joints_2d
    )


def test_joints_project_inside_mask(people):
    clip = people["cpu"]
    on_mask, inside = _at_pixel(clip.person_mask, clip.joints_2d)
    assert inside.sum() > 100
    assert on_mask[inside].float().mean() > 0.98


def test_depth_at_joint_visible_surface_and_self_occlusion(people):  # SPEC R17 relies on it
    clip = people["cpu"]
    depth, inside = _at_pixel(clip.person_depth, clip.joints_2d)
    z = clip.joints_3d[..., 2]
    # The surface at a joint's pixel is never behind the joint.
    assert (depth[inside] <= z[inside] + 0.02).all()
    gap = z - depth  # how far the joint is behind the surface at its pixel
    limb = inside[..., LIMB_JOINTS]
    near = gap[..., LIMB_JOINTS][limb] <= JOINT_RADIUS[LIMB_JOINTS].max() + 0.03
    assert near.float().mean() > 0.6  # most limb joints sit just under a visible surface
    assert (gap[inside] >= 0.2).any()  # and some are hidden behind the body


def test_camera_shift_aligns_frames(device):  # SPEC R2 convention on the ground truth
    clip = background_clips(3, 9, (96, 128), gen(2), device=device, moving_objects=0)
    b, t, _, h, w = clip.background.shape
    ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    pix = torch.stack((xs, ys), -1).to(device)
    # frame t sampled at p + shift[t] should equal the centre frame at p
    xy = pix + clip.camera_shift[:, :, None, None]
    grid = torch.stack((xy[..., 0] * 2 / w - 1, xy[..., 1] * 2 / h - 1), -1)
    warped = F.grid_sample(
        clip.background.reshape(b * t, 3, h, w), grid.reshape(b * t, h, w, 2), align_corners=False
    ).reshape(b, t, 3, h, w)
    centre = clip.background[:, t // 2 : t // 2 + 1]
    err = (warped - centre).abs()[..., 16:-16, 16:-16].mean()
    naive = (clip.background - centre).abs()[..., 16:-16, 16:-16].mean()
    assert err < 0.02 and naive > 3 * err
    assert clip.camera_shift[:, t // 2].abs().max() == 0
    assert clip.camera_shift.diff(dim=1).abs().max() <= 8.0 / 0.98 + 0.6  # pan + shake


def test_static_background():  # SPEC R4
    clip = background_clips(2, 5, (48, 64), gen(3), static=True)
    assert clip.camera_shift.abs().max() == 0
    still = background_clips(2, 5, (48, 64), gen(3), static=True, moving_objects=0)
    assert (still.background == still.background[:, 2:3]).all()


def test_seeds(device):
    a = person_clips(2, 3, (40, 60), gen(5), device=device)
    b = person_clips(2, 3, (40, 60), gen(5), device=device)
    c = person_clips(2, 3, (40, 60), gen(6), device=device)
    assert_clips_equal(a, b)
    assert not torch.equal(a.joints_3d, c.joints_3d)
    x = background_clips(2, 3, (40, 60), gen(5), device=device)
    y = background_clips(2, 3, (40, 60), gen(5), device=device)
    assert_clips_equal(x, y)


def test_dataset_items_are_reproducible_and_distinct():
    ds = SyntheticClips(length=3, batch_size=2, num_frames=3, size=(40, 60), seed=1)
    assert_clips_equal(ds[1], ds[1])
    assert not torch.equal(ds[0].joints_3d, ds[1].joints_3d)
    assert ds[0].background is not None and ds[0].person_mask is not None
    with pytest.raises(IndexError):
        ds[3]
    half = SyntheticClips(length=1, batch_size=1, num_frames=2, size=(40, 60), dtype=torch.float16)
    assert half[0].background.dtype == torch.float16


def test_bad_arguments():
    with pytest.raises(ValueError, match="distance"):
        person_clips(1, 2, generator=gen(), distance=(5.0, 3.0))
    with pytest.raises(ValueError, match="max_pan"):
        background_clips(1, 2, generator=gen(), max_pan=-1.0)


def test_preview_entry_point(tmp_path, capsys):
    out = tmp_path / "p.png"
    main(["--out", str(out), "--clips", "1"])
    assert out.stat().st_size > 1000 and "wrote" in capsys.readouterr().out
