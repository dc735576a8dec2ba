"""Clips from and to torchvision's ``tv_tensors`` (needs torchvision, the 'examples' extra).

torchvision v2 users hold a video as ``tv_tensors.Video`` (..., T, C, H, W), its masks as
``tv_tensors.Mask`` and keypoints as ``tv_tensors.KeyPoints`` (..., J, 2); these convert them to
the :class:`~simcomp.Clip` fields and back. A single clip (no batch dimension) gets B = 1;
uint8 images are scaled to [0, 1].
"""

from __future__ import annotations

import torch

from .clip import IMAGE_FIELDS, Clip

MASK_FIELDS = ("person_mask", "occluder")
POINT_FIELDS = ("joints_2d", "crop_joints_2d")


def from_torchvision(**fields) -> Clip:
    """A Clip from tv_tensors (or plain tensors) named by their Clip field.

    Args:
        **fields: e.g. ``person_rgb=Video``, ``person_mask=Mask``, ``joints_2d=KeyPoints``,
            ``background=Video``; any other Clip field as a tensor. Images may be uint8
            (divided by 255); masks are made bool; a missing batch dimension is added.

    Returns:
        The Clip (its fields plain tensors).

    Example:
        >>> from torchvision import tv_tensors
        >>> video = tv_tensors.Video(torch.zeros(4, 3, 8, 8, dtype=torch.uint8))  # T, C, H, W
        >>> points = tv_tensors.KeyPoints(torch.zeros(4, 17, 2), canvas_size=(8, 8))
        >>> clip = from_torchvision(background=video, joints_2d=points)
        >>> clip.batch_size, clip.num_frames, clip.num_joints, clip.background.dtype
        (1, 4, 17, torch.float32)
    """
    ranks = {**{f: 5 for f in IMAGE_FIELDS}, **{f: 4 for f in MASK_FIELDS + POINT_FIELDS}}
    out = {}
    for name, value in fields.items():
        x = value.as_subclass(torch.Tensor) if isinstance(value, torch.Tensor) else value
        if name in ranks and isinstance(x, torch.Tensor) and x.ndim == ranks[name] - 1:
            x = x[None]
        if name in IMAGE_FIELDS and isinstance(x, torch.Tensor) and x.dtype == torch.uint8:
            x = x.float() / 255
        if name in MASK_FIELDS and isinstance(x, torch.Tensor):
            x = x.bool()
        out[name] = x
    return Clip(**out)


def to_torchvision(clip: Clip) -> dict[str, torch.Tensor]:
    """The clip's fields as tv_tensors: images as Video, masks as Mask, joints as KeyPoints.

    Other fields come back as plain tensors.

    Example:
        >>> from torchvision import tv_tensors
        >>> out = to_torchvision(Clip(background=torch.zeros(1, 2, 3, 8, 8)))
        >>> type(out["background"]).__name__
        'Video'
    """
    from torchvision import tv_tensors

    out: dict[str, torch.Tensor] = {}
    for name, x in clip.items():
        if name in IMAGE_FIELDS:
            out[name] = tv_tensors.Video(x)
        elif name in MASK_FIELDS:
            out[name] = tv_tensors.Mask(x)
        elif name in POINT_FIELDS and clip.image_size is not None:
            size = clip.image_size if name == "joints_2d" else _crop_size(clip)
            out[name] = tv_tensors.KeyPoints(x, canvas_size=size)
        else:
            out[name] = x
    return out


def _crop_size(clip: Clip) -> tuple[int, int]:
    if clip.inputs is not None:
        return tuple(clip.inputs.shape[-2:])
    return clip.image_size
