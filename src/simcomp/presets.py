"""The paper's whole pipeline as one :class:`~simcomp.transforms.Compose`, with its ablations."""

from __future__ import annotations

from .flow import CameraMotionEstimator, DenseFlowEstimator, PhaseCorrelation
from .transforms import (
    CameraTrackedComposite,
    Compose,
    KeypointVisibility,
    MotionInputs,
    PersonCrop,
    SuperpixelOcclusion,
    TotalOcclusion,
)


def doersch2019(
    occlusion: bool = True,
    tracking: bool = True,
    static_background: bool = False,
    inputs: tuple[str, ...] = ("flow", "keypoints"),
    estimator: CameraMotionEstimator | None = PhaseCorrelation(),  # noqa: B008 - stateless
    flow: DenseFlowEstimator | None = None,
    slic_backend: str = "torch",
    total_occlusion_p: float = 0.5,
) -> Compose:
    """Doersch & Zisserman 2019's data pipeline, paper defaults (SPEC R1-R24).

    Camera-tracked compositing, motion-compensated SLIC occlusion, total occlusion, keypoint
    visibility, HMR crops and the flow + keypoint inputs.

    Args:
        occlusion: SLIC occlusion (Table 2's "no occlusions" is False).
        tracking: move the person with the camera (Table 2's "no tracking" is False).
        static_background: one background frame repeated (Table 2; overrides ``tracking``).
        inputs: Table 1's input switches, any of "rgb", "flow", "keypoints".
        estimator: camera-motion estimator; None uses the clip's own ``camera_shift``.
        flow: dense flow estimator for the crops (default :class:`simcomp.flow.LucasKanade`).
        slic_backend: "torch" or "skimage" (the paper's exact occluders, CPU).
        total_occlusion_p: probability per clip of a total occlusion (the paper: "some").

    Returns:
        A Compose; call it on a Clip of person and background fields.

    Example:
        >>> [t.name for t in doersch2019(occlusion=False).transforms][:3]
        ['camera_tracked_composite', 'total_occlusion', 'keypoint_visibility']
    """
    mode = "static" if static_background else ("tracked" if tracking else "untracked")
    steps = [CameraTrackedComposite(mode=mode, estimator=estimator)]
    if occlusion:
        steps.append(SuperpixelOcclusion(backend=slic_backend))
    steps += [
        TotalOcclusion(p=total_occlusion_p),
        KeypointVisibility(),
        PersonCrop(),
        MotionInputs(kinds=inputs, flow=flow),
    ]
    return Compose(steps)
