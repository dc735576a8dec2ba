import numpy as np
import pytest
import torch

from simcomp import Clip
from simcomp.data.synthetic import background_clips, merge, person_clips
from simcomp.functional.slic import slic_seeds, slic_skimage, slic_video
from simcomp.transforms import CameraTrackedComposite, Compose, SuperpixelOcclusion
from simcomp.transforms.occlusion import slic_features
from tests.helpers import assert_clips_equal, gen


def test_r8_seed_grid_matches_skimage():  # SPEC R8
    from skimage.util import regular_grid

    for n in (10, 20, 30):
        seeds, valid, step = slic_seeds((31, 240, 320), [n])
        sl = regular_grid((31, 240, 320), n)
        axes = [np.arange(31)[sl[0]], np.arange(240)[sl[1]], np.arange(320)[sl[2]]]
        assert valid.sum() == len(axes[0]) * len(axes[1]) * len(axes[2])
        assert len(axes[0]) == 1 and (seeds[0, valid[0], 0] == 15).all()  # no seeds along time
        assert step[0] == max(s.step for s in sl)


def test_r7_features_follow_the_camera(device):  # SPEC R7
    bg = torch.rand(1, 3, 3, 4, 5, device=device)
    shift = torch.tensor([[[2.0, 1.0], [0.0, 0.0], [-3.0, 0.5]]], device=device)
    f = slic_features(bg, shift, torch.tensor([5e-4], device=device))
    assert f.shape == (1, 3, 4, 5, 5)
    torch.testing.assert_close(f[..., :3], bg.permute(0, 1, 3, 4, 2))
    # pixel (x=4, y=2) of frame 0 has coordinates (4 - 2, 2 - 1) * k
    torch.testing.assert_close(f[0, 0, 2, 4, 3:], torch.tensor([2.0, 1.0], device=device) * 5e-4)


@pytest.fixture(scope="module")
def small():
    g = gen(8)
    return merge(person_clips(2, 9, (96, 128), g), background_clips(2, 9, (96, 128), g))


def test_r6_one_labelling_per_clip(small, device):  # SPEC R6, R8
    clip = small.to(device)
    feats = slic_features(clip.background, clip.camera_shift, torch.full((2,), 5e-4, device=device))
    seeds, valid, step = slic_seeds((9, 96, 128), [12, 20])
    labels = slic_video(feats, seeds, valid, step)
    assert labels.shape == (2, 9, 96, 128) and labels.dtype == torch.long
    for i in range(2):
        assert labels[i].max() < valid[i].sum()
        per_frame = [len(torch.unique(labels[i, t])) for t in range(9)]
        assert max(per_frame) <= valid[i].sum()
        # supervoxels span the clip: most labels appear in every frame
        every = set.intersection(*[set(torch.unique(labels[i, t]).tolist()) for t in range(9)])
        assert len(every) >= 0.6 * len(torch.unique(labels[i]))


def test_r9_r10_occluder(small, device):  # SPEC R9, SPEC R10
    clip = CameraTrackedComposite(estimator=None)(small.to(device), gen(0))
    clip = Clip.cat([clip] * 4)
    out = SuperpixelOcclusion(min_visible=0)(clip, gen(1))
    occ = out.occluder
    # R9: person pixels under the occluder are removed, nothing else changes
    assert torch.equal(out.person_mask, clip.person_mask & ~occ)
    assert torch.equal(
        out.frames, torch.where(out.person_mask[:, :, None], clip.person_rgb, clip.background)
    )
    kept = occ.flatten(1).any(1)
    overlaps = (clip.person_mask & occ).flatten(1).any(1)
    assert torch.equal(kept, overlaps)  # R10: a kept occluder always overlaps the person
    # R10: an impossible joint count discards every occlusion
    none = SuperpixelOcclusion(min_visible=15)(clip, gen(1))
    assert not none.occluder.any() and torch.equal(none.person_mask, clip.person_mask)


def test_r10_no_overlap_discarded(device):  # SPEC R10
    bg = torch.zeros(1, 3, 3, 16, 16, device=device)
    bg[..., 8:] = 1.0  # two flat regions: left and right
    mask = torch.zeros(1, 3, 16, 16, dtype=torch.bool, device=device)
    mask[..., 2:6, 1:4] = True  # person on the left only
    clip = Clip(
        background=bg,
        camera_shift=torch.zeros(1, 3, 2, device=device),
        person_mask=mask,
        joints_2d=torch.full((1, 3, 24, 2), 2.0, device=device),
    )
    t = SuperpixelOcclusion(n_segments=(4, 4), min_visible=0)
    outs = [t(clip, gen(s)) for s in range(12)]
    for o in outs:
        assert o.occluder.any() == (o.person_mask.sum() < mask.sum())
    assert any(not o.occluder.any() for o in outs) and any(o.occluder.any() for o in outs)


def test_replay_and_skimage_backend(small):
    clip = CameraTrackedComposite(estimator=None)(small, gen(0))
    chain = Compose([SuperpixelOcclusion(min_visible=0)])
    out = chain(clip, gen(2))
    assert_clips_equal(chain(clip, params=out.params), out)
    sk = SuperpixelOcclusion(backend="skimage", min_visible=0)(clip[:1], gen(2))
    assert sk.occluder.shape == (1, 9, 96, 128)


@pytest.mark.xfail(
    strict=True,
    reason="torch SLIC has no connectivity pass yet: it keeps ~20 labels per frame where "
    "scikit-image merges small pieces down to ~12 (issue 10 stays open)",
)
def test_quality_against_skimage():  # SPEC R8: per-frame count and explained variation
    clip = background_clips(1, 31, generator=gen(21))
    feats = slic_features(clip.background, clip.camera_shift, torch.tensor([5e-4]))
    seeds, valid, step = slic_seeds((31, 240, 320), [20])
    ours = slic_video(feats, seeds, valid, step)[0]
    ref = slic_skimage(feats, [20])[0]

    def per_frame(lab):
        return np.mean([len(torch.unique(lab[t])) for t in range(lab.shape[0])])

    def explained(lab):
        col, lab = feats[0, ..., :3].reshape(-1, 3), lab.reshape(-1)
        cnt = torch.bincount(lab).float().clamp(min=1)
        mean = torch.zeros(len(cnt), 3).index_add_(0, lab, col) / cnt[:, None]
        return float(((mean[lab] - col.mean(0)) ** 2).sum() / ((col - col.mean(0)) ** 2).sum())

    assert 0.5 * per_frame(ref) <= per_frame(ours) <= 1.5 * per_frame(ref)
    assert explained(ours) >= explained(ref) - 0.02


def test_errors(small):
    feats = torch.zeros(1, 2, 8, 8, 5)
    seeds, valid, step = slic_seeds((2, 8, 8), [4])
    with pytest.raises(ValueError, match="compactness: expected > 0"):
        slic_video(feats, seeds, valid, step, compactness=0)
    with pytest.raises(ValueError, match="features: contains NaN"):
        slic_video(feats.clone().fill_(float("nan")), seeds, valid, step)
    with pytest.raises(ValueError, match="n_segments: expected >= 1"):
        slic_seeds((2, 8, 8), [0])
    with pytest.raises(ValueError, match="n_segments"):
        SuperpixelOcclusion(n_segments=(30, 10))
    with pytest.raises(ValueError, match="backend"):
        SuperpixelOcclusion(backend="cuda")
    with pytest.raises(ValueError, match=r"needs Clip fields \['camera_shift'\]"):
        SuperpixelOcclusion()(small.replace(camera_shift=None), gen())
