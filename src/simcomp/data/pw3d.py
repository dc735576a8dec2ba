"""3DPW for evaluation: ``sequenceFiles/{train,validation,test}/*.pkl`` + ``imageFiles/``.

The sequence files are Python 2 pickles, read with ``encoding="latin1"``. Loading a pickle can
run code: only load 3DPW files from a source you trust.
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..clip import Clip
from ..joints import COCO18_TO_LSP14, SMPL_TO_LSP14

SPLITS = ("train", "validation", "test")


@dataclass
class Track:
    """One actor of one 3DPW sequence; N frames.

    Attributes:
        sequence: the sequence name; actor: index of the actor in it.
        joints_3d: (N, 24, 3) SMPL kinematic joints in the camera frame, metres.
        pose: (N, 72) SMPL axis-angle (world frame); betas: (10,); gender: "m" or "f".
        keypoints_2d: (N, 14, 2) the detector's keypoints in LSP-14 order (head top: zeros).
        confidence: (N, 14) their confidences (0 for the head top, which COCO lacks).
        campose_valid: bool (N,); intrinsics: (3, 3); images: N image paths (decoded lazily).
    """

    sequence: str
    actor: int
    joints_3d: np.ndarray
    pose: np.ndarray
    betas: np.ndarray
    gender: str
    keypoints_2d: np.ndarray
    confidence: np.ndarray
    campose_valid: np.ndarray
    intrinsics: np.ndarray
    images: list[Path] = field(default_factory=list)


def load_sequence(path: str | Path) -> dict:
    """A 3DPW sequence pickle (trusted files only), with errors that name the file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: the 3DPW sequence file is missing")
    try:
        with open(path, "rb") as f:
            data = pickle.load(f, encoding="latin1")
    except Exception as e:  # truncated or corrupt pickles raise several types
        raise ValueError(
            f"{path}: cannot read this 3DPW sequence file ({type(e).__name__}: {e})"
        ) from e
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a dict, got {type(data).__name__}")
    for key in ("sequence", "cam_poses", "cam_intrinsics", "jointPositions", "poses2d",
                "poses", "betas", "campose_valid", "img_frame_ids"):  # fmt: skip
        if key not in data:
            raise KeyError(f"{path}: field {key!r} is missing")
    return data


def _safe_name(value: object, path: Path) -> str:
    """The ``sequence`` field as one plain folder name.

    It is joined into image paths, so a separator or ``..`` could point outside the image root.
    """
    name = str(value)
    if not name or name in (".", "..") or any(c in name for c in "/\\\0") or ":" in name:
        raise ValueError(
            f"{path}: field 'sequence' must be a plain folder name under imageFiles/, got {name!r}"
        )
    return name


def tracks_of(path: str | Path, image_root: str | Path | None = None) -> list[Track]:
    """Every actor of one sequence file as a :class:`Track`."""
    path = Path(path)
    d = load_sequence(path)
    cam = np.asarray(d["cam_poses"], dtype=np.float64)  # (N, 4, 4) world -> camera
    n = len(cam)
    name = _safe_name(d["sequence"], path)
    genders = d.get("genders", d.get("gender", ["n"] * len(d["poses"])))
    lsp = [i if i is not None else 0 for i in COCO18_TO_LSP14]
    has = np.array([i is not None for i in COCO18_TO_LSP14])
    out = []
    for a in range(len(d["poses"])):
        joints = np.asarray(d["jointPositions"][a], dtype=np.float64).reshape(-1, 24, 3)
        if len(joints) != n:
            raise ValueError(
                f"{path}: field 'jointPositions' of actor {a} has {len(joints)} frames, "
                f"cam_poses has {n}"
            )
        cam_joints = np.einsum("nij,nkj->nki", cam[:, :3, :3], joints) + cam[:, None, :3, 3]
        p2d = np.asarray(d["poses2d"][a], dtype=np.float64)  # (N, 3, 18)
        if p2d.shape[1:] != (3, 18):
            raise ValueError(
                f"{path}: field 'poses2d' of actor {a} has shape {p2d.shape}, expected (N, 3, 18)"
            )
        kp = p2d[:, :2, lsp].transpose(0, 2, 1) * has[None, :, None]
        conf = p2d[:, 2, lsp] * has[None]
        ids = np.asarray(d["img_frame_ids"]).astype(int)
        images = [Path(image_root) / name / f"image_{i:05d}.jpg" for i in ids] if image_root else []
        out.append(Track(
            sequence=name, actor=a, joints_3d=cam_joints,
            pose=np.asarray(d["poses"][a], dtype=np.float64),
            betas=np.asarray(d["betas"][a], dtype=np.float64)[:10],
            gender=str(genders[a]), keypoints_2d=kp, confidence=conf,
            campose_valid=np.asarray(d["campose_valid"][a]).astype(bool),
            intrinsics=np.asarray(d["cam_intrinsics"], dtype=np.float64), images=images,
        ))  # fmt: skip
    return out


def load_split(root: str | Path, split: str = "test", skip_bad: bool = False) -> list[Track]:
    """All tracks of a split of a 3DPW folder (``sequenceFiles/<split>/*.pkl``).

    Args:
        root: the 3DPW folder.
        split: "train", "validation" or "test".
        skip_bad: a sequence file that cannot be read is skipped with a warning naming it;
            False raises its error (which names it too).
    """
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
    root = Path(root)
    files = sorted((root / "sequenceFiles" / split).glob("*.pkl"))
    if not files:
        raise FileNotFoundError(f"{root}/sequenceFiles/{split}: no .pkl files (is this 3DPW?)")
    tracks = []
    for f in files:
        try:
            tracks += tracks_of(f, root / "imageFiles")
        except (ValueError, KeyError) as err:
            if not skip_bad:
                raise
            warnings.warn(f"{f}: skipped ({err})", stacklevel=2)
    return tracks


def read_frames(track: Track, start: int, stop: int) -> np.ndarray:
    """RGB uint8 (T, H, W, 3) of frames ``start .. stop - 1``, decoded from the image paths."""
    import cv2

    out = []
    for path in track.images[start:stop]:
        img = cv2.imread(str(path))
        if img is None:
            raise FileNotFoundError(f"{path}: missing or unreadable 3DPW image")
        out.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    return np.stack(out)


def track_clip(
    track: Track, frames: np.ndarray, confidence: float = 0.1, min_visible: int = 7
) -> Clip:
    """A Clip (B = 1) of a track's frames, its detections as SMPL-24 keypoints, R13's occlusion.

    Ready for :class:`~simcomp.transforms.PersonCrop` and
    :class:`~simcomp.transforms.MotionInputs`.

    Args:
        track: a :class:`Track` (or a window of one: its keypoints and confidences sliced).
        frames: RGB uint8 (T, H, W, 3) of those frames (:func:`read_frames`).
        confidence: a detection counts as seen above this.
        min_visible: frames with fewer seen joints are totally occluded (R13).

    Returns:
        Clip with frames, joints_2d (1, T, 24, 2) (joints 3DPW does not detect: -1, hidden),
        visible and total_occlusion.
    """
    from ..functional.visibility import occlude_sparse_frames

    t = len(frames)
    joints = np.full((t, 24, 2), -1.0)  # missing: invisible, finite, outside the frame
    visible = np.zeros((t, 24), bool)
    seen = track.confidence > confidence  # (T, 14)
    for k, smpl in enumerate(SMPL_TO_LSP14):
        joints[:, smpl] = track.keypoints_2d[:, k]
        visible[:, smpl] = seen[:, k]
    vis = torch.from_numpy(visible)[None]
    return Clip(
        frames=torch.from_numpy(frames).permute(0, 3, 1, 2)[None].float() / 255,
        joints_2d=torch.from_numpy(joints).float()[None],
        visible=vis,
        total_occlusion=occlude_sparse_frames(vis[..., list(SMPL_TO_LSP14)], min_visible),
    )
