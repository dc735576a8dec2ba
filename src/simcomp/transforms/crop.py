"""Person crops and network inputs (R20-R24)."""

from __future__ import annotations

import torch

from .._device import take, upload
from .._parallel import side_by_side
from ..clip import Clip
from ..flow import MIN_FLOW_SIZE, DenseFlowEstimator, dense_flow_estimator
from ..functional.crop import crop_boxes, hmr_boxes, paired_crops, to_box_coords
from ..functional.inputs import flow_channels, keypoint_heatmaps, mark_occluded
from ..functional.visibility import in_frame
from ..joints import HEATMAP_JOINT_NAMES, SMPL24, JointLayout
from .base import ClipTransform, Params

INPUT_KINDS = ("rgb", "flow", "keypoints")
#: Crop pairs per block on the CPU (MotionInputs): 32 pairs of 224 px crops are 38 MB.
PAIRS_PER_BLOCK = 32


def input_channels(kinds: tuple[str, ...] = ("flow", "keypoints")) -> list[str]:
    """Names of the input channels, in order (R24): rgb, flow, heatmaps, then the indicator.

    Example:
        >>> input_channels(("flow",))
        ['flow_x', 'flow_y', 'flow_magnitude', 'total_occlusion']
    """
    names = []
    if "rgb" in kinds:
        names += ["red", "green", "blue"]
    if "flow" in kinds:
        names += ["flow_x", "flow_y", "flow_magnitude"]
    if "keypoints" in kinds:
        names += [f"heatmap_{n}" for n in HEATMAP_JOINT_NAMES]
    return names + ["total_occlusion"]


class PersonCrop(ClipTransform):
    """Per-frame square boxes that centre the person at ~150 px tall, HMR's way (R20).

    Boxes come from the visible keypoints of each frame (see
    :func:`simcomp.functional.crop.hmr_boxes` for the fallbacks when none is visible and the
    temporal smoothing). Fills ``boxes`` and ``crop_joints_2d``; the crops themselves are cut
    by :class:`MotionInputs`, in pairs (R21). A clip whose person never has a joint inside the
    frame (a visible one, when ``visible`` is set: so also a person hidden for the whole clip)
    gets ``valid`` False: its crops show no person, so a loss should skip its labels (the
    Motion HMR example's loss does).

    Args:
        crop_size: crop side in pixels (224).
        person_size: the person's keypoint-box diagonal in the crop (150).
        sigma: temporal smoothing of the boxes, frames (0: none).
    """

    requires = ("joints_2d",)

    def __init__(
        self, crop_size: int = 224, person_size: float = 150.0, sigma: float = 2.0, name=None
    ) -> None:
        super().__init__(p=1.0, name=name)
        self.crop_size, self.person_size, self.sigma = crop_size, person_size, sigma

    def apply_transform(self, clip: Clip, params: Params) -> Clip:
        """Boxes and joints in crop pixels."""
        if clip.image_size is None:
            raise ValueError("PersonCrop needs an image field (frames or background) for its size")
        boxes = hmr_boxes(
            clip.joints_2d, clip.visible, clip.image_size, self.crop_size, self.person_size,
            self.sigma,
        )  # fmt: skip
        seen = in_frame(clip.joints_2d, clip.image_size)
        if clip.visible is not None:
            seen &= clip.visible
        ever_seen = seen.flatten(1).any(1)
        valid = ever_seen if clip.valid is None else clip.valid & ever_seen
        return clip.replace(
            boxes=boxes, crop_joints_2d=to_box_coords(clip.joints_2d, boxes, self.crop_size),
            valid=valid,
        )  # fmt: skip


class MotionInputs(ClipTransform):
    """The network input of each paired box (R21-R24), in ``inputs`` (B, T-1, C, S, S).

    For pair t (box of frame t, cut from frames t and t+1): optional RGB of frame t's crop;
    the optical flow between the two crops, divided by 20, plus its magnitude (R22); 12
    heatmaps of frame t's keypoints, Gaussian of sigma 10 px with peak 1, zero when hidden
    (R23); then the total-occlusion indicator (R12). A pair is totally occluded when frame t or
    t+1 is: every feature channel is 0 there and the indicator 1 (R11). Channel order:
    :func:`input_channels`.

    Args:
        kinds: any of "rgb", "flow", "keypoints" (Table 1's input switches).
        flow: dense flow estimator for the crop pairs (``simcomp.flow``; a user's RAFT fits);
            "auto" is OpenCV DIS on the CPU and batched Lucas-Kanade on the GPU.
        crop_size: S.
        sigma: heatmap standard deviation, crop pixels.
        layout: the joints' layout; its 12 heatmap joints are drawn (a missing one: zeros).
    """

    @property
    def requires(self) -> tuple[str, ...]:
        """Frames and boxes; the crop joints only for heatmaps."""
        return ("frames", "boxes") + (("crop_joints_2d",) if "keypoints" in self.kinds else ())

    @property
    def joint_layout(self) -> JointLayout | None:
        """Heatmaps name joints; the other inputs take any joints."""
        return self.layout if "keypoints" in self.kinds else None

    def __init__(
        self,
        kinds: tuple[str, ...] = ("flow", "keypoints"),
        flow: DenseFlowEstimator | str = "auto",
        crop_size: int = 224,
        sigma: float = 10.0,
        layout: JointLayout = SMPL24,
        name: str | None = None,
    ) -> None:
        super().__init__(p=1.0, name=name)
        self.layout = layout
        bad = set(kinds) - set(INPUT_KINDS)
        if bad or not kinds:
            raise ValueError(f"kinds: expected a non-empty subset of {INPUT_KINDS}, got {kinds}")
        self.kinds = tuple(k for k in INPUT_KINDS if k in kinds)
        if "flow" in self.kinds and crop_size < MIN_FLOW_SIZE:
            raise ValueError(
                f"crop_size: expected at least {MIN_FLOW_SIZE} for flow inputs (the flow "
                f"estimators need it), got {crop_size}"
            )
        self.flow = dense_flow_estimator(flow)
        self.crop_size, self.sigma = crop_size, sigma

    def _crops_and_flow(self, clip: Clip, pairs: torch.Tensor, at: int) -> None:
        """Pair crops (R21) and their flow channels (R22) into ``pairs`` (B, T-1, C, S, S).

        The crops' RGB goes to channels 0-2 when ``at`` is 3, the flow to ``at``..``at + 2``.
        On CUDA the whole batch goes in one block; on the CPU a block is a run of at most
        ``PAIRS_PER_BLOCK`` pairs of one clip, so the crops are never all in memory at once
        (at batch 8, 580 MB of them) and each block crops views of the frames, not copies;
        blocks run side by side, each on one thread (:mod:`simcomp._parallel`: at batch 8,
        55-66 -> 48-50 ms a clip).
        """
        b, t, s = clip.batch_size, clip.num_frames, self.crop_size
        if clip.frames.is_cuda:
            blocks = [(slice(None), 0, t - 1)]
        else:
            run = PAIRS_PER_BLOCK
            blocks = [
                (slice(i, i + 1), k, min(k + run, t - 1))
                for i in range(b)
                for k in range(0, t - 1, run)
            ]  # fmt: skip

        def block(n: int) -> None:
            clips, k0, k1 = blocks[n]
            # frames k0..k1 and boxes k0..k1-1 make pairs k0..k1-1
            first, second = paired_crops(clip.frames[clips, k0 : k1 + 1],
                                         clip.boxes[clips, k0 : k1 + 1], s)  # fmt: skip
            rows = pairs[clips, k0:k1]  # (n, k1 - k0, C, S, S), a view
            if at:
                rows[:, :, :3] = first
            flow = self.flow(first.flatten(0, 1), second.flatten(0, 1))
            flow_channels(flow, out=rows[:, :, at : at + 3].flatten(0, 1))

        if clip.frames.is_cuda:
            block(0)
        else:  # blocks write disjoint rows: side by side, each on one thread
            side_by_side(block, len(blocks), one_thread_each=True)

    def apply_transform(self, clip: Clip, params: Params) -> Clip:
        """Crop, estimate flow, draw heatmaps, assemble."""
        b, t = clip.batch_size, clip.num_frames
        if t < 2:
            raise ValueError(f"frames: expected at least 2 frames to form a pair (R21), got {t}")
        s = self.crop_size
        channels = len(input_channels(self.kinds))
        # Every part is written once, into its channels of the one output tensor.
        out = clip.frames.new_empty(b, t - 1, channels, s, s)
        at = 0
        if "flow" in self.kinds:
            at = 3 if "rgb" in self.kinds else 0
            self._crops_and_flow(clip, out, at)
            at += 3
        elif "rgb" in self.kinds:
            out[:, :, :3] = crop_boxes(clip.frames[:, :-1], clip.boxes[:, :-1], s)
            at = 3
        if "keypoints" in self.kinds:
            where = [i or 0 for i in self.layout.heatmap12]  # a missing joint: a zero map
            joints = take(clip.crop_joints_2d[:, :-1], where, 2)
            visible = (
                take(clip.visible[:, :-1], where, 2)
                if clip.visible is not None
                else torch.ones(joints.shape[:-1], dtype=torch.bool, device=clip.device)
            )
            has = [i is not None for i in self.layout.heatmap12]
            if not all(has):
                visible = visible & upload(has, clip.device, torch.bool)
            keypoint_heatmaps(joints, visible, s, self.sigma, out=out[:, :, at : at + 12])
        occ = clip.total_occlusion
        occluded = (
            occ[:, :-1] | occ[:, 1:]
            if occ is not None
            else torch.zeros(b, t - 1, dtype=torch.bool, device=clip.device)
        )
        return clip.replace(inputs=mark_occluded(out, occluded))
