"""Total occlusion (R11-R12) and keypoint visibility randomization (R14-R19)."""

from __future__ import annotations

import torch

from .._checks import check_interval, check_range
from ..clip import Clip
from ..functional.visibility import (
    in_frame,
    occlusion_run,
    randomize_visibility,
    visibility_rules,
)
from ..joints import SMPL24, JointLayout
from .base import ClipTransform, Params


class TotalOcclusion(ClipTransform):
    """Totally occlude a run of consecutive frames of some clips (R11).

    With probability ``p`` per clip (the paper says "for some videos" without a number; 0.5 is
    our default), a run of ``length`` frames (uniform integer in the range, clipped to T) at a
    uniform start is marked in ``total_occlusion`` (ORed with any already set, e.g. by R13).
    The input assembly then zeroes every feature channel of those frames and sets the indicator
    channel (R12).

    Args:
        length: (min, max) run length in frames; the paper's runs are up to 15 frames long.
        p: probability per clip.

    Shape:
        Fills total_occlusion bool (B, T); records ``params["occluded"]`` (B,), the clips
        that got a run.
    """

    def __init__(self, length: tuple[int, int] = (1, 15), p: float = 0.5, name: str | None = None):
        super().__init__(p=p, name=name)
        self.length = check_interval("length", length, low=0)

    def generate_params(self, clip: Clip, generator: torch.Generator) -> Params:
        """``length`` long (B,) and ``start_u`` (B,) in [0, 1), mapped to a start frame."""
        b = clip.batch_size
        length = torch.randint(self.length[0], self.length[1] + 1, (b,), generator=generator)
        return {"length": length, "start_u": torch.rand(b, generator=generator)}

    def apply_transform(self, clip: Clip, params: Params) -> Clip:
        """Mark the run on the applied clips."""
        t = clip.num_frames
        length = torch.where(params["applied"], params["length"].clamp(max=t), 0)
        start = (params["start_u"] * (t - length + 1)).floor().long()
        run = occlusion_run(start, length, t)
        params["occluded"] = run.any(1)  # the outcome per clip, recorded with the draws
        if clip.total_occlusion is not None:
            run = run | clip.total_occlusion
        return clip.replace(total_occlusion=run)


class KeypointVisibility(ClipTransform):
    """Decide which keypoints the network sees, by the paper's rules in their order (R14-R19).

    Hidden when outside the frame (R14), covered by the occluder (R15), on a totally occluded
    frame (R16), or at least ``behind`` metres behind the person's depth map (R17); then with
    probability ``p_unhide_legs`` per clip all leg joints are unhidden (R18); then each joint
    flips with probability ``p_flip`` (R19). Rules whose Clip fields are missing are skipped
    (occluder, total_occlusion, joints_3d + person_depth).

    Args:
        behind: R17's threshold, metres.
        p_unhide_legs: R18's probability per clip.
        p_flip: R19's probability per joint and frame.
        layout: the joints' layout (its ``legs`` are R18's); SMPL-24 by default.
        image_size: (H, W) of the frames, for clips of joints without an image field.
        unhide_outside: R18 unhides every leg joint, also those outside the frame (the paper's
            words: "all leg keypoints"; the default). False unhides only the leg joints inside
            the frame, which a detector could report: on the built-in data the literal rule
            leaves 5.3% of the visible keypoints outside the frame, this one 1.6% (R19's flips).

    Shape:
        Needs joints_2d (B, T, J, 2) with J = len(layout); fills visible bool (B, T, J).
    """

    requires = ("joints_2d",)

    def __init__(
        self,
        behind: float = 0.20,
        p_unhide_legs: float = 0.5,
        p_flip: float = 0.05,
        layout: JointLayout = SMPL24,
        image_size: tuple[int, int] | None = None,
        unhide_outside: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(p=1.0, name=name)
        self.behind = behind
        self.p_unhide_legs = check_range("p_unhide_legs", p_unhide_legs, 0.0, 1.0)
        self.p_flip = check_range("p_flip", p_flip, 0.0, 1.0)
        self.layout = layout
        self.unhide_outside = unhide_outside
        self.image_size = None if image_size is None else (int(image_size[0]), int(image_size[1]))

    def generate_params(self, clip: Clip, generator: torch.Generator) -> Params:
        """``unhide_legs`` bool (B,) and ``flip`` bool (B, T, J)."""
        b, t, j = clip.batch_size, clip.num_frames, clip.num_joints
        return {
            "unhide_legs": torch.rand(b, generator=generator) < self.p_unhide_legs,
            "flip": torch.rand(b, t, j, generator=generator) < self.p_flip,
        }

    def apply_transform(self, clip: Clip, params: Params) -> Clip:
        """Apply R14-R17, then R18 and R19."""
        size = clip.image_size or self.image_size
        if size is None:
            raise ValueError(
                "KeypointVisibility needs the frame size for R14: give the clip an image field "
                "or pass image_size=(H, W)"
            )
        visible = visibility_rules(
            clip.joints_2d, size, clip.occluder, clip.total_occlusion, clip.joints_3d,
            clip.person_depth, self.behind,
        )  # fmt: skip
        inside = None if self.unhide_outside else in_frame(clip.joints_2d, size)
        visible = randomize_visibility(
            visible, params["unhide_legs"], params["flip"], self.layout.legs, inside
        )
        return clip.replace(visible=visible)
