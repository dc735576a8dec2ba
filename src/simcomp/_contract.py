"""What a Clip's values must be when it enters a transform: checked once, at the door.

:class:`~simcomp.Clip` checks shapes, dtypes and devices whenever one is made; this module
checks the values, which costs a pass over the data, so it runs once per call chain: when a
clip enters a transform (or a :class:`~simcomp.transforms.Compose`) from outside. Clips that a
transform returns are marked as checked and pass the next transform's door for free.

On the CPU a bad value raises a ValueError that names the field, what was expected, what came
and how to fix it. On CUDA the same test runs as a device-side assertion (no host sync): it
stops the process at the next synchronisation with the same message.

The contract, per field (README, "What simcomp checks"):

- images (background, person_rgb, frames): float32, float16 or bfloat16 in [0, 1]; no NaN.
- person_depth: metres > 0, +inf off the body; no NaN.
- every other float field (joints, camera_shift, boxes, SMPL, intrinsics, inputs): finite.
  No field holds NaN as "missing": a joint that is missing is ``visible=False`` with finite
  coordinates (0 will do).
- a batch of at least one clip; as many joints as the layout of a transform that names joints;
  images of at least 16 x 16 pixels where motion or flow is estimated.
"""

from __future__ import annotations

import torch

from .clip import IMAGE_FIELDS, Clip
from .joints import JointLayout

POSITIVE = ("person_depth",)
LOW_PRECISION = (torch.float32, torch.float16, torch.bfloat16)
TOLERANCE = 1e-3  # interpolation may overshoot [0, 1] by rounding

_CHECKED = "_simcomp_values_checked"


def mark_checked(clip: Clip) -> Clip:
    """Mark a clip whose values a transform produced (or checked) as meeting the contract."""
    object.__setattr__(clip, _CHECKED, True)
    return clip


def check_clip(clip: Clip, by: str, layout: JointLayout | None = None, min_size: int = 0) -> None:
    """Check the batch size, the joint layout and (once per clip) the values.

    Args:
        clip: the clip entering a transform.
        by: who checks (named in messages).
        layout: the joint layout the transform names joints by (None: any joints).
        min_size: the smallest image side the transform takes.

    Raises:
        ValueError: an empty batch, a joint count other than the layout's, or a value outside
            the contract (on the CPU).
        TypeError: float64 images.
    """
    if clip.batch_size == 0:
        raise ValueError(
            f"{by}: expected a batch of at least one clip, got B=0; skip empty batches"
        )
    if layout is not None and clip.num_joints is not None and clip.num_joints != len(layout):
        raise ValueError(
            f"{by}: expected {len(layout)} joints in the {layout.name} layout, got "
            f"{clip.num_joints} joints; pass layout= (simcomp.joints.COCO17, COCO18, LSP14, or "
            "JointLayout.from_names(...)) for other keypoints"
        )
    if clip.image_size is not None and min(clip.image_size) < min_size:
        raise ValueError(
            f"{by}: expected images of at least {min_size} x {min_size} pixels (the flow "
            f"estimators need them), got {clip.image_size[0]} x {clip.image_size[1]}"
        )
    if getattr(clip, _CHECKED, False):
        return
    for name, value in clip.items():
        if value.is_floating_point():
            _check_values(name, value)
    mark_checked(clip)


def _check_values(name: str, x: torch.Tensor) -> None:
    if name in IMAGE_FIELDS and x.dtype not in LOW_PRECISION:
        raise TypeError(
            f"{name}: expected float32 (or float16 / bfloat16) images, got {x.dtype}; "
            "convert with .float()"
        )
    if x.numel() == 0:
        return
    lo, hi = x.detach().aminmax()  # NaN propagates into both
    if name in IMAGE_FIELDS:
        ok = (lo >= -TOLERANCE) & (hi <= 1 + TOLERANCE)
        want = "values in [0, 1]"
        fix = "images are floats in [0, 1]: divide 0-255 frames by 255"
    elif name in POSITIVE:
        ok = (lo > 0) & ~torch.isnan(hi)
        want = "depths > 0 (+inf off the body) and no NaN"
        fix = "set pixels off the body to +inf"
    else:
        ok = torch.isfinite(lo) & torch.isfinite(hi)
        want = "finite values"
        fix = ("mark missing joints with visible=False and give them finite coordinates "
               "(outside the frame, say -1, keeps them out of the crop boxes)")  # fmt: skip
    if x.device.type != "cpu":
        torch._assert_async(ok, f"{name}: expected {want}; {fix}")
    elif not bool(ok):
        nan = " (NaN present)" if bool(torch.isnan(lo)) else ""
        got = f"min {lo.item():g}, max {hi.item():g}{nan}"
        raise ValueError(f"{name}: expected {want}, got {got}; {fix}")
