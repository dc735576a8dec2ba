"""SURREAL person clips in their own format, read with scipy.io and OpenCV, no conversion step.

One clip is ``<name>.mp4`` + ``<name>_info.mat``, ``_segm.mat`` and ``_depth.mat``.

Camera (SURREAL's ``datageneration/misc/3Dto2D``): K = [[600, 0, 160], [0, 600, 120], [0, 0, 1]];
world -> Blender camera R = [[0,0,1],[0,-1,0],[-1,0,0]]^T, T = -R camLoc; Blender -> OpenCV
diag(1, -1, -1). ``joints2D`` are the rounded projections of ``joints3D`` through it.

Left/right: public issues (gulvarol/surreal #10) report SURREAL's joint labels swapped
relative to the person in the video. The evidence here says keep them: in the real
``_info.mat`` of the test data, the stored labels are anatomically consistent in 3D (the body's
left x up points where its toes point, on 95% of frames), and swapping them would turn every
skeleton into its mirror image, which a Procrustes alignment without reflections cannot undo.
So ``swap_left_right=False`` is the default; ``True`` relabels (positions and pose untouched),
and :func:`left_right_agreement` settles the question on a clip from its segmentation.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import scipy.io
import torch

from ..clip import Clip
from ..joints import SMPL_FLIP

SURREAL_K = np.array([[600.0, 0.0, 160.0], [0.0, 600.0, 120.0], [0.0, 0.0, 1.0]])
_R_WORLD2BCAM = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]]).T
_R_BCAM2CV = np.diag([1.0, -1.0, -1.0])


def surreal_extrinsics(cam_loc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World -> OpenCV camera rotation (3, 3) and translation (3,) from ``camLoc`` (3,)."""
    cam_loc = np.asarray(cam_loc, dtype=np.float64).reshape(3)
    t_bcam = -_R_WORLD2BCAM @ cam_loc
    return _R_BCAM2CV @ _R_WORLD2BCAM, _R_BCAM2CV @ t_bcam


def _load(path: Path, what: str) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"{path}: the SURREAL {what} file is missing")
    try:
        return scipy.io.loadmat(str(path))
    except Exception as e:  # scipy raises several types for corrupt files
        raise ValueError(f"{path}: cannot read the SURREAL {what} file ({e})") from e


def _field(mat: dict, key: str, path: Path, shape0: int | None = None) -> np.ndarray:
    if key not in mat:
        raise KeyError(f"{path}: field {key!r} is missing")
    value = np.asarray(mat[key])
    if shape0 is not None and value.shape[0] != shape0:
        raise ValueError(f"{path}: field {key!r} has shape {value.shape}, expected ({shape0}, ...)")
    return value


def read_info(path: str | Path, swap_left_right: bool = False) -> dict[str, np.ndarray]:
    """Read a SURREAL ``_info.mat``.

    Returns:
        joints_2d (T, 24, 2) pixels, joints_3d (T, 24, 3) OpenCV camera frame metres,
        joints_3d_world (T, 24, 3), pose (T, 72), shape (T, 10), camera R (3, 3) and t (3,).
    """
    path = Path(path)
    mat = _load(path, "info")
    j2d = _field(mat, "joints2D", path, 2).transpose(2, 1, 0).astype(np.float64)
    j3d = _field(mat, "joints3D", path, 3).transpose(2, 1, 0).astype(np.float64)
    pose = _field(mat, "pose", path, 72).T.astype(np.float64)
    shape = _field(mat, "shape", path, 10).T.astype(np.float64)
    r, t = surreal_extrinsics(_field(mat, "camLoc", path, 3))
    cam = j3d @ r.T + t
    if swap_left_right:
        flip = list(SMPL_FLIP)
        j2d, j3d, cam = j2d[:, flip], j3d[:, flip], cam[:, flip]  # labels only; pose untouched
    return {"joints_2d": j2d, "joints_3d": cam, "joints_3d_world": j3d, "pose": pose,
            "shape": shape, "R": r, "t": t}  # fmt: skip


def project(points_cam: np.ndarray) -> np.ndarray:
    """Project OpenCV camera-frame points (..., 3) through SURREAL's K -> (..., 2) pixels."""
    uvw = points_cam @ SURREAL_K.T
    return uvw[..., :2] / uvw[..., 2:]


def read_video(path: str | Path, start: int, count: int) -> np.ndarray:
    """Frames ``start .. start+count-1`` of a video as RGB float32 (count, H, W, 3) in [0, 1]."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: OpenCV cannot open this video")
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames = []
    for _ in range(count):
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    if len(frames) < count:
        raise ValueError(f"{path}: expected frames {start}..{start + count - 1}, got {len(frames)}")
    return np.stack(frames).astype(np.float32) / 255


def read_clip(
    stem: str | Path, start: int = 0, num_frames: int = 31, swap_left_right: bool = False
) -> Clip:
    """One SURREAL clip window as a Clip of B = 1.

    Args:
        stem: the path without suffix, e.g. ``.../01_01_c0001`` (reads ``.mp4``, ``_info.mat``,
            ``_segm.mat``, ``_depth.mat``).
        start: first frame.
        num_frames: T.
        swap_left_right: swap SURREAL's left/right joint labels (see the module docstring).

    Returns:
        Clip with person_rgb, person_mask (segm > 0), person_depth (+inf off the body),
        joints_2d, joints_3d (camera frame), smpl_pose, smpl_shape, focal, principal_point.
    """
    stem = Path(stem)
    info = read_info(stem.with_name(stem.name + "_info.mat"), swap_left_right)
    total = len(info["joints_2d"])
    if start < 0 or start + num_frames > total:
        raise ValueError(f"{stem}: window {start}..{start + num_frames - 1} outside {total} frames")
    frames = range(start + 1, start + num_frames + 1)  # the .mat keys count from 1
    segm_path, depth_path = (stem.with_name(stem.name + s) for s in ("_segm.mat", "_depth.mat"))
    segm_mat, depth_mat = _load(segm_path, "segm"), _load(depth_path, "depth")
    segm = np.stack([_field(segm_mat, f"segm_{i}", segm_path) for i in frames])
    depth = np.stack([_field(depth_mat, f"depth_{i}", depth_path) for i in frames]).astype(
        np.float32
    )
    rgb = read_video(stem.with_suffix(".mp4"), start, num_frames)
    mask = segm > 0
    depth = np.where(mask, depth, np.inf)
    window = slice(start, start + num_frames)

    def t(x, dtype=torch.float32):
        return torch.from_numpy(np.ascontiguousarray(x)).to(dtype)[None]

    return Clip(
        person_rgb=t(rgb).permute(0, 1, 4, 2, 3),
        person_mask=t(mask, torch.bool),
        person_depth=t(depth),
        joints_2d=t(info["joints_2d"][window]),
        joints_3d=t(info["joints_3d"][window]),
        smpl_pose=t(info["pose"][window]),
        smpl_shape=t(info["shape"][window]),
        focal=torch.tensor([[600.0, 600.0]]),
        principal_point=torch.tensor([[160.0, 120.0]]),
    )


def find_clips(root: str | Path) -> list[Path]:
    """Every complete SURREAL clip (all four files) under ``root``, as stems, sorted."""
    stems = []
    for info in sorted(Path(root).rglob("*_info.mat")):
        stem = info.with_name(info.name[: -len("_info.mat")])
        parts = [stem.with_suffix(".mp4")] + [
            stem.with_name(stem.name + s) for s in ("_segm.mat", "_depth.mat")
        ]
        if all(p.exists() for p in parts):
            stems.append(stem)
    return stems


class SurrealClips(torch.utils.data.Dataset):
    """Random T-frame windows of every SURREAL clip under ``root`` (``cmu/<split>/run*/...``).

    Item ``i`` is a Clip (B = 1) of clip ``i``; its window depends only on ``(seed, i)``.

    Args:
        root: folder searched recursively for complete clips.
        num_frames: T.
        seed: base seed of the window draws.
        swap_left_right: swap SURREAL's left/right joint labels (see the module docstring).
        skip_bad: a clip whose files cannot be read (or are too short) is skipped with a
            warning naming it, and the next clip is read instead; False raises the error.
    """

    def __init__(
        self,
        root: str | Path,
        num_frames: int = 31,
        seed: int = 0,
        swap_left_right: bool = False,
        skip_bad: bool = False,
    ):
        self.root = root
        self.stems = find_clips(root)
        if not self.stems:
            raise FileNotFoundError(f"root: no complete SURREAL clip (.mp4 + 3 .mat) under {root}")
        self.num_frames, self.seed, self.swap = num_frames, seed, swap_left_right
        self.skip_bad = skip_bad

    def __len__(self) -> int:
        return len(self.stems)

    def __getitem__(self, index: int) -> Clip:
        for attempt in range(len(self.stems)):
            i = (index + attempt) % len(self.stems)
            try:
                return self._read(i)
            except (ValueError, KeyError, FileNotFoundError) as err:
                if not self.skip_bad:
                    raise
                warnings.warn(f"{self.stems[i]}: skipped ({err})", stacklevel=2)
        raise ValueError(f"{self.root}: no SURREAL clip could be read (see the warnings)")

    def _read(self, index: int) -> Clip:
        stem = self.stems[index]
        total = read_info(stem.with_name(stem.name + "_info.mat"), self.swap)["joints_2d"].shape[0]
        if total < self.num_frames:
            raise ValueError(f"{stem}: {total} frames, fewer than num_frames={self.num_frames}")
        start = int(
            np.random.default_rng((self.seed, index)).integers(0, total - self.num_frames + 1)
        )
        return read_clip(stem, start, self.num_frames, self.swap)


def left_right_agreement(stem: str | Path, max_frames: int = 100) -> dict[str, float]:
    """Evidence for the left/right question from a clip's own ``_segm.mat``.

    The segmentation labels each body pixel with its SMPL part (1 + joint index). For every
    left or right limb joint in the image, look at the part under its projected pixel: the
    fraction that shows the part of the same name (``as_stored``) versus the mirrored one
    (``swapped``). A render whose labels are swapped relative to the video scores high on
    ``swapped``.
    """
    stem = Path(stem)
    info = read_info(stem.with_name(stem.name + "_info.mat"), swap_left_right=False)
    segm_path = stem.with_name(stem.name + "_segm.mat")
    segm_mat = _load(segm_path, "segm")
    sided = [j for j, f in enumerate(SMPL_FLIP) if f != j]
    same = mirrored = 0
    for t in range(min(max_frames, len(info["joints_2d"]))):
        segm = _field(segm_mat, f"segm_{t + 1}", segm_path)
        h, w = segm.shape
        for j in sided:
            x, y = np.floor(info["joints_2d"][t, j]).astype(int)
            if 0 <= x < w and 0 <= y < h:
                same += segm[y, x] == j + 1
                mirrored += segm[y, x] == SMPL_FLIP[j] + 1
    total = max(same + mirrored, 1)
    return {"as_stored": same / total, "swapped": mirrored / total, "joints": int(same + mirrored)}
