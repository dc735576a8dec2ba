"""A small 3DPW-format test set made from the built-in procedural data, written to disk.

Different photos, people and motions than training uses (the last three photos, seeds far from
the trainer's), real occlusions (textured objects moving in front of the person) and
detector-like 2D keypoints (noisy, missing when hidden or at random), written in 3DPW's layout
(``sequenceFiles/test/*.pkl`` + ``imageFiles/<sequence>/image_%05d.jpg``) so the evaluator
reads it through the same reader as the real data set.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import torch

from simcomp.data.backgrounds import PHOTOS, photo_canvases
from simcomp.data.synthetic import background_clips, merge, person_clips
from simcomp.functional.visibility import visibility_rules
from simcomp.joints import COCO18_JOINT_NAMES, SMPL_JOINT_NAMES
from simcomp.transforms import CameraTrackedComposite

EVAL_PHOTOS = tuple(range(len(PHOTOS) - 3, len(PHOTOS)))
# COCO-18 joints that SMPL has (by name); nose, eyes, ears stay undetected.
COCO18_FROM_SMPL = {
    c: SMPL_JOINT_NAMES.index(n) for c, n in enumerate(COCO18_JOINT_NAMES) if n in SMPL_JOINT_NAMES
}


def _occluders(frames: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Paint one textured ellipse per clip that crosses the frame in front of everything."""
    b, t, _, h, w = frames.shape
    canvas = photo_canvases()[torch.randint(len(PHOTOS), (b,), generator=g)]
    start = torch.rand(b, 2, generator=g) * torch.tensor([w, h])
    vel = (torch.rand(b, 2, generator=g) - 0.5) * torch.tensor([12.0, 6.0])
    radius = (0.12 + 0.1 * torch.rand(b, 2, generator=g)) * torch.tensor([w, h])
    ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    centre = start[:, None] + vel[:, None] * torch.arange(t)[None, :, None]  # (B, T, 2)
    dx = (xs - centre[..., 0, None, None]) / radius[:, None, 0, None, None]
    dy = (ys - centre[..., 1, None, None]) / radius[:, None, 1, None, None]
    inside = dx**2 + dy**2 <= 1  # (B, T, H, W)
    texture = canvas[:, None, :, :h, :w]
    return torch.where(inside[:, :, None], texture, frames), inside


def write_builtin_3dpw(
    root: str | Path, sequences: int = 4, frames: int = 62, seed: int = 10_000
) -> Path:
    """Write the test set under ``root`` (skipped when it is already there); returns root."""
    root = Path(root)
    seq_dir, img_dir = root / "sequenceFiles" / "test", root / "imageFiles"
    if seq_dir.exists() and len(list(seq_dir.glob("*.pkl"))) == sequences:
        return root
    seq_dir.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    size = (240, 320)
    clip = merge(
        person_clips(sequences, frames, size, g, distance=(4.0, 7.0)),
        background_clips(sequences, frames, size, g, max_pan=4.0, photos=EVAL_PHOTOS),
    )
    clip = CameraTrackedComposite(estimator=None, offset=((-20, 20), (-10, 10)))(clip, g)
    images, occluded = _occluders(clip.frames, g)
    visible = visibility_rules(
        clip.joints_2d, size, occluded, None, clip.joints_3d, clip.person_depth
    )
    rng = np.random.default_rng(seed)
    for i in range(sequences):
        name = f"builtin_{i:02d}"
        (img_dir / name).mkdir(parents=True, exist_ok=True)
        for f in range(frames):
            rgb = (images[i, f].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            cv2.imwrite(
                str(img_dir / name / f"image_{f:05d}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
            )
        j2d, vis = clip.joints_2d[i].numpy(), visible[i].numpy()
        poses2d = np.zeros((frames, 3, 18))
        for c, s in COCO18_FROM_SMPL.items():
            seen = vis[:, s] & (rng.random(frames) > 0.05)  # a detector misses some
            poses2d[:, :2, c] = j2d[:, s] + rng.normal(scale=2.0, size=(frames, 2))
            poses2d[:, 2, c] = np.where(
                seen, rng.uniform(0.4, 1.0, frames), rng.uniform(0, 0.08, frames)
            )
        data = {
            "sequence": name, "img_frame_ids": np.arange(frames),
            "cam_poses": np.tile(np.eye(4), (frames, 1, 1)),  # world = camera
            "cam_intrinsics": np.array([[600.0, 0, 160], [0, 600.0, 120], [0, 0, 1]]),
            "jointPositions": [clip.joints_3d[i].reshape(frames, 72).numpy().astype(np.float64)],
            "poses": [clip.smpl_pose[i].numpy().astype(np.float64)], "betas": [np.zeros(10)],
            "trans": [np.zeros((frames, 3))], "poses2d": [poses2d],
            "campose_valid": [np.ones(frames, np.uint8)], "genders": ["n"],
        }  # fmt: skip
        with open(seq_dir / f"{name}.pkl", "wb") as fh:
            pickle.dump(data, fh, protocol=2)
    return root
