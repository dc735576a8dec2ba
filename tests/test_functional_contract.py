"""Each public kernel's contract: batched equals per sample, inputs untouched, B = 1 and B = 0."""

import pytest
import torch

import simcomp.functional as F
from tests.helpers import gen

T, H, W, J = 3, 16, 20, 24


def _sample(i: int) -> dict:
    """Sample i's tensors, each with a leading batch dim of 1 (the same i gives the same data)."""
    g = gen(100 + i)
    return {
        "rgb": torch.rand(1, T, 3, H, W, generator=g),
        "bg": torch.rand(1, T, 3, H, W, generator=g),
        "mask": torch.rand(1, T, H, W, generator=g) > 0.5,
        "depth": torch.rand(1, T, H, W, generator=g) + 1,
        "j2d": torch.rand(1, T, J, 2, generator=g) * torch.tensor([W, H]),
        "j3d": torch.rand(1, T, J, 3, generator=g) + torch.tensor([0, 0, 3.0]),
        "visible": torch.rand(1, T, J, generator=g) > 0.3,
        "shift": torch.randn(1, T, 2, generator=g),
        "scale": torch.rand(1, generator=g) * 0.2 + 0.9,
        "center": torch.tensor([[W / 2, H / 2]]),
        "focal": torch.tensor([[30.0, 30.0]]),
        "labels": torch.randint(0, 3, (1, T, H, W), generator=g),
        "u": torch.rand(1, generator=g),
        "boxes": torch.tensor([[[2.0, 1.0, 14.0, 13.0]]]).expand(1, T, 4),
        "flow": torch.randn(1, T, 2, 8, 8, generator=g),
        "occluder": torch.rand(1, T, H, W, generator=g) > 0.8,
        "coord": torch.full((1,), 5e-4),
    }


KERNELS = {
    "place_person": lambda d: F.place_person(d["rgb"], d["mask"], d["depth"], d["j2d"], d["j3d"],
                                             d["shift"], d["scale"], d["center"], d["focal"]),
    "hard_composite": lambda d: F.hard_composite(d["rgb"], d["mask"], d["bg"]),
    "connected_components": lambda d: F.connected_components(d["labels"]),
    "merge_small_components": lambda d: F.merge_small_components(
        F.connected_components(d["labels"]), torch.full((len(d["labels"]),), 30.0)),
    "in_frame": lambda d: F.in_frame(d["j2d"], (H, W)),
    "hmr_boxes": lambda d: F.hmr_boxes(d["j2d"], d["visible"], (H, W), 32),
    "to_box_coords": lambda d: F.to_box_coords(d["j2d"], d["boxes"], 32),
    "crop_boxes": lambda d: F.crop_boxes(d["rgb"], d["boxes"], 8),
    "flow_channels": lambda d: F.flow_channels(d["flow"]),
    "keypoint_heatmaps": lambda d: F.keypoint_heatmaps(d["j2d"], d["visible"], 8, 2.0),
    "slic_features": lambda d: F.slic_features(d["bg"], d["shift"], d["coord"]),
    "choose_supervoxel": lambda d: F.choose_supervoxel(d["labels"], d["u"]),
    "occlusion_kept": lambda d: F.occlusion_kept(d["mask"], d["occluder"], d["j2d"], 5.0),
    "sample_at_joints": lambda d: F.sample_at_joints(d["occluder"], d["j2d"]),
    "visibility_rules": lambda d: F.visibility_rules(d["j2d"], (H, W), d["occluder"], None,
                                                     d["j3d"], d["depth"]),
}  # fmt: skip


def _batch(indices) -> dict:
    parts = [_sample(i) for i in indices]
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


def _flat(out):
    return [x for x in (out if isinstance(out, tuple) else (out,)) if x is not None]


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_batched_equals_per_sample_and_inputs_are_untouched(name):
    kernel = KERNELS[name]
    data = _batch([0, 1, 2])
    before = {k: v.clone() for k, v in data.items()}
    batched = _flat(kernel(data))
    for k, v in data.items():
        assert torch.equal(v, before[k]), f"{name} modified its input {k}"
    for i in range(3):
        single = _flat(kernel(_batch([i])))
        for whole, one in zip(batched, single, strict=True):
            torch.testing.assert_close(whole[i : i + 1], one, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_an_empty_batch_gives_an_empty_result_or_a_clear_error(name):
    data = {k: v[:0] for k, v in _batch([0]).items()}
    try:
        out = _flat(KERNELS[name](data))
    except ValueError as err:
        assert "expected" in str(err) or "B" in str(err), err
    else:
        assert all(x.shape[0] == 0 for x in out)


def test_slic_of_an_empty_batch_is_empty():  # SPEC R6
    seeds, valid, step = F.slic_seeds((2, 8, 8), [])
    out = F.slic_video(torch.zeros(0, 2, 8, 8, 5), seeds, valid, step)
    assert out.shape == (0, 2, 8, 8)
    empty = torch.zeros(0, 2, 3, 8, 8)
    out = F.slic_compensated(empty, torch.zeros(0, 2, 2), torch.zeros(0), seeds, valid, step)
    assert out.shape == (0, 2, 8, 8)


def test_slic_names_the_input_that_holds_nan():  # SPEC R6, R7
    seeds, valid, step = F.slic_seeds((2, 8, 8), [4])
    bg, shift = torch.rand(1, 2, 3, 8, 8), torch.zeros(1, 2, 2)
    shift[0, 1, 0] = float("nan")
    with pytest.raises(ValueError, match="background, camera_shift or coord_scale: contains NaN"):
        F.slic_compensated(bg, shift, torch.ones(1), seeds, valid, step)
    with pytest.raises(ValueError, match="features: contains NaN"):
        F.slic_video(torch.full((1, 2, 8, 8, 5), float("inf")), seeds, valid, step)
