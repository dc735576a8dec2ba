"""What simcomp checks at the door of every transform: each bad input, each transform."""

import pytest
import torch

from simcomp import Clip
from simcomp.clip import IMAGE_FIELDS
from simcomp.data.synthetic import SyntheticClips, background_clips, merge, person_clips
from simcomp.presets import doersch2019
from simcomp.transforms import (
    CameraTrackedComposite,
    Compose,
    KeypointVisibility,
    MotionInputs,
    PersonCrop,
)
from tests.helpers import gen

IMAGES = IMAGE_FIELDS
PIPE = doersch2019(crop_size=32)
STEPS = list(PIPE.transforms)
SMPL_NAMED = {"SuperpixelOcclusion", "KeypointVisibility", "MotionInputs"}


@pytest.fixture(scope="module")
def stage_inputs():
    """What each of the preset's transforms receives on good data, and the preset's own input."""
    good = SyntheticClips(1, 2, 5, (48, 64), seed=0)[0]
    ins = [Compose(STEPS[:i])(good, gen(0)) for i in range(len(STEPS))]
    return list(zip([*STEPS, PIPE], [*ins, good], strict=True))


def _poke(clip, field, value):
    x = getattr(clip, field).clone()
    x.view(-1)[3] = value
    return clip.replace(**{field: x})


def _first_image(clip):
    return next(f for f in IMAGES if getattr(clip, f) is not None)


def _joints17(clip):
    fields = ("joints_2d", "joints_3d", "crop_joints_2d", "visible")
    return clip.replace(
        **{f: getattr(clip, f)[:, :, :17] for f in fields if getattr(clip, f) is not None}
    )


def _scale_images(clip, factor):
    return clip.replace(
        **{f: getattr(clip, f) * factor for f in IMAGES if getattr(clip, f) is not None}
    )


def _float64(clip):
    return clip.replace(**{n: v.double() for n, v in clip.items() if v.is_floating_point()})


# bad input -> (how to make it, error type, what the message must say)
BAD = {
    "0-255 images": (lambda c: _scale_images(c, 255), ValueError,
                     r"expected values in \[0, 1\], got min .* max .*divide 0-255 frames by 255"),
    "NaN pixel": (lambda c: _poke(c, _first_image(c), float("nan")), ValueError, r"NaN present"),
    "inf pixel": (lambda c: _poke(c, _first_image(c), float("inf")), ValueError, r"max inf"),
    "NaN joint": (lambda c: _poke(c, "joints_2d", float("nan")), ValueError,
                  r"joints_2d: expected finite values.*visible=False"),
    "inf joint": (lambda c: _poke(c, "joints_2d", float("inf")), ValueError,
                  r"joints_2d: expected finite"),
    "float64": (_float64, TypeError, r"expected float32 .* got torch.float64; convert with .float"),
    "empty batch": (lambda c: c[torch.zeros(c.batch_size, dtype=torch.bool)], ValueError,
                    r"at least one clip, got B=0"),
}  # fmt: skip


@pytest.mark.parametrize("bad", sorted(BAD))
@pytest.mark.parametrize(
    "index", range(len(STEPS) + 1), ids=[type(t).__name__ for t in [*STEPS, PIPE]]
)
def test_every_transform_refuses_each_bad_input(stage_inputs, bad, index):  # the contract
    transform, clip = stage_inputs[index]
    make, error, message = BAD[bad]
    with pytest.raises(error, match=message):
        transform(make(clip), gen(1))


@pytest.mark.parametrize("index", range(len(STEPS)), ids=[type(t).__name__ for t in STEPS])
def test_other_joint_layouts_work_where_no_joint_is_named(stage_inputs, index):
    transform, clip = stage_inputs[index]
    named = type(transform).__name__ in SMPL_NAMED
    if named:
        with pytest.raises(
            ValueError, match="expected 24 joints in the smpl24 layout, got 17 .*layout="
        ):
            transform(_joints17(clip), gen(1))
    else:
        out = transform(_joints17(clip), gen(1))
        assert out.num_joints == 17


def test_person_depth_may_be_inf_off_the_body_but_not_nan_or_negative():
    clip = SyntheticClips(1, 1, 3, (48, 64), seed=0)[0]
    composite = CameraTrackedComposite(estimator=None)
    clip = clip.replace(camera_shift=torch.zeros(1, 3, 2))
    assert torch.isinf(clip.person_depth).any()
    composite(clip, gen(0))  # +inf off the body: fine
    for value, says in ((float("nan"), "NaN"), (-1.0, "depths > 0")):
        with pytest.raises(ValueError, match=f"person_depth: expected .*{says}"):
            composite(_poke(clip, "person_depth", value), gen(0))


def test_values_are_checked_once_per_chain(monkeypatch):
    import simcomp._contract as contract

    calls = []
    original = contract._check_values
    monkeypatch.setattr(contract, "_check_values", lambda n, x: calls.append(n) or original(n, x))
    clip = SyntheticClips(1, 1, 5, (48, 64), seed=0)[0]
    doersch2019(crop_size=32)(clip, gen(0))
    assert sorted(calls) == sorted(n for n, v in clip.items() if v.is_floating_point())


def test_images_too_small_for_flow_are_refused():
    clip = SyntheticClips(1, 1, 3, (12, 12), seed=0)[0]
    with pytest.raises(ValueError, match="at least 16 x 16 pixels .* got 12 x 12"):
        doersch2019(crop_size=32)(clip, gen(0))


def test_estimators_by_name_or_a_clear_error():
    assert doersch2019(estimator="dis", flow="lucas-kanade") is not None
    names = r"\['auto', 'dis', 'phase', 'sparse-lk'\]"
    with pytest.raises(ValueError, match=r"estimator: expected one of " + names):
        doersch2019(estimator="raft")
    with pytest.raises(TypeError, match="flow: expected a name"):
        MotionInputs(flow=3)


def test_clip_indexing_and_frames_of_a_pairs_only_clip():
    clip = Clip(background=torch.rand(3, 2, 3, 8, 8))
    with pytest.raises(IndexError, match="index: 5 is out of range for a batch of 3"):
        clip[5]
    assert torch.equal(clip[-1].background, clip.background[2:])
    assert Clip(inputs=torch.rand(2, 4, 16, 8, 8)).num_frames is None


def test_a_person_never_in_frame_is_flagged_and_the_loss_skips_it():
    g = gen(3)
    clip = merge(person_clips(2, 4, (64, 80), g), background_clips(2, 4, (64, 80), g))
    away = clip.joints_2d.clone()
    away[1] += 1000.0  # clip 1's person is nowhere in the frame
    clip = clip.replace(joints_2d=away, visible=torch.ones(2, 4, 24, dtype=torch.bool))
    out = PersonCrop(crop_size=32)(clip, g)
    assert out.valid.tolist() == [True, False]
    hidden = clip.replace(visible=torch.zeros(2, 4, 24, dtype=torch.bool))
    assert PersonCrop(crop_size=32)(hidden, g).valid.tolist() == [False, False]  # hidden all clip


def test_visibility_keeps_the_flag():
    g = gen(4)
    clip = merge(person_clips(1, 3, (64, 80), g), background_clips(1, 3, (64, 80), g))
    out = KeypointVisibility()(PersonCrop(crop_size=32)(clip, g), g)
    assert out.valid is not None and out.valid.shape == (1,)


def test_the_preset_runs_on_coco17_keypoints_with_their_layout():
    from simcomp.joints import COCO17, SMPL24, remap

    clip = SyntheticClips(1, 2, 5, (64, 80), seed=2)[0]
    j2d, present = remap(clip.joints_2d, SMPL24, COCO17)
    j3d, _ = remap(clip.joints_3d, SMPL24, COCO17, fill=0.0)
    assert present.sum() == 12  # SMPL has no face joints: they come at -1, outside the frame
    coco = clip.replace(joints_2d=j2d, joints_3d=j3d)
    out = doersch2019(crop_size=32, layout=COCO17)(coco, gen(0))
    assert out.visible.shape == (2, 5, 17) and out.inputs.shape[2] == 16
    with pytest.raises(ValueError, match="expected 24 joints in the smpl24 layout"):
        doersch2019(crop_size=32)(coco, gen(0))
