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
    offset: tuple[tuple[float, float], tuple[float, float]] | None = None,
    zoom: tuple[float, float] | None = None,
    unhide_outside: bool = True,
) -> Compose:
    """Doersch & Zisserman 2019's data pipeline, the paper's settings by default (R1-R24).

    Camera-tracked compositing, motion-compensated SLIC occlusion, total occlusion, keypoint
    visibility, HMR crops and the flow + keypoint inputs. Every default and where it comes from
    (rules in docs/rules.md):

    - camera motion: median flow (R1), integrated from the centre frame (R2); the person
      follows it (R3) with no other placement change (the paper has none: ``offset`` and
      ``zoom`` add one); hard masks (R5).
    - SLIC: whole clip (R6), colour + camera-compensated coordinates times U[4e-4, 6e-4]
      (R7), compactness 0.01 and 10-30 segments per clip (R8); one supervoxel (R9), kept when
      it overlaps the person and leaves 7 of the 14 joints per frame on average (R10).
    - total occlusion: runs of 1-15 frames (R11) on half the clips: the paper says "some"
      clips, without a number; 0.5 is our choice (``total_occlusion_p``).
    - visibility: hidden outside the frame, under the occluder, on occluded frames, or 0.2 m
      behind the body (R14-R17); legs unhidden with probability 0.5 (R18, literally all six
      leg joints; ``unhide_outside=False`` keeps those outside the frame hidden); flips with
      probability 0.05 (R19).
    - crops: 224 px with the person ~150 px (R20), paired (R21); flow / 20 and its magnitude
      (R22); 12 heatmaps of sigma 10 px (R23); the occlusion indicator (R24).
    - flow: the paper used TVL1 offline; here "auto" picks OpenCV on CPU tensors (sparse
      Lucas-Kanade median flow for the camera, DIS for the crops) and the torch estimators on
      the GPU. Name one (``estimator="sparse-lk"``, ``flow="dis-ultrafast-full"``) to get the
      same flow on every device; the Motion HMR trainer records the one it used in its
      checkpoint and the evaluator uses it.

    Args:
        occlusion: SLIC occlusion (Table 2's "no occlusions" is False).
        tracking: move the person with the camera (Table 2's "no tracking" is False).
        static_background: one background frame repeated (Table 2; overrides ``tracking``).
        inputs: Table 1's input switches, any of "rgb", "flow", "keypoints".
        estimator: camera-motion estimator, or its name: "auto" (OpenCV sparse Lucas-Kanade on CPU
            tensors and phase correlation on the GPU, :func:`simcomp.flow.auto_camera_motion`),
            "sparse-lk", "dis", "phase"; None uses the clip's own ``camera_shift``.
        flow: dense flow estimator for the crops, or its name: "auto" (OpenCV DIS on the CPU
            and batched Lucas-Kanade on the GPU, :func:`simcomp.flow.auto_dense_flow`), "dis"
            (DIS "medium"), "dis-ultrafast-full", "lucas-kanade".
        slic_backend: "torch" or "skimage" (the paper's exact occluders, CPU).
        total_occlusion_p: probability per clip of a total occlusion (the paper: "some").
        crop_size: side of the person crops (224; smaller for quick CPU runs).
        layout: the joints' layout (SMPL-24; ``simcomp.joints.COCO17`` and others work too).
        offset: an extra random placement, ((x min, x max), (y min, y max)) pixels; None: none.
        zoom: an extra random zoom, (min, max); None: none.
        unhide_outside: R18 also unhides leg joints outside the frame (the paper's reading).

    Returns:
        A Compose; call it on a Clip of person and background fields.

    Example:
        >>> [t.name for t in doersch2019(occlusion=False).transforms][:3]
        ['camera_tracked_composite', 'total_occlusion', 'keypoint_visibility']
    """
    mode = "static" if static_background else ("tracked" if tracking else "untracked")
    placement = {"offset": offset} if offset is not None else {}
    if zoom is not None:
        placement["scale"] = zoom
    # With occlusion the frames are composited once, by SuperpixelOcclusion.
    steps = [CameraTrackedComposite(mode=mode, estimator=estimator, composite=not occlusion,
                                    **placement)]  # fmt: skip
    if occlusion:
        steps.append(SuperpixelOcclusion(backend=slic_backend, layout=layout))
    steps += [
        TotalOcclusion(p=total_occlusion_p),
        KeypointVisibility(layout=layout, unhide_outside=unhide_outside),
        PersonCrop(crop_size=crop_size, person_size=150.0 * crop_size / 224),
        MotionInputs(kinds=inputs, flow=flow, crop_size=crop_size, layout=layout),
    ]
    return Compose(steps)
