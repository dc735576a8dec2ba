import pytest
import torch

from simcomp import Clip
from simcomp.data.synthetic import background_clips, merge, person_clips
from simcomp.flow import Precomputed
from simcomp.transforms import CameraTrackedComposite
from tests.helpers import assert_clips_equal, gen

STILL = dict(offset=((0.0, 0.0), (0.0, 0.0)), scale=(1.0, 1.0))


@pytest.fixture
def clip(device):
    g = gen(4)
    return merge(person_clips(2, 7, (96, 128), g), background_clips(2, 7, (96, 128), g)).to(device)


def test_person_moves_with_the_background(clip):  # SPEC R3
    out = CameraTrackedComposite(estimator=None, **STILL)(clip, gen(0))
    shift = clip.camera_shift
    # joints move by exactly the camera shift
    torch.testing.assert_close(out.joints_2d, clip.joints_2d + shift[:, :, None])

    # pixels move by the shift rounded to whole pixels: the mask's centroid follows it
    def centroid(m):
        ys, xs = torch.meshgrid(torch.arange(m.shape[-2]), torch.arange(m.shape[-1]), indexing="ij")
        n = m.sum((-2, -1)).clamp(min=1)
        return torch.stack(
            ((m * xs.to(m.device)).sum((-2, -1)) / n, (m * ys.to(m.device)).sum((-2, -1)) / n), -1
        )

    full = (clip.person_mask.sum((-2, -1)) > 50) & (
        out.person_mask.sum((-2, -1)) == clip.person_mask.sum((-2, -1))
    )
    moved = centroid(out.person_mask.float()) - centroid(clip.person_mask.float())
    assert (moved - shift)[full].abs().max() <= 0.5 + 1e-4


def test_joints_stay_on_the_mask(clip):  # SPEC R3
    out = CameraTrackedComposite()(clip, gen(1))
    h, w = out.image_size

    def in_frame(j):
        return (j[..., 0] >= 0) & (j[..., 0] < w) & (j[..., 1] >= 0) & (j[..., 1] < h)

    px = out.joints_2d.floor().long()
    inside = in_frame(px) & in_frame(clip.joints_2d)  # rendered before and after the move
    b = torch.arange(2, device=px.device)[:, None, None]
    t = torch.arange(7, device=px.device)[None, :, None]
    # within the whole-pixel rounding of the move: the mask dilated by one pixel
    near = torch.nn.functional.max_pool2d(out.person_mask.float(), 3, 1, 1) > 0
    on = near[b, t, px[..., 1].clamp(0, h - 1), px[..., 0].clamp(0, w - 1)]
    assert on[inside].float().mean() > 0.98


def test_hard_composite_no_blend(clip):  # SPEC R5
    out = CameraTrackedComposite()(clip, gen(2))
    m = out.person_mask[:, :, None]
    assert torch.equal(out.frames, torch.where(m, out.person_rgb, out.background))
    assert out.person_mask.dtype == torch.bool
    edge = torch.isfinite(out.person_depth)
    assert torch.equal(edge, out.person_mask)


def test_modes(clip):  # SPEC R4
    static = CameraTrackedComposite(mode="static", **STILL)(clip, gen(0))
    c = clip.num_frames // 2
    assert (static.background == clip.background[:, c : c + 1]).all()
    assert (static.camera_shift == 0).all()
    assert torch.equal(static.joints_2d, clip.joints_2d)
    untracked = CameraTrackedComposite(mode="untracked", estimator=None, **STILL)(clip, gen(0))
    assert torch.equal(untracked.background, clip.background)
    assert torch.equal(untracked.joints_2d, clip.joints_2d)
    assert torch.equal(untracked.camera_shift, clip.camera_shift)
    with pytest.raises(ValueError, match="mode: expected one of"):
        CameraTrackedComposite(mode="moving")


def test_placement_scale_keeps_projection(clip):
    out = CameraTrackedComposite(estimator=None, offset=((5, 5), (-3, -3)), scale=(1.2, 1.2))(
        clip, gen(0)
    )
    from simcomp.data.humans import project

    torch.testing.assert_close(
        project(out.joints_3d, out.focal, out.principal_point), out.joints_2d
    )
    near = torch.isfinite(clip.person_depth).any()
    assert (
        near and out.person_depth[out.person_mask].max() < clip.person_depth[clip.person_mask].max()
    )


def test_estimated_shift_close_to_truth(clip):  # SPEC R1, R2
    out = CameraTrackedComposite(**STILL)(clip, gen(0))
    assert (out.camera_shift - clip.camera_shift).abs().median() < 0.5


def test_replay_and_p(clip):
    t = CameraTrackedComposite(p=0.5)
    out = t(clip, gen(3))
    assert_clips_equal(t(clip, params=out.params[t.name]), out)
    big = Clip.cat([clip] * 4)
    out = CameraTrackedComposite(p=0.5, estimator=None)(big, gen(5))
    applied = out.params["camera_tracked_composite"]["applied"]
    assert 0 < applied.sum() < 8
    assert torch.equal(out.joints_2d[~applied], big.joints_2d[~applied])
    assert torch.equal(
        out.frames[~applied],
        torch.where(
            big.person_mask[~applied, :, None], big.person_rgb[~applied], big.background[~applied]
        ),
    )


def test_mismatched_person_and_background():
    g = gen(0)
    with pytest.raises(ValueError, match="person_rgb: expected shape .* with T=5"):
        merge(person_clips(1, 4, (48, 64), g), background_clips(1, 5, (48, 64), g))
    with pytest.raises(ValueError, match="person_rgb: expected shape .* with H=40"):
        merge(person_clips(1, 4, (48, 64), g), background_clips(1, 4, (40, 64), g))


def test_wrong_flow_shape(clip):
    bad = CameraTrackedComposite(estimator=Precomputed(torch.zeros(2, 3, 2)))
    with pytest.raises(ValueError, match="flow: expected motion for"):
        bad(clip.to("cpu"), gen(0))
    with pytest.raises(ValueError, match=r"needs Clip fields \['camera_shift'\]"):
        CameraTrackedComposite(estimator=None)(clip.replace(camera_shift=None), gen(0))
