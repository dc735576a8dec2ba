"""Pictures of a clip: a PNG contact sheet and a GIF, drawn with OpenCV.

Keypoints are green when visible and red when hidden, the occluder is outlined in yellow, the
crop box in blue, and totally occluded frames are crossed out.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from .clip import Clip
from .functional.composite import hard_composite
from .joints import NUM_SMPL_JOINTS, SMPL_PARENTS

GREEN, RED, YELLOW = (0, 200, 0), (230, 0, 0), (255, 220, 0)
BLUE, WHITE = (60, 120, 255), (255, 255, 255)


def _picture(clip: Clip) -> torch.Tensor:
    """(B, T, 3, H, W) float: the composite if there is one, else what there is to show."""
    if clip.frames is not None:
        return clip.frames
    if clip.person_rgb is not None and clip.person_mask is not None:
        under = (
            clip.background if clip.background is not None else torch.zeros_like(clip.person_rgb)
        )
        return hard_composite(clip.person_rgb, clip.person_mask, under)
    for name in ("background", "person_rgb"):
        if getattr(clip, name) is not None:
            return getattr(clip, name)
    raise ValueError("contact_sheet: the clip has no image field (frames, background, person_rgb)")


def render_frames(clip: Clip, index: int = 0) -> list[np.ndarray]:
    """Annotated RGB uint8 frames ``(H, W, 3)`` of sample ``index``, one per frame."""
    if not -clip.batch_size <= index < clip.batch_size:
        raise IndexError(f"index: expected in [0, {clip.batch_size}), got {index}")
    one = clip[index].to("cpu")
    pics = (_picture(one)[0].clamp(0, 1) * 255).round().to(torch.uint8)
    pics = pics.permute(0, 2, 3, 1).numpy()
    out = []
    for t in range(one.num_frames):
        img = np.ascontiguousarray(pics[t])
        if one.occluder is not None:
            mask = one.occluder[0, t].numpy().astype(np.uint8)
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(img, contours, -1, YELLOW, 1)
        if one.boxes is not None:
            x0, y0, x1, y1 = one.boxes[0, t].tolist()
            cv2.rectangle(img, (round(x0), round(y0)), (round(x1), round(y1)), BLUE, 1)
        if one.joints_2d is not None:
            _draw_joints(img, one, t)
        if one.total_occlusion is not None and bool(one.total_occlusion[0, t]):
            h, w = img.shape[:2]
            cv2.line(img, (0, 0), (w - 1, h - 1), RED, 2)
            cv2.line(img, (w - 1, 0), (0, h - 1), RED, 2)
        cv2.putText(img, str(t), (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, WHITE, 1, cv2.LINE_AA)
        out.append(img)
    return out


def _draw_joints(img: np.ndarray, one: Clip, t: int) -> None:
    joints = one.joints_2d[0, t].numpy()
    visible = one.visible[0, t].numpy() if one.visible is not None else np.ones(len(joints), bool)
    finite = np.isfinite(joints).all(-1)
    if len(joints) == NUM_SMPL_JOINTS:
        for j, parent in enumerate(SMPL_PARENTS):
            if parent >= 0 and finite[j] and finite[parent]:
                a, b = joints[j].round().astype(int), joints[parent].round().astype(int)
                cv2.line(img, tuple(a), tuple(b), WHITE, 1, cv2.LINE_AA)
    for j, (x, y) in enumerate(joints):
        if finite[j]:
            cv2.circle(img, (round(x), round(y)), 3, GREEN if visible[j] else RED, -1)


def contact_sheet(
    clip: Clip,
    index: int = 0,
    path: str | Path | None = None,
    max_frames: int = 16,
    columns: int = 4,
) -> np.ndarray:
    """A grid of annotated frames of one sample of ``clip``, saved as PNG when ``path`` is given.

    Args:
        clip: any Clip with an image field.
        index: which sample of the batch.
        path: where to write the PNG (parents are created); None writes nothing.
        max_frames: at most this many frames, evenly spaced over T.
        columns: frames per row.

    Returns:
        The sheet, uint8 ``(rows * H, columns * W, 3)`` RGB.

    """
    frames = render_frames(clip, index)
    pick = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round())
    frames = [frames[int(i)] for i in pick]
    columns = min(columns, len(frames))
    rows = math.ceil(len(frames) / columns)
    h, w = frames[0].shape[:2]
    sheet = np.zeros((rows * h, columns * w, 3), np.uint8)
    for k, img in enumerate(frames):
        r, c = divmod(k, columns)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = img
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sheet).save(path)
    return sheet


def save_gif(clip: Clip, path: str | Path, index: int = 0, fps: float = 10.0) -> Path:
    """Write sample ``index`` of ``clip`` as an annotated animated GIF; returns the path."""
    frames = [Image.fromarray(f) for f in render_frames(clip, index)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    return path


def input_sheet(
    clip: Clip,
    index: int = 0,
    path: str | Path | None = None,
    kinds: tuple[str, ...] = ("flow", "keypoints"),
    max_pairs: int = 8,
) -> np.ndarray:
    """What the network sees, one tile per pair.

    The flow as colour (hue = direction, value = magnitude), else the RGB crop; the keypoint
    heatmaps in green on top; a red border on totally occluded pairs.

    Args:
        clip: a Clip with ``inputs`` (B, P, C, S, S).
        index: which sample of the batch.
        path: where to write the PNG; None writes nothing.
        kinds: the input kinds ``MotionInputs`` was built with (they fix the channel order).
        max_pairs: at most this many pairs, evenly spaced.

    Returns:
        uint8 (S, n * S, 3) RGB.
    """
    from .transforms.crop import input_channels

    if clip.inputs is None:
        raise ValueError("input_sheet: the clip has no inputs; run MotionInputs first")
    names = input_channels(kinds)
    x = clip.inputs[index].detach().float().cpu()  # (P, C, S, S)
    if x.shape[1] != len(names):
        raise ValueError(
            f"kinds: {kinds} means {len(names)} channels, the inputs have {x.shape[1]}"
        )
    p, _, s, _ = x.shape
    heat = [i for i, n in enumerate(names) if n.startswith("heatmap_")]
    tiles = []
    for i in np.unique(np.linspace(0, p - 1, min(max_pairs, p)).round().astype(int)):
        tile = np.zeros((s, s, 3), np.uint8)
        if "flow_x" in names:
            fx, fy = x[i, names.index("flow_x")].numpy(), x[i, names.index("flow_y")].numpy()
            hsv = np.zeros((s, s, 3), np.uint8)
            hsv[..., 0] = ((np.arctan2(fy, fx) + np.pi) / (2 * np.pi) * 179).astype(np.uint8)
            hsv[..., 1] = 255
            hsv[..., 2] = np.clip(np.hypot(fx, fy) * 5 * 255, 0, 255).astype(np.uint8)  # 4 px: full
            tile = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        elif "red" in names:
            tile = (x[i, :3].permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
        if heat:
            glow = (x[i, heat].amax(0).numpy() * 255).astype(np.uint8)
            tile[..., 1] = np.maximum(tile[..., 1], glow)
        if x[i, -1].max() > 0:
            cv2.rectangle(tile, (0, 0), (s - 1, s - 1), RED, 3)
        tiles.append(np.ascontiguousarray(tile))
    sheet = np.concatenate(tiles, 1)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sheet).save(path)
    return sheet
