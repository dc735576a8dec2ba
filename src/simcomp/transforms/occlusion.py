"""Motion-compensated SLIC occlusion (R6-R10)."""

from __future__ import annotations

import torch

from .._checks import check_interval
from .._device import take
from ..clip import Clip
from ..flow import CameraMotionEstimator, camera_motion_estimator, integrate_motion
from ..functional.composite import hard_composite
from ..functional.occlusion import choose_supervoxel, occlusion_kept, slic_features
from ..functional.slic import check_downsample, slic_compensated, slic_seeds, slic_skimage
from ..joints import SMPL24, JointLayout
from .base import ClipTransform, Params, uniform

BACKENDS = ("torch", "skimage")


class SuperpixelOcclusion(ClipTransform):
    """Occlude the person with one motion-compensated SLIC supervoxel of the background (R6-R10).

    SLIC runs once per clip over all its frames (R6) on the background's colours plus its
    camera-compensated pixel coordinates times a per-clip scalar (R7), compactness 0.01 and
    ``n_segments`` drawn per clip for the whole clip (R8). One supervoxel present in the
    labelling is chosen uniformly (a uniform draw mapped on the device); every person pixel it
    covers is removed from ``person_mask`` (R9). The occlusion is discarded (``occluder`` all
    False, person untouched) when the supervoxel misses the person, or when fewer than
    ``min_visible`` of the 14 evaluation joints per frame stay in frame and off the occluder
    on average (R10). ``frames`` is (re)composited whenever the clip has ``person_rgb``. The
    outcome per clip is recorded as ``params["kept"]`` (the paper's rate is about 30% of clips
    occluded).

    Args:
        n_segments: (min, max) supervoxels per clip (R8: 10-30).
        coord_scale: (min, max) of R7's coordinate scalar.
        compactness: SLIC compactness (R8: 0.01).
        min_visible: R10's mean visible joints per frame.
        backend: "torch" (batched, any device) or "skimage" (scikit-image's ``slic`` per clip on
            the CPU, the paper's exact occluders).
        downsample: the torch backend's sampling step for all but SLIC's first and last
            k-means iterations (``slic_video``'s; None: its choice, 3 at the paper's sizes). 1
            runs k-means on the pixels as scikit-image does: labels that agree with
            scikit-image's at adjusted Rand index 0.95-0.99 on clips of real photos (0.92-0.97
            sampled by 3), at about 2x SLIC's time.
        layout: the joints' layout; R10 counts those of its 14 evaluation joints it has.
        estimator: camera-motion estimator (or its name) for clips without ``camera_shift``
            (:class:`CameraTrackedComposite` makes one; otherwise it is estimated here).
        p: probability per clip.

    Shape:
        Needs background (B, T, 3, H, W), person_mask, joints_2d; camera_shift (B, T, 2) if
        present, else estimated;
        fills occluder bool (B, T, H, W), masks person_mask, and fills frames (B, T, 3, H, W)
        when the clip has person_rgb.
    """

    requires = ("background", "person_mask", "joints_2d")

    def __init__(
        self,
        n_segments: tuple[int, int] = (10, 30),
        coord_scale: tuple[float, float] = (4e-4, 6e-4),
        compactness: float = 0.01,
        min_visible: float = 7.0,
        backend: str = "torch",
        downsample: int | None = None,
        layout: JointLayout = SMPL24,
        estimator: CameraMotionEstimator | str = "auto",
        p: float = 1.0,
        name: str | None = None,
    ) -> None:
        super().__init__(p=p, name=name)
        self.n_segments = check_interval("n_segments", n_segments, low=1)
        self.coord_scale = check_interval("coord_scale", coord_scale, low=0)
        if compactness <= 0:
            raise ValueError(f"compactness: expected > 0, got {compactness}")
        if backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
        self.compactness, self.min_visible, self.backend = compactness, min_visible, backend
        self.downsample = check_downsample(downsample)
        self.layout = layout
        self.estimator = camera_motion_estimator(estimator)

    def generate_params(self, clip: Clip, generator: torch.Generator) -> Params:
        """Per clip: n_segments, coord_scale, pick_u and the seed grid (seeds, seed_valid, step)."""
        b = clip.batch_size
        n = torch.randint(self.n_segments[0], self.n_segments[1] + 1, (b,), generator=generator)
        h, w = clip.image_size
        seeds, valid, step = slic_seeds((clip.num_frames, h, w), n.tolist())  # CPU, shapes only
        return {
            "n_segments": n,
            "coord_scale": uniform(generator, b, *self.coord_scale),
            "pick_u": torch.rand(b, generator=generator),
            "seeds": seeds,
            "seed_valid": valid,
            "step": step,
        }

    def labels(self, clip: Clip, params: Params) -> torch.Tensor:
        """The supervoxel labelling (B, T, H, W) of each clip."""
        shift = clip.camera_shift
        if shift is None:  # estimated here when no composite step made it
            shift = integrate_motion(self.estimator(clip.background))
        if self.backend == "skimage":
            feats = slic_features(clip.background, shift, params["coord_scale"])
            return slic_skimage(feats, params["n_segments"].tolist(), self.compactness)
        return slic_compensated(
            clip.background, shift, params["coord_scale"], params["seeds"],
            params["seed_valid"], params["step"], self.compactness, self.downsample,
        )  # fmt: skip

    def apply_transform(self, clip: Clip, params: Params) -> Clip:
        """Label, choose, mask, and discard where R10 says so."""
        labels = self.labels(clip, params)
        b = clip.batch_size
        count = None
        if self.backend == "torch" and labels.numel():  # labels 0 .. n - 1: the largest gives n
            count = labels.flatten(1).amax(1) + 1
        occluder = choose_supervoxel(labels, params["pick_u"], count)
        masked = clip.person_mask & ~occluder
        j14 = take(clip.joints_2d, [i for i in self.layout.eval14 if i is not None], -2)
        keep = occlusion_kept(clip.person_mask, occluder, j14, self.min_visible)
        keep = keep & params["applied"]
        params["kept"] = keep  # what R10 decided, recorded with the draws
        occluder = occluder & keep.view(b, 1, 1, 1)
        person_mask = torch.where(keep.view(b, 1, 1, 1), masked, clip.person_mask)
        changes = {"occluder": occluder, "person_mask": person_mask}
        if clip.person_rgb is not None:
            changes["frames"] = hard_composite(clip.person_rgb, person_mask, clip.background)
        return clip.replace(**changes)
