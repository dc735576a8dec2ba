"""The paper's whole pipeline as one :class:`~simcomp.transforms.Compose`, with its ablations."""

from __future__ import annotations

from .flow import CameraMotionEstimator, DenseFlowEstimator
from .joints import SMPL24, JointLayout
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
    estimator: CameraMotionEstimator | None | str = "auto",
    flow: DenseFlowEstimator | str = "auto",
    slic_backend: str = "torch",
    total_occlusion_p: float = 0.5,
    crop_size: int = 224,
    layout: JointLayout = SMPL24,
) -> Compose:
    """Doersch & Zisserman 2019's data pipeline, paper defaults (R1-R24).

    Camera-tracked compositing, motion-compensated SLIC occlusion, total occlusion, keypoint
    visibility, HMR crops and the flow + keypoint inputs.

    Args:
        occlusion: SLIC occlusion (Table 2's "no occlusions" is False).
        tracking: move the person with the camera (Table 2's "no tracking" is False).
        static_background: one background frame repeated (Table 2; overrides ``tracking``).
        inputs: Table 1's input switches, any of "rgb", "flow", "keypoints".
        estimator: camera-motion estimator, or its name: "auto" (OpenCV DIS on CPU tensors and
            phase correlation on the GPU, :func:`simcomp.flow.auto_camera_motion`), "dis",
            "phase"; None uses the clip's own ``camera_shift``.
        flow: dense flow estimator for the crops, or its name: "auto" (OpenCV DIS on the CPU
            and batched Lucas-Kanade on the GPU, :func:`simcomp.flow.auto_dense_flow`), "dis",
            "lucas-kanade".
        slic_backend: "torch" or "skimage" (the paper's exact occluders, CPU).
        total_occlusion_p: probability per clip of a total occlusion (the paper: "some").
        crop_size: side of the person crops (224; smaller for quick CPU runs).
        layout: the joints' layout (SMPL-24; ``simcomp.joints.COCO17`` and others work too).

    Returns:
        A Compose; call it on a Clip of person and background fields.

    Example:
        >>> [t.name for t in doersch2019(occlusion=False).transforms][:3]
        ['camera_tracked_composite', 'total_occlusion', 'keypoint_visibility']
    """
    mode = "static" if static_background else ("tracked" if tracking else "untracked")
    steps = [CameraTrackedComposite(mode=mode, estimator=estimator)]
    if occlusion:
        steps.append(SuperpixelOcclusion(backend=slic_backend, layout=layout))
    steps += [
        TotalOcclusion(p=total_occlusion_p),
        KeypointVisibility(layout=layout),
        PersonCrop(crop_size=crop_size, person_size=150.0 * crop_size / 224),
        MotionInputs(kinds=inputs, flow=flow, crop_size=crop_size, layout=layout),
    ]
    return Compose(steps)
