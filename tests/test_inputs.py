import math

import pytest
import torch
import torch.nn.functional as F

from simcomp import Clip
from simcomp.data.synthetic import SyntheticClips
from simcomp.flow import LucasKanade, OpenCVDenseFlow
from simcomp.functional.crop import crop_boxes, hmr_boxes, paired_crops, to_box_coords
from simcomp.functional.inputs import assemble_inputs, flow_channels, keypoint_heatmaps
from simcomp.joints import SMPL_TO_HEATMAP12
from simcomp.presets import doersch2019
from simcomp.transforms import MotionInputs, PersonCrop, input_channels
from tests.helpers import assert_clips_equal, gen


@pytest.fixture(scope="module")
def batch():
    return SyntheticClips(length=1, batch_size=2, num_frames=5, seed=3)[0]


def test_r20_person_is_150_px_in_the_crop(device):  # SPEC R20
    b, t = 3, 4
    joints = torch.rand(b, t, 24, 2, generator=gen(1)) * torch.tensor([60.0, 120.0]) + 50
    boxes = hmr_boxes(joints.to(device), None, (240, 320), sigma=0)
    side = boxes[..., 2:] - boxes[..., :2]
    torch.testing.assert_close(side[..., 0], side[..., 1])  # square
    crop = to_box_coords(joints.to(device), boxes)
    diag = (crop.amax(2) - crop.amin(2)).norm(dim=-1)
    torch.testing.assert_close(diag, torch.full_like(diag, 150.0))
    centre = (crop.amax(2) + crop.amin(2)) / 2
    torch.testing.assert_close(centre, torch.full_like(centre, 112.0))


def test_r20_boxes_robust_to_hidden_joints_and_smoothed(device):  # SPEC R20
    joints = torch.full((1, 6, 24, 2), 100.0)
    joints[..., :12, :] -= 40
    visible = torch.ones(1, 6, 24, dtype=torch.bool)
    visible[0, 2] = False  # nothing visible: falls back to in-frame joints
    joints[0, 4] = -500.0  # out of frame entirely
    boxes = hmr_boxes(joints.to(device), visible.to(device), (240, 320), sigma=2.0)
    assert torch.isfinite(boxes).all()
    side = boxes[..., 2] - boxes[..., 0]
    assert (side.max() - side.min()) / side.mean() < 0.05  # smoothing fills frame 4


def test_crop_matches_box_coords(device):  # SPEC R20, SPEC R21
    img = torch.zeros(1, 1, 3, 100, 120, device=device)
    img[..., 40, 70] = 1.0  # pixel (x=70, y=40), centre (70.5, 40.5)
    boxes = torch.tensor([[[50.0, 20.0, 106.0, 76.0]]], device=device)  # 56 px -> 224: x4
    crop = crop_boxes(img, boxes)
    peak = crop[0, 0, 0].flatten().argmax()
    py, px = divmod(int(peak), 224)
    where = to_box_coords(torch.tensor([[[[70.5, 40.5]]]], device=device), boxes)[0, 0, 0]
    assert abs(px + 0.5 - where[0]) <= 2 and abs(py + 0.5 - where[1]) <= 2


def test_r21_pairs_cut_the_same_box(device):  # SPEC R21
    frames = torch.rand(1, 3, 3, 60, 80, generator=gen(2)).to(device)
    boxes = torch.tensor(
        [[[10.0, 5.0, 50.0, 45.0], [20.0, 5.0, 60.0, 45.0], [0, 0, 40, 40]]], device=device
    )
    first, second = paired_crops(frames, boxes, 32)
    assert first.shape == second.shape == (1, 2, 3, 32, 32)
    torch.testing.assert_close(second[:, 0], crop_boxes(frames[:, 1:2], boxes[:, :1], 32)[:, 0])
    torch.testing.assert_close(first[:, 1], crop_boxes(frames[:, 1:2], boxes[:, 1:2], 32)[:, 0])


def test_r22_flow_channels():  # SPEC R22
    flow = torch.tensor([3.0, -4.0]).view(1, 2, 1, 1).expand(1, 2, 2, 2)
    out = flow_channels(flow)
    torch.testing.assert_close(out[0, :, 0, 0], torch.tensor([0.15, -0.2, 0.25]))


def test_r23_heatmap_peak_sigma_hidden(device):  # SPEC R23
    joints = torch.tensor([[[100.5, 60.5], [10.0, 10.0]]], device=device)
    visible = torch.tensor([[True, False]], device=device)
    maps = keypoint_heatmaps(joints, visible, 224, 10.0)
    assert maps.shape == (1, 2, 224, 224)
    assert maps[0, 0, 60, 100] == 1.0 and maps[0, 0].max() == 1.0
    torch.testing.assert_close(maps[0, 0, 60, 110], torch.tensor(math.exp(-0.5), device=device))
    assert maps[0, 1].abs().sum() == 0


def test_r11_r12_r24_assembly(device):  # SPEC R11, SPEC R12, SPEC R24
    parts = [
        torch.ones(1, 3, 3, 4, 4, device=device),
        torch.full((1, 3, 12, 4, 4), 0.5, device=device),
    ]
    occluded = torch.tensor([[False, True, False]], device=device)
    out = assemble_inputs(parts, occluded)
    assert out.shape == (1, 3, 16, 4, 4)
    assert (out[0, 1, :15] == 0).all() and (out[0, 1, 15] == 1).all()
    assert (out[0, 0, 15] == 0).all() and (out[0, 0, :3] == 1).all()
    assert input_channels()[:3] == ["flow_x", "flow_y", "flow_magnitude"]
    assert len(input_channels()) == 16 and input_channels()[-1] == "total_occlusion"
    assert len(input_channels(("rgb", "flow", "keypoints"))) == 19


def _shifted_pair(seed, dx=2.5, dy=-1.5, size=96):
    from simcomp.data.synthetic import background_clips

    a = background_clips(1, 1, (size, size), generator=gen(seed), moving_objects=0).background[0]
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    grid = torch.stack(((xs - dx) * 2 / size - 1, (ys - dy) * 2 / size - 1), -1)[None]
    return a, F.grid_sample(a, grid, align_corners=False, padding_mode="border")


@pytest.mark.parametrize("estimator", [LucasKanade(), OpenCVDenseFlow()], ids=["torch", "opencv"])
def test_dense_flow_recovers_a_translation(estimator):  # SPEC R22 (the flow it encodes)
    a, b = _shifted_pair(1)
    flow = estimator(a, b)[0, :, 16:-16, 16:-16]
    assert abs(flow[0].median() - 2.5) < 0.2 and abs(flow[1].median() + 1.5) < 0.2


def test_person_crop_and_inputs_on_built_in_data(batch):  # SPEC R20-R24 together
    clip = batch.replace(frames=batch.background)
    out = PersonCrop()(clip, gen())
    crop = out.crop_joints_2d
    in_crop = (crop >= 0).all(-1) & (crop < 224).all(-1)
    j = clip.joints_2d
    in_image = (j >= 0).all(-1) & (j[..., 0] < 320) & (j[..., 1] < 240)
    assert in_crop[in_image].float().mean() > 0.95  # what is seen of the person is in its crop
    out = MotionInputs()(out, gen())
    assert out.inputs.shape == (2, 4, 16, 224, 224)
    heat = out.inputs[:, :, 3:15]
    assert heat.amax((-2, -1)).max() <= 1.0 and heat.min() >= 0
    rgb = MotionInputs(kinds=("rgb",))(PersonCrop()(clip, gen()), gen())
    assert rgb.inputs.shape == (2, 4, 4, 224, 224)


@pytest.mark.parametrize("kinds", [("flow", "keypoints"), ("rgb", "flow")])
def test_crop_pairs_in_blocks_or_at_once_alike(batch, kinds, monkeypatch):  # SPEC R21, R22
    # On the CPU the pairs go a block at a time (memory); the result is the same tensor, and
    # the same as paired_crops + the estimator on every pair at once.
    import simcomp.transforms.crop as crop_module

    clip = PersonCrop()(batch.replace(frames=batch.background), gen())
    t = MotionInputs(kinds=kinds, flow=OpenCVDenseFlow(), crop_size=48)
    monkeypatch.setattr(crop_module, "PAIRS_PER_BLOCK", 3)  # 4 pairs a clip: runs of 3 and 1
    blocks = t(clip, gen()).inputs
    monkeypatch.setattr(crop_module, "PAIRS_PER_BLOCK", 10**6)
    assert torch.equal(blocks, t(clip, gen()).inputs)
    first, second = paired_crops(clip.frames, clip.boxes, 48)
    flow = OpenCVDenseFlow()(first.flatten(0, 1), second.flatten(0, 1)).view(2, 4, 2, 48, 48)
    at = 3 if "rgb" in kinds else 0
    torch.testing.assert_close(blocks[:, :, at : at + 2], flow / 20, rtol=0, atol=0)
    if at:
        assert torch.equal(blocks[:, :, :3], first)


def test_preset_runs_replays_and_ablations(batch):  # SPEC R4 ablations through the preset
    pipe = doersch2019()
    out = pipe(batch, gen(5))
    assert out.inputs.shape == (2, 4, 16, 224, 224)
    assert set(out.params) == {t.name for t in pipe.transforms}
    assert_clips_equal(pipe(batch, params=out.params), out)
    off = doersch2019(occlusion=False, tracking=False, inputs=("keypoints",))
    assert [t.name for t in off.transforms][:2] == ["camera_tracked_composite", "total_occlusion"]
    assert off(batch, gen(5)).inputs.shape[2] == 13
    static = doersch2019(static_background=True)(batch, gen(5))
    assert (static.background == static.background[:, 2:3]).all()


def test_errors(batch):
    with pytest.raises(ValueError, match="kinds: expected a non-empty subset"):
        MotionInputs(kinds=("depth",))
    with pytest.raises(ValueError, match="window: expected an odd size"):
        LucasKanade(window=4)
    with pytest.raises(ValueError, match=r"MotionInputs needs Clip fields \['frames', 'boxes'"):
        MotionInputs()(batch, gen())
    one = Clip(
        frames=torch.zeros(1, 1, 3, 8, 8),
        boxes=torch.zeros(1, 1, 4),
        crop_joints_2d=torch.zeros(1, 1, 24, 2),
    )
    with pytest.raises(ValueError, match="at least 2 frames"):
        MotionInputs()(one, gen())
    assert SMPL_TO_HEATMAP12[0] == 8


def test_inputs_kernels_refuse_bad_outputs_at_the_door():
    # out= and mark_occluded's arguments are checked and named, not left to torch's errors.
    from simcomp.functional import flow_channels, keypoint_heatmaps, mark_occluded

    with pytest.raises(ValueError, match="out: expected shape"):
        flow_channels(torch.zeros(4, 2, 8, 8), out=torch.empty(4, 2, 8, 8))
    with pytest.raises(TypeError, match="out"):
        flow_channels(torch.zeros(4, 2, 8, 8), out=torch.empty(4, 3, 8, 8, dtype=torch.int64))
    joints, visible = torch.zeros(2, 12, 2), torch.ones(2, 12, dtype=torch.bool)
    with pytest.raises(ValueError, match="out: expected shape"):
        keypoint_heatmaps(joints, visible, 8, out=torch.empty(2, 12, 8, 9))
    with pytest.raises(ValueError, match="occluded: expected shape"):
        mark_occluded(torch.zeros(1, 3, 2, 4, 4), torch.zeros(1, 2, dtype=torch.bool))
    with pytest.raises(TypeError, match="occluded"):
        mark_occluded(torch.zeros(1, 3, 2, 4, 4), torch.zeros(1, 3))
