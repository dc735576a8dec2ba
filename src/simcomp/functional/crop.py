"""Person crops in the HMR style (R20-R21): boxes from keypoints, paired crops."""

from __future__ import annotations

import math

import torch

from .visibility import in_frame


def hmr_boxes(
    joints_2d: torch.Tensor,
    visible: torch.Tensor | None,
    image_size: tuple[int, int],
    crop_size: int = 224,
    person_size: float = 150.0,
    sigma: float = 2.0,
) -> torch.Tensor:
    """Square boxes that centre the person and scale it to ``person_size`` px in the crop (R20).

    HMR's procedure per frame: over the visible keypoints, scale = person_size / the diagonal
    of their bounding box, centre = the box centre; the crop is ``crop_size / scale`` pixels
    wide. Frames with no visible keypoint fall back to the keypoints inside the image; frames
    with none inside take their box from their neighbours (or the clip's mean). Centres and
    log-scales are smoothed over time by a Gaussian of ``sigma``
    frames (0: none), weighting each frame by how many keypoints it used, so a frame with
    few visible keypoints leans on its neighbours (HMMR smooths video boxes too).

    Args:
        joints_2d: (B, T, J, 2) pixels.
        visible: bool (B, T, J) or None (all visible).
        image_size: (H, W).
        crop_size: output side in pixels.
        person_size: target diagonal of the keypoint box in the crop, pixels.
        sigma: temporal smoothing, frames.

    Returns:
        boxes (B, T, 4) as (x0, y0, x1, y1) in frame pixels, square.

    Example:
        >>> joints = torch.tensor([[50.0, 20.0], [50.0, 170.0]]).expand(1, 1, 2, 2)
        >>> box = hmr_boxes(joints, None, (240, 320), crop_size=224, person_size=150.0)
        >>> [round(v) for v in box[0, 0].tolist()]
        [-62, -17, 162, 207]
    """
    inside = in_frame(joints_2d, image_size)
    use = inside if visible is None else visible & inside
    use = torch.where(use.any(-1, keepdim=True), use, inside)  # frames with no keypoint in
    # the image get weight 0 below: the smoothing fills them from their neighbours
    big = torch.finfo(joints_2d.dtype).max
    lo = torch.where(use[..., None], joints_2d, big).amin(2)
    hi = torch.where(use[..., None], joints_2d, -big).amax(2)
    count = use.sum(-1).float()  # (B, T)
    ok = count > 0
    lo, hi = torch.where(ok[..., None], lo, 0.0), torch.where(ok[..., None], hi, 1.0)
    centre = (lo + hi) / 2
    diag = (hi - lo).norm(dim=-1).clamp(min=8.0)  # a single keypoint still gives a box
    log_side = torch.log(crop_size * diag / person_size)
    if sigma > 0:
        centre, log_side = _smooth(
            torch.cat((centre, log_side[..., None]), -1), count, sigma
        ).split((2, 1), -1)
        log_side = log_side[..., 0]
    half = torch.exp(log_side)[..., None] / 2
    return torch.cat((centre - half, centre + half), -1)


def _smooth(x: torch.Tensor, weight: torch.Tensor, sigma: float) -> torch.Tensor:
    """Weighted Gaussian smoothing of x (B, T, D) along T; frames of weight 0 are filled in."""
    radius = max(1, math.ceil(3 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, device=x.device) / sigma) ** 2)
    b, t, d = x.shape
    wx = (x * weight[..., None]).permute(0, 2, 1).reshape(b * d, 1, t)
    ww = weight[:, None].expand(b, d, t).reshape(b * d, 1, t)
    kern = k.view(1, 1, -1).to(x.dtype)
    num = torch.nn.functional.conv1d(torch.nn.functional.pad(wx, (radius, radius)), kern)
    den = torch.nn.functional.conv1d(torch.nn.functional.pad(ww, (radius, radius)), kern)
    mean = wx.sum(-1, keepdim=True) / ww.sum(-1, keepdim=True).clamp(min=1e-6)
    out = torch.where(den > 1e-6, num / den.clamp(min=1e-6), mean)  # no neighbour: clip mean
    return out.view(b, d, t).permute(0, 2, 1)


def to_box_coords(points: torch.Tensor, boxes: torch.Tensor, crop_size: int = 224) -> torch.Tensor:
    """Points (B, T, J, 2) in frame pixels -> pixels of the crop of boxes (B, T, 4).

    Example:
        >>> box = torch.tensor([[[10.0, 5.0, 30.0, 25.0]]])
        >>> to_box_coords(torch.tensor([[[[20.0, 15.0]]]]), box, 16)
        tensor([[[[8., 8.]]]])
    """
    scale = crop_size / (boxes[..., 2:] - boxes[..., :2])
    return (points - boxes[..., None, :2]) * scale[..., None, :]


def crop_boxes(images: torch.Tensor, boxes: torch.Tensor, crop_size: int = 224) -> torch.Tensor:
    """Crop and resize images (B, T, C, H, W) to boxes (B, T, 4) -> (B, T, C, S, S), edge-padded.

    A box's continuous extent [x0, x1) maps onto the crop's pixels, so crop pixel u (centre
    u + 0.5) samples frame position x0 + (u + 0.5) * (x1 - x0) / S, matching
    :func:`to_box_coords`.

    Example:
        >>> images = torch.rand(1, 2, 3, 40, 60)
        >>> crop_boxes(images, torch.tensor([[[10.0, 5.0, 30.0, 25.0]]]).expand(1, 2, 4), 16).shape
        torch.Size([1, 2, 3, 16, 16])
    """
    return _sample(images, _box_grid(boxes, crop_size, *images.shape[-2:]))


def _box_grid(boxes: torch.Tensor, s: int, h: int, w: int) -> torch.Tensor:
    """grid_sample's grid (B, T, S, S, 2) for boxes (B, T, 4) in frames of H x W."""
    u = torch.arange(s, device=boxes.device, dtype=boxes.dtype) + 0.5
    extent = (boxes[..., 2:] - boxes[..., :2]) / s  # (B, T, 2) frame pixels per crop pixel
    gx = (boxes[..., 0, None] + u * extent[..., 0, None]) * (2 / w) - 1  # (B, T, S)
    gy = (boxes[..., 1, None] + u * extent[..., 1, None]) * (2 / h) - 1
    return torch.stack(torch.broadcast_tensors(gx[..., None, :], gy[..., :, None]), -1)


def _sample(images: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Images (B, T, C, H, W) sampled at ``grid`` (B, T, S, S, 2) -> (B, T, C, S, S).

    One bilinear grid_sample, as kornia's crop_and_resize does after solving a perspective
    transform per box; that solve synchronised with the host on CUDA, and a box needs none.
    """
    b, t, c, h, w = images.shape
    s = grid.shape[-2]
    out = torch.nn.functional.grid_sample(
        images.reshape(b * t, c, h, w), grid.reshape(b * t, s, s, 2).to(images.dtype),
        mode="bilinear", padding_mode="border", align_corners=False,
    )  # fmt: skip
    return out.view(b, t, c, s, s)


def paired_crops(
    frames: torch.Tensor, boxes: torch.Tensor, crop_size: int = 224
) -> tuple[torch.Tensor, torch.Tensor]:
    """R21: the box of frame t cut from frame t and from frame t+1.

    Shape:
        frames (B, T, C, H, W), boxes (B, T, 4) -> two tensors (B, T-1, C, S, S).

    Example:
        >>> frames = torch.rand(1, 3, 3, 40, 60)
        >>> boxes = torch.tensor([10.0, 5.0, 30.0, 25.0]).expand(1, 3, 4)
        >>> [x.shape for x in paired_crops(frames, boxes, 16)]
        [torch.Size([1, 2, 3, 16, 16]), torch.Size([1, 2, 3, 16, 16])]
    """
    h, w = frames.shape[-2:]
    grid = _box_grid(boxes[:, :-1], crop_size, h, w)  # one grid: both crops use frame t's box
    return _sample(frames[:, :-1], grid), _sample(frames[:, 1:], grid)
