"""Keypoint visibility and total-occlusion kernels (R11-R19): pure, batched."""

from __future__ import annotations

import torch

from .._checks import check_tensor
from .._device import upload


def in_frame(joints_2d: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """R14's test: bool (..., J), the joint (..., J, 2) is finite and inside an (H, W) frame.

    Example:
        >>> in_frame(torch.tensor([[1.5, 1.5], [9.0, 1.0]]), (4, 4)).tolist()
        [True, False]
    """
    h, w = image_size
    x, y = joints_2d[..., 0], joints_2d[..., 1]
    return (x >= 0) & (x < w) & (y >= 0) & (y < h) & torch.isfinite(joints_2d).all(-1)


def sample_at_joints(
    image: torch.Tensor, joints_2d: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Values of a per-frame map at each joint's pixel, and whether the joint is in the frame.

    Args:
        image: (B, T, H, W) any dtype.
        joints_2d: (B, T, J, 2) pixels (x, y); pixel (i, j) covers [j, j+1) x [i, i+1).

    Returns:
        values (B, T, J) (undefined where outside) and inside bool (B, T, J).

    Example:
        >>> image = torch.tensor([[[[True, False]]]])
        >>> sample_at_joints(image, torch.tensor([[[[0.5, 0.5], [1.5, 0.5], [5.0, 0.0]]]]))
        (tensor([[[ True, False, False]]]), tensor([[[ True,  True, False]]]))
    """
    b, t, h, w = image.shape
    x, y = joints_2d[..., 0].floor(), joints_2d[..., 1].floor()
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h) & torch.isfinite(joints_2d).all(-1)
    flat = (y.clamp(0, h - 1) * w + x.clamp(0, w - 1)).nan_to_num(0).long()
    return image.flatten(-2).gather(-1, flat), inside


def visibility_rules(
    joints_2d: torch.Tensor,
    image_size: tuple[int, int],
    occluder: torch.Tensor | None = None,
    total_occlusion: torch.Tensor | None = None,
    joints_3d: torch.Tensor | None = None,
    person_depth: torch.Tensor | None = None,
    behind: float = 0.20,
) -> torch.Tensor:
    """The deterministic hiding rules, R14-R17; a rule whose inputs are None is skipped.

    A joint is hidden when it is outside the frame (R14), on an occluder pixel (R15), on a
    totally occluded frame (R16), or at least ``behind`` metres behind the person's depth map
    at its pixel (R17: ``joints_3d z >= person_depth + behind``).

    Args:
        joints_2d: (B, T, J, 2) pixels.
        image_size: (H, W) of the background frame.
        occluder: bool (B, T, H, W).
        total_occlusion: bool (B, T).
        joints_3d: (B, T, J, 3) camera frame, metres (z is depth).
        person_depth: (B, T, H, W) metres, +inf off the body.
        behind: R17's threshold in metres.

    Returns:
        visible bool (B, T, J).

    Example:
        >>> joints = torch.tensor([[[[1.5, 1.5], [9.0, 1.0]]]])
        >>> visibility_rules(joints, (4, 4)).tolist()
        [[[True, False]]]
    """
    visible = in_frame(joints_2d, image_size)  # R14
    if occluder is not None:  # R15
        covered, _ = sample_at_joints(occluder, joints_2d)
        visible &= ~covered
    if total_occlusion is not None:  # R16
        visible &= ~total_occlusion[..., None]
    if joints_3d is not None and person_depth is not None:  # R17
        surface, _ = sample_at_joints(person_depth, joints_2d)
        visible &= ~(joints_3d[..., 2] >= surface + behind)
    return visible


def randomize_visibility(
    visible: torch.Tensor,
    unhide_legs: torch.Tensor,
    flip: torch.Tensor,
    leg_joints: tuple[int, ...],
    unhide_only: torch.Tensor | None = None,
) -> torch.Tensor:
    """R18 then R19: unhide the leg joints of the chosen clips, then flip the chosen joints.

    Args:
        visible: bool (B, T, J).
        unhide_legs: bool (B,), clips whose leg joints become visible (R18).
        flip: bool (B, T, J), joints whose visibility is inverted afterwards (R19).
        leg_joints: indices of the leg joints in J.
        unhide_only: optional bool (B, T, J): R18 unhides only these (say, joints inside
            the frame); None unhides every leg joint, the paper's literal rule.

    Returns:
        visible bool (B, T, J).

    Example:
        >>> visible = torch.zeros(1, 1, 4, dtype=torch.bool)
        >>> flip = torch.tensor([[[False, False, False, True]]])
        >>> randomize_visibility(visible, torch.tensor([True]), flip, (0, 1)).int().tolist()
        [[[1, 1, 0, 1]]]
    """
    check_tensor("flip", flip, tuple(visible.shape), dtype="bool")
    legs = torch.zeros(visible.shape[-1], dtype=torch.bool)
    legs[list(leg_joints)] = True
    legs = upload(legs, visible.device)
    unhide = unhide_legs[:, None, None] & legs
    if unhide_only is not None:
        unhide = unhide & unhide_only
    return (visible | unhide) ^ flip


def occlusion_run(start: torch.Tensor, length: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Bool (B, T): frames ``start <= t < start + length`` (R11); length 0 gives none.

    Example:
        >>> occlusion_run(torch.tensor([1]), torch.tensor([2]), 5).tolist()
        [[False, True, True, False, False]]
    """
    t = torch.arange(num_frames, device=start.device)
    return (t >= start[:, None]) & (t < (start + length)[:, None])


def occlude_sparse_frames(visible: torch.Tensor, min_visible: int = 7) -> torch.Tensor:
    """R13: bool (B, T), frames with fewer than ``min_visible`` visible keypoints.

    Example:
        >>> visible = torch.tensor([[[True] * 9, [True] * 3 + [False] * 6]])
        >>> occlude_sparse_frames(visible, min_visible=7).tolist()
        [[False, True]]
    """
    return visible.sum(-1) < min_visible
