"""Camera-tracked compositing (R1-R5)."""

from __future__ import annotations

import torch

from .._checks import check_interval
from .._device import upload
from ..clip import Clip
from ..flow import MIN_FLOW_SIZE, CameraMotionEstimator, camera_motion_estimator, integrate_motion
from ..functional.composite import hard_composite, place_person
from .base import ClipTransform, Params, uniform

MODES = ("tracked", "untracked", "static")


class CameraTrackedComposite(ClipTransform):
    """Place the person on the background, moving it with the camera, and composite (R1-R5).

    The camera motion of the background is estimated (R1), integrated into ``camera_shift``
    referenced to the centre frame (R2), and the person is translated by it in every frame
    (R3), then composited with the hard mask (R5). A random per-clip placement (position and
    zoom) is an extra augmentation the paper does not have: off by default, on when ``offset``
    or ``scale`` are given ranges. Modes (R4, Table 2): ``"tracked"`` (the paper's pipeline);
    ``"untracked"`` (the background moves, the person is not shifted); ``"static"`` (the
    centre background frame repeated, camera_shift 0).

    Args:
        mode: "tracked", "untracked" or "static".
        estimator: camera-motion estimator (``simcomp.flow``); "auto" is OpenCV sparse
            Lucas-Kanade median flow on CPU tensors and batched phase correlation on the GPU;
            None uses the clip's own ``camera_shift`` (precomputed offline, or the built-in
            data's ground truth).
        offset: ((x min, x max), (y min, y max)) placement offset, pixels (default: none, as
            the paper; the previous default ((-40, 40), (-30, 30)) put 22% rather than 18% of
            the joints out of frame).
        scale: (min, max) placement zoom per clip (default: 1, as the paper).
        p: probability per sample (unapplied samples keep their fields; ``frames`` is then the
            untouched person over the background).
        composite: make ``frames``; False leaves them to the next step that composites (the
            preset's :class:`SuperpixelOcclusion` does, with its occluder: one composite, not
            two).

    Shape:
        Needs background (B, T, 3, H, W), person_rgb, person_mask, joints_2d; person_depth and
        joints_3d are moved too when present (depth only serves R17's behind-the-body test in
        :class:`KeypointVisibility`, which is skipped without it). Fills frames
        (B, T, 3, H, W) (unless ``composite=False``) and camera_shift (B, T, 2) and moves the
        person fields.

    Example:
        >>> import torch
        >>> from simcomp.data.synthetic import background_clips, merge, person_clips
        >>> g = torch.Generator().manual_seed(0)
        >>> clip = merge(person_clips(1, 3, (48, 64), g), background_clips(1, 3, (48, 64), g))
        >>> CameraTrackedComposite(estimator=None)(clip, g).frames.shape
        torch.Size([1, 3, 3, 48, 64])
    """

    requires = ("background", "person_rgb", "person_mask", "joints_2d")

    def __init__(
        self,
        mode: str = "tracked",
        estimator: CameraMotionEstimator | None | str = "auto",
        offset: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0)),
        scale: tuple[float, float] = (1.0, 1.0),
        p: float = 1.0,
        composite: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(p=p, name=name)
        self.composite = composite
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
        self.mode = mode
        self.estimator = camera_motion_estimator(estimator)
        self.offset = (
            check_interval("offset[0]", offset[0]),
            check_interval("offset[1]", offset[1]),
        )
        self.scale = check_interval("scale", scale, low=1e-3)

    @property
    def min_image_size(self) -> int:
        """Frames smaller than this cannot have their motion estimated."""
        return 0 if self.estimator is None else MIN_FLOW_SIZE

    def generate_params(self, clip: Clip, generator: torch.Generator) -> Params:
        """Per clip: ``offset`` (B, 2) pixels and ``scale`` (B,)."""
        b = clip.batch_size
        ox = uniform(generator, b, *self.offset[0])
        oy = uniform(generator, b, *self.offset[1])
        return {"offset": torch.stack((ox, oy), -1), "scale": uniform(generator, b, *self.scale)}

    def camera_shift(self, clip: Clip) -> torch.Tensor:
        """The integrated camera motion (B, T, 2) of the background (R1, R2)."""
        if self.estimator is None:
            clip.require("camera_shift", by=f"{type(self).__name__}(estimator=None)")
            return clip.camera_shift
        return integrate_motion(self.estimator(clip.background))

    def apply_transform(self, clip: Clip, params: Params) -> Clip:
        """Shift, place and composite; see the class docstring."""
        b, t = clip.batch_size, clip.num_frames
        h, w = clip.image_size
        applied = params["applied"]
        background = clip.background
        if self.mode == "static":
            still = background[:, t // 2 : t // 2 + 1].expand_as(background)
            background = torch.where(applied.view(b, 1, 1, 1, 1), still, background)
            shift = torch.zeros(b, t, 2, device=clip.device)
        else:
            shift = self.camera_shift(clip)
        move = (
            shift + params["offset"][:, None]
            if self.mode == "tracked"
            else params["offset"][:, None].expand(b, t, 2)
        )
        move = torch.where(applied.view(b, 1, 1), move, 0.0)
        scale = torch.where(applied, params["scale"], 1.0)
        center = (
            clip.principal_point
            if clip.principal_point is not None
            else upload([w / 2, h / 2], clip.device).expand(b, 2)
        )
        rgb, mask, depth, j2d, j3d = place_person(
            clip.person_rgb, clip.person_mask, clip.person_depth, clip.joints_2d, clip.joints_3d,
            move, scale, center, clip.focal,
        )  # fmt: skip
        return clip.replace(
            background=background,
            person_rgb=rgb,
            person_mask=mask,
            person_depth=depth,
            joints_2d=j2d,
            joints_3d=j3d,
            camera_shift=shift,
            frames=hard_composite(rgb, mask, background) if self.composite else clip.frames,
        )
