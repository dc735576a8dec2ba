"""Camera-tracked compositing kernels (R3, R5): pure, batched, no randomness."""

from __future__ import annotations

import torch

from .. import cpu_kernels
from .._checks import check_tensor


def place_person(
    rgb: torch.Tensor,
    mask: torch.Tensor,
    depth: torch.Tensor | None,
    joints_2d: torch.Tensor,
    joints_3d: torch.Tensor | None,
    shift: torch.Tensor,
    scale: torch.Tensor,
    center: torch.Tensor,
    focal: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor | None]:
    """Scale the person about ``center`` then translate it by ``shift`` per frame.

    Pixel fields are resampled by nearest neighbour (one gather; on the CPU one pass of a
    numba kernel, :func:`simcomp.cpu_kernels.place_pixels`), so the mask stays binary and
    nothing is blurred (R3, R5); off-image pixels become empty (mask False, depth +inf,
    rgb 0). Joints move by exactly ``c + scale * (j - c) + shift``. A zoom by ``scale`` is
    the person coming ``scale`` times closer: depth and the joints' z are divided by it and
    the joints' x, y follow so they still project onto ``joints_2d``.

    Args:
        rgb: (B, T, 3, H, W).
        mask: bool (B, T, H, W).
        depth: (B, T, H, W) metres, or None (then None comes back: the composite itself never
            needs depth; it moves with the person for R17's behind-the-body test).
        joints_2d: (B, T, J, 2) pixels.
        joints_3d: (B, T, J, 3) camera frame, or None.
        shift: (B, T, 2) pixels (x, y) per frame.
        scale: (B,) zoom factor per clip.
        center: (B, 2) the fixed point of the zoom (the principal point).
        focal: (B, 2) focal lengths, needed with ``joints_3d``.

    Returns:
        rgb, mask, depth, joints_2d, joints_3d moved.

    Example:
        >>> rgb, mask = torch.ones(1, 1, 3, 4, 4), torch.zeros(1, 1, 4, 4, dtype=torch.bool)
        >>> mask[..., 0, 0] = True
        >>> out = place_person(rgb, mask, None, torch.tensor([[[[0.5, 0.5]]]]), None,
        ...     torch.tensor([[[2.0, 1.0]]]), torch.ones(1), torch.tensor([[2.0, 2.0]]))
        >>> out[1][0, 0].nonzero().tolist(), out[3][0, 0, 0].tolist()
        ([[1, 2]], [2.5, 1.5])
    """
    b, t, _, h, w = rgb.shape
    sizes: dict[str, int] = {}
    check_tensor("shift", shift, (b, t, 2), sizes, dtype="float")
    check_tensor("scale", scale, (b,), dtype="float")
    new_rgb, new_mask, new_depth = _moved_pixels(rgb, mask, depth, shift, scale, center)
    s = scale.view(b, 1, 1)
    c = center.view(b, 1, 2)
    new_j2d = c[:, :, None] + s[..., None] * (joints_2d - c[:, :, None]) + shift[:, :, None]
    new_j3d = None
    if joints_3d is not None:
        if focal is None:
            raise ValueError("focal: required to move joints_3d consistently, got None")
        z = joints_3d[..., 2:] / s[..., None]
        xy = (new_j2d - c[:, :, None]) / focal.view(b, 1, 1, 2) * z
        new_j3d = torch.cat((xy, z), -1)
    return new_rgb, new_mask, new_depth, new_j2d, new_j3d


def _moved_pixels(rgb, mask, depth, shift, scale, center):
    """place_person's resampling of the pixel fields: rgb, mask, depth (or None)."""
    fields = (rgb, shift, scale, center) + ((depth,) if depth is not None else ())
    if cpu_kernels.available(rgb) and all(x.dtype == torch.float32 for x in fields):
        return cpu_kernels.place_pixels(rgb, mask, depth, shift, scale, center)
    b, t, _, h, w = rgb.shape
    dev = rgb.device
    ys = torch.arange(h, device=dev, dtype=torch.float32) + 0.5
    xs = torch.arange(w, device=dev, dtype=torch.float32) + 0.5
    s = scale.view(b, 1, 1, 1)
    # Source pixel of each output pixel: inverse of p -> c + s (p - c) + shift.
    cx, cy = center[:, 0].view(b, 1, 1, 1), center[:, 1].view(b, 1, 1, 1)
    sx = ((xs.view(1, 1, 1, w) - cx - shift[..., 0, None, None]) / s + cx).floor().long()
    sy = ((ys.view(1, 1, h, 1) - cy - shift[..., 1, None, None]) / s + cy).floor().long()
    valid = ((sx >= 0) & (sx < w)) & ((sy >= 0) & (sy < h))  # one full-size pass, not three
    flat = (sy.clamp(0, h - 1) * w + sx.clamp(0, w - 1)).flatten(2)  # (B, T, H*W)
    new_mask = _gather_pixels(mask, flat) & valid
    # The gathered copies are the results, edited in place: no other full-size temporaries.
    new_depth = None
    if depth is not None:
        new_depth = _gather_pixels(depth, flat).div_(s)
        new_depth.masked_fill_(~new_mask, float("inf"))
    new_rgb = _gather_pixels(rgb, flat).mul_(new_mask[:, :, None])
    return new_rgb, new_mask, new_depth


def _gather_pixels(x: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
    """X (B, T, [C,] H, W) at flat pixel indices (B, T, H*W) -> same shape as x."""
    index = flat if x.ndim == 4 else flat[:, :, None].expand(*x.shape[:3], flat.shape[-1])
    return x.flatten(-2).gather(-1, index).view(x.shape)


def hard_composite(
    person_rgb: torch.Tensor, person_mask: torch.Tensor, background: torch.Tensor
) -> torch.Tensor:
    """Person over background with a hard mask: every pixel is one or the other (R5).

    Shape:
        person_rgb, background (B, T, 3, H, W); person_mask bool (B, T, H, W) -> (B, T, 3, H, W).

    Example:
        >>> rgb, bg = torch.ones(1, 1, 3, 1, 2), torch.zeros(1, 1, 3, 1, 2)
        >>> hard_composite(rgb, torch.tensor([[[[True, False]]]]), bg)[0, 0, 0].tolist()
        [[1.0, 0.0]]
    """
    check_tensor("person_mask", person_mask, (None, None, None, None), dtype="bool")
    return torch.where(person_mask[:, :, None], person_rgb, background)
