"""Network inputs (R12, R22-R24): flow channels, keypoint heatmaps, the occlusion indicator."""

from __future__ import annotations

import torch

from .._checks import check_tensor

FLOW_SCALE = 20.0  # R22: flow is divided by 20 to be roughly in [-1, 1]


def flow_channels(flow: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """R22: flow (..., 2, H, W) in pixels -> (..., 3, H, W): flow / 20 and its magnitude.

    ``out`` (..., 3, H, W), when given, receives the channels (a slice of a larger input
    tensor, so they are written once).

    Example:
        >>> x = flow_channels(torch.tensor([3.0, 4.0]).view(2, 1, 1))
        >>> [round(v, 2) for v in x[:, 0, 0].tolist()]
        [0.15, 0.2, 0.25]
    """
    shape = (*flow.shape[:-3], 3, *flow.shape[-2:])
    if out is None:
        out = flow.new_empty(shape)
    else:
        check_tensor("out", out, shape, dtype="float", device=flow.device)
    scaled = torch.div(flow, FLOW_SCALE, out=out[..., :2, :, :])
    torch.hypot(scaled[..., 0, :, :], scaled[..., 1, :, :], out=out[..., 2, :, :])
    return out


def keypoint_heatmaps(
    joints: torch.Tensor,
    visible: torch.Tensor,
    size: int = 224,
    sigma: float = 10.0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """R23: one Gaussian heatmap per keypoint, 1 at the keypoint, all zero when it is hidden.

    Args:
        joints: (..., J, 2) crop pixels (x, y); pixel (i, j) has its centre at (j + 0.5, i + 0.5).
        visible: bool (..., J).
        size: heatmap side S.
        sigma: standard deviation in pixels.
        out: (..., J, S, S) to write the maps into, or None.

    Returns:
        (..., J, S, S) in [0, 1].

    Example:
        >>> maps = keypoint_heatmaps(torch.tensor([[4.5, 2.5]]), torch.tensor([True]), size=8)
        >>> maps.shape, maps[0, 2, 4].item()
        (torch.Size([1, 8, 8]), 1.0)
    """
    centres = torch.arange(size, device=joints.device, dtype=joints.dtype) + 0.5
    keep = (visible & torch.isfinite(joints).all(-1))[..., None]
    gx = torch.exp(-0.5 * ((centres - joints[..., 0:1]) / sigma) ** 2)  # (..., J, S)
    gy = torch.exp(-0.5 * ((centres - joints[..., 1:2]) / sigma) ** 2)
    gx = torch.where(keep, gx, 0.0).nan_to_num(0.0)  # hidden: all zero, on the small factor
    gy = gy.nan_to_num(0.0)
    if out is not None:
        check_tensor(
            "out", out, (*joints.shape[:-1], size, size), dtype="float", device=joints.device
        )
    return torch.mul(gy[..., :, None], gx[..., None, :], out=out)


def assemble_inputs(parts: list[torch.Tensor], occluded: torch.Tensor) -> torch.Tensor:
    """R11, R12, R24: concatenate feature channels, zero occluded frames, add the indicator.

    Args:
        parts: feature tensors (B, P, C_i, S, S) in channel order.
        occluded: bool (B, P), totally occluded pairs.

    Returns:
        (B, P, sum C_i + 1, S, S): the features (0 where occluded) then the indicator channel.

    Example:
        >>> parts = [torch.ones(1, 2, 3, 4, 4)]
        >>> x = assemble_inputs(parts, torch.tensor([[False, True]]))
        >>> x.shape, x[0, :, :3].amax((1, 2, 3)).tolist(), x[0, :, 3, 0, 0].tolist()
        (torch.Size([1, 2, 4, 4, 4]), [1.0, 0.0], [0.0, 1.0])
    """
    first = parts[0]
    out = first.new_empty(*first.shape[:2], sum(p.shape[2] for p in parts) + 1, *first.shape[3:])
    torch.cat(parts, 2, out=out[:, :, :-1])
    return mark_occluded(out, occluded)


def mark_occluded(inputs: torch.Tensor, occluded: torch.Tensor) -> torch.Tensor:
    """R11, R12, R24 in place: zero the features of occluded pairs, set the last channel.

    Shape:
        inputs (B, P, C + 1, S, S) (features, then the indicator's channel), occluded bool
        (B, P) -> inputs.

    Example:
        >>> x = mark_occluded(torch.ones(1, 2, 2, 1, 1), torch.tensor([[False, True]]))
        >>> x[0, :, :, 0, 0].tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    sizes: dict[str, int] = {}
    check_tensor("inputs", inputs, ("B", "P", None, None, None), sizes, dtype="float")
    check_tensor("occluded", occluded, ("B", "P"), sizes, dtype="bool", device=inputs.device)
    o = occluded[..., None, None, None]
    if inputs.is_cuda:  # one pass, no host sync
        inputs[:, :, :-1].masked_fill_(o, 0.0)
    else:  # the occluded pairs only (a few in a hundred), not a pass over every pair
        clip, pair = occluded.nonzero(as_tuple=True)
        inputs[clip, pair, :-1] = 0.0
    inputs[:, :, -1:].copy_(o.expand_as(inputs[:, :, -1:]))
    return inputs
