"""Supervoxel occlusion on plain tensors (R7, R9, R10): features, the choice, the test."""

from __future__ import annotations

import torch

from .._checks import check_tensor
from .visibility import sample_at_joints


def slic_features(
    background: torch.Tensor, camera_shift: torch.Tensor, coord_scale: torch.Tensor
) -> torch.Tensor:
    """R7's features (B, T, H, W, 5): colour, then (x, y) minus the frame's camera shift, scaled.

    Args:
        background: (B, T, 3, H, W).
        camera_shift: (B, T, 2) integrated camera motion (R2).
        coord_scale: (B,) the per-clip scalar, drawn from [4e-4, 6e-4] (R7).

    Example:
        >>> f = slic_features(torch.zeros(1, 2, 3, 4, 5), torch.zeros(1, 2, 2), torch.ones(1))
        >>> f.shape, f[0, 0, 3, 4, 3:].tolist()
        (torch.Size([1, 2, 4, 5, 5]), [4.0, 3.0])
    """
    b, t, _, h, w = background.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, device=background.device, dtype=torch.float32),
        torch.arange(w, device=background.device, dtype=torch.float32),
        indexing="ij",
    )
    k = coord_scale.view(b, 1, 1, 1)
    x = (xs - camera_shift[..., 0, None, None]) * k
    y = (ys - camera_shift[..., 1, None, None]) * k
    return torch.cat((background.permute(0, 1, 3, 4, 2), x[..., None], y[..., None]), -1)


def choose_supervoxel(
    labels: torch.Tensor, pick_u: torch.Tensor, count: torch.Tensor | None = None
) -> torch.Tensor:
    """One supervoxel per clip, uniformly among those present, as a mask (R9).

    The m-th present label with m = floor(u * number present): a uniform choice made on the
    labels' device from a uniform draw ``u``, with no host sync.

    Args:
        labels: long (B, T, H, W), ids below T * H * W.
        pick_u: (B,) uniform draws in [0, 1).
        count: (B,) the number of labels per clip where they are known to be exactly 0, 1,
            ..., count - 1 (as :func:`~simcomp.functional.slic_video`'s with connectivity):
            the m-th is then m, and finding which labels are present (a scatter over every
            pixel, 4-5 ms a 31 x 240 x 320 clip on 2 cores) is skipped. None: found.

    Returns:
        occluder bool (B, T, H, W).

    Example:
        >>> labels = torch.tensor([[[[0, 0, 3, 3]]]])
        >>> choose_supervoxel(labels, torch.tensor([0.75])).int().tolist()
        [[[[0, 0, 1, 1]]]]
    """
    b = labels.shape[0]
    if count is not None:
        check_tensor("count", count, (b,), dtype="int", device=labels.device)
        chosen = (pick_u * count).floor().long()
        return labels == chosen.view(b, 1, 1, 1)
    if not labels.numel():
        k, parts = 1, 1
    elif labels.is_cuda:  # ids are below T * H * W; their largest would make the host wait
        k, parts = labels[0].numel(), 1
    else:  # on the CPU the largest id bounds them at no cost, and the marks go in 4 parts
        k, parts = int(labels.max()) + 1, 4 if labels[0].numel() % 4 == 0 else 1
    present = torch.zeros(b * parts, k, dtype=torch.bool, device=labels.device)
    present.scatter_(1, labels.reshape(b * parts, labels[0].numel() // parts if b else 0), True)
    present = present.view(b, parts, k).any(1)
    m = (pick_u * present.sum(1)).floor().long()
    rank = present.long().cumsum(1) - 1
    chosen = ((rank == m[:, None]) & present).float().argmax(1)
    return labels == chosen.view(b, 1, 1, 1)


def occlusion_kept(
    person_mask: torch.Tensor, occluder: torch.Tensor, joints: torch.Tensor, min_visible: float
) -> torch.Tensor:
    """R10: keep an occluder that touches the person and leaves enough joints in sight.

    Args:
        person_mask: bool (B, T, H, W).
        occluder: bool (B, T, H, W).
        joints: (B, T, J, 2) pixels, the evaluation joints (LSP-14, or those a layout has).
        min_visible: the least mean number per frame of joints inside the frame and off the
            occluder.

    Returns:
        bool (B,).

    Example:
        >>> mask = torch.ones(1, 1, 4, 4, dtype=torch.bool)
        >>> occ = torch.zeros_like(mask); occ[..., 0, 0] = True
        >>> joints = torch.tensor([[[[0.5, 0.5], [2.5, 2.5]]]])
        >>> [occlusion_kept(mask, occ, joints, least).item() for least in (1.0, 2.0)]
        [True, False]
    """
    overlaps = (person_mask & occluder).flatten(1).any(1)
    covered, inside = sample_at_joints(occluder, joints)
    mean_visible = (inside & ~covered).sum(-1).float().mean(-1)
    return overlaps & (mean_visible >= min_visible)
