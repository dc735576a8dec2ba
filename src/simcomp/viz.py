"""Pictures of a clip: PNG contact sheets and GIFs that explain themselves, drawn with OpenCV.

Every sheet carries its own legend: keypoints green when the network sees them and red when
hidden, bones in white, the occluding supervoxel tinted and outlined in yellow (the person's
pixels it removed show the background through the tint), the HMR crop in blue, totally
occluded frames crossed out in red, and a line saying what the augmentation did to the clip.
Network inputs show the flow on the usual colour wheel (Baker et al.'s Middlebury coding) and
the keypoint heatmaps in magenta, in labelled rows.
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
from .joints import LSP14_BONES, NUM_SMPL_JOINTS, SMPL_PARENTS

GREEN, RED, YELLOW = (0, 200, 0), (230, 0, 0), (255, 220, 0)
BLUE, WHITE, MAGENTA, GREY = (60, 120, 255), (255, 255, 255), (255, 60, 255), (40, 40, 40)
FONT = cv2.FONT_HERSHEY_SIMPLEX
LEGEND_WIDTH = 480  # sheets narrower than this are padded so the legend stays readable
FLOW_FULL = 4.0  # pixels of flow drawn at full colour


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
            mask = one.occluder[0, t].numpy()
            img[mask] = (0.65 * img[mask] + 0.35 * np.array(YELLOW)).astype(np.uint8)
            contours, _ = cv2.findContours(
                mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
            )
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
    if len(joints) == NUM_SMPL_JOINTS:  # bones at half strength: what lies beneath shows
        bones = img.copy()
        for j, parent in enumerate(SMPL_PARENTS):
            if parent >= 0 and finite[j] and finite[parent]:
                a, b = joints[j].round().astype(int), joints[parent].round().astype(int)
                cv2.line(bones, tuple(a), tuple(b), WHITE, 1, cv2.LINE_AA)
        cv2.addWeighted(bones, 0.5, img, 0.5, 0, dst=img)
    for j, (x, y) in enumerate(joints):
        if finite[j]:
            cv2.circle(img, (round(x), round(y)), 2, GREEN if visible[j] else RED, -1)


def contact_sheet(
    clip: Clip,
    index: int = 0,
    path: str | Path | None = None,
    max_frames: int = 16,
    columns: int = 4,
    legend: bool = True,
) -> np.ndarray:
    """A grid of annotated frames of one sample of ``clip``, saved as PNG when ``path`` is given.

    Args:
        clip: any Clip with an image field.
        index: which sample of the batch.
        path: where to write the PNG (parents are created); None writes nothing.
        max_frames: at most this many frames, evenly spaced over T.
        columns: frames per row.
        legend: add the legend band (colours, and what the augmentation did) below the grid.

    Returns:
        The sheet, uint8 RGB: ``(rows * H, columns * W, 3)``, plus the legend band below (and
        padding to at least 480 px wide) when ``legend``.

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
    if legend:
        items = [(GREEN, "seen keypoint"), (RED, "hidden keypoint"), (YELLOW, "occluder"),
                 (BLUE, "HMR crop"), (RED, "X: totally occluded")]  # fmt: skip
        sheet = with_legend(sheet, items, [what_happened(clip, index)])
    _save(sheet, path)
    return sheet


def what_happened(clip: Clip, index: int = 0) -> str:
    """One line on what the augmentation did to sample ``index`` (for pictures and logs)."""
    parts = []
    if clip.occluder is not None:
        kept = bool(clip.occluder[index].any())
        parts.append("supervoxel occlusion kept" if kept else "occlusion declined (R10)")
    if clip.total_occlusion is not None:
        frames = clip.total_occlusion[index].nonzero().flatten().tolist()
        parts.append(
            f"total occlusion: frames {frames[0]}-{frames[-1]}" if frames else "no total occlusion"
        )
    if clip.valid is not None and not bool(clip.valid[index]):
        parts.append("person never seen: valid=False")
    return "; ".join(parts) or "no augmentation fields yet"


def with_legend(
    sheet: np.ndarray, items: list[tuple[tuple, str]], lines: list[str], key=None
) -> np.ndarray:
    """The sheet above a legend band: coloured swatches with labels, then text lines.

    Args:
        sheet: uint8 RGB (H, W, 3); padded to at least 480 px wide.
        items: (RGB colour, label) swatches.
        lines: text lines under the swatches.
        key: an optional small RGB picture at the band's right (the flow wheel).

    Returns:
        uint8 RGB (H + band, max(W, 480), 3).
    """
    width = max(sheet.shape[1], LEGEND_WIDTH)
    if sheet.shape[1] < width:
        sheet = np.pad(sheet, ((0, 0), (0, width - sheet.shape[1]), (0, 0)))
    key_w = 0 if key is None else key.shape[1] + 8
    rows, x, y, line = [], 6, 14, 18
    for colour, label in items:
        size = cv2.getTextSize(label, FONT, 0.4, 1)[0][0] + 22
        if x + size > width - key_w:
            x, y = 6, y + line
        rows.append(((x, y), colour, label))
        x += size
    height = max(y + line * (len(lines) + 1) - 8, 0 if key is None else key.shape[0] + 8)
    band = np.full((height, width, 3), GREY, np.uint8)
    for (x, y), colour, label in rows:
        cv2.rectangle(band, (x, y - 9), (x + 10, y + 1), colour, -1)
        cv2.putText(band, label, (x + 14, y), FONT, 0.4, WHITE, 1, cv2.LINE_AA)
    for k, text in enumerate(lines):
        cv2.putText(band, text, (6, y + line * (k + 1)), FONT, 0.4, WHITE, 1, cv2.LINE_AA)
    if key is not None:
        band[4 : 4 + key.shape[0], width - key.shape[1] - 4 : width - 4] = key
    return np.concatenate([sheet, band])


def _save(sheet: np.ndarray, path: str | Path | None) -> None:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sheet).save(path)


def save_gif(clip: Clip, path: str | Path, index: int = 0, fps: float = 10.0) -> Path:
    """Write sample ``index`` of ``clip`` as an annotated animated GIF; returns the path."""
    frames = [Image.fromarray(f) for f in render_frames(clip, index)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    return path


def flow_to_colour(flow: np.ndarray, full: float = FLOW_FULL) -> np.ndarray:
    """Flow (H, W, 2) in pixels as RGB uint8 on the Middlebury colour wheel (Baker et al. 2011).

    Hue is the direction, saturation the speed: white is still, full colour is ``full`` pixels
    or more (beyond it the colour darkens).
    """
    wheel = _colour_wheel()
    n = len(wheel)
    u, v = flow[..., 0], flow[..., 1]
    rad = np.hypot(u, v) / full
    angle = np.arctan2(-v, -u) / np.pi
    fk = (angle + 1) / 2 * (n - 1)
    k0 = np.floor(fk).astype(int)
    k1 = (k0 + 1) % n
    f = (fk - k0)[..., None]
    col = (1 - f) * wheel[k0] / 255 + f * wheel[k1] / 255
    r = rad[..., None]
    col = np.where(r <= 1, 1 - r * (1 - col), col * 0.75)
    return (col * 255).round().astype(np.uint8)


def _colour_wheel() -> np.ndarray:
    """The 55 colours of the Middlebury flow wheel, (55, 3) RGB."""
    segments = ((15, (255, 0, 0), (255, 255, 0)), (6, (255, 255, 0), (0, 255, 0)),
                (4, (0, 255, 0), (0, 255, 255)), (11, (0, 255, 255), (0, 0, 255)),
                (13, (0, 0, 255), (255, 0, 255)), (6, (255, 0, 255), (255, 0, 0)))  # fmt: skip
    parts = []
    for count, start, stop in segments:
        ramp = np.floor(255 * np.arange(count) / count) / 255
        parts.append(np.array(start) + ramp[:, None] * (np.array(stop) - np.array(start)))
    return np.concatenate(parts)


def _wheel_key(size: int = 44) -> np.ndarray:
    """A small disc of the colour wheel: the flow legend."""
    ys, xs = np.mgrid[:size, :size] - (size - 1) / 2
    flow = np.stack((xs, ys), -1) / ((size - 1) / 2) * FLOW_FULL
    key = flow_to_colour(flow)
    key[np.hypot(xs, ys) > (size - 1) / 2] = GREY
    return key


def input_sheet(
    clip: Clip,
    index: int = 0,
    path: str | Path | None = None,
    kinds: tuple[str, ...] = ("flow", "keypoints"),
    max_pairs: int = 8,
) -> np.ndarray:
    """What the network sees, one column per pair and one labelled row per input kind.

    Rows: the RGB crop, the flow on the colour wheel, the 12 keypoint heatmaps (their maximum,
    in magenta); a red border marks totally occluded pairs (the indicator channel). A legend
    band below holds the wheel's key.

    Args:
        clip: a Clip with ``inputs`` (B, P, C, S, S).
        index: which sample of the batch.
        path: where to write the PNG; None writes nothing.
        kinds: the input kinds ``MotionInputs`` was built with (they fix the channel order).
        max_pairs: at most this many pairs, evenly spaced.

    Returns:
        uint8 RGB: (16 + rows * S + legend, 60 + n * S, 3), at least 480 px wide.
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
    pairs = np.unique(np.linspace(0, p - 1, min(max_pairs, p)).round().astype(int))
    rows = []
    if "red" in names:
        rows.append(("rgb", [(x[i, :3].permute(1, 2, 0).clamp(0, 1).numpy() * 255)
                             .astype(np.uint8) for i in pairs]))  # fmt: skip
    if "flow_x" in names:
        fx, fy = names.index("flow_x"), names.index("flow_y")
        rows.append(("flow", [flow_to_colour(x[i, [fx, fy]].permute(1, 2, 0).numpy() * 20)
                              for i in pairs]))  # fmt: skip
    if heat:
        tiles = []
        for i in pairs:
            glow = x[i, heat].amax(0).clamp(0, 1).numpy()[..., None]
            tiles.append((glow * np.array(MAGENTA)).astype(np.uint8))
        rows.append(("keypoints", tiles))
    label_w, top = 60, 16
    grid = np.zeros((top + len(rows) * s, label_w + len(pairs) * s, 3), np.uint8)
    for r, (label, tiles) in enumerate(rows):
        y = top + r * s
        cv2.putText(grid, label, (4, y + s // 2 + 4), FONT, 0.4, WHITE, 1, cv2.LINE_AA)
        for c, (i, tile) in enumerate(zip(pairs, tiles, strict=True)):
            tile = np.ascontiguousarray(tile)
            if x[i, -1].max() > 0:
                cv2.rectangle(tile, (0, 0), (s - 1, s - 1), RED, 3)
            grid[y : y + s, label_w + c * s : label_w + (c + 1) * s] = tile
    for c, i in enumerate(pairs):
        cv2.putText(grid, f"pair {i}", (label_w + c * s + 3, 12), FONT, 0.35, WHITE, 1,
                    cv2.LINE_AA)  # fmt: skip
    items = [(RED, "border: totally occluded pair"), (MAGENTA, "keypoint heatmaps")]
    lines = [f"flow: hue = direction, white = still, full colour = {FLOW_FULL:g} px or more"]
    sheet = with_legend(grid, items if heat else items[:1], lines, key=_wheel_key())
    _save(sheet, path)
    return sheet


def draw_skeleton(
    img: np.ndarray, points: np.ndarray, colour: tuple, bones=None, radius: int = 3
) -> None:
    """Draw joints (J, 2) pixels and the bones between them onto ``img`` in place.

    Args:
        img: uint8 (H, W, 3).
        points: (J, 2) x, y; non-finite joints are skipped.
        colour: RGB.
        bones: pairs of joint indices; default: LSP-14's when J = 14, none otherwise.
        radius: joint dot radius.
    """
    bones = LSP14_BONES if bones is None and len(points) == 14 else (bones or ())
    finite = np.isfinite(points).all(-1)
    for a, b in bones:
        if finite[a] and finite[b]:
            pa, pb = points[a].round().astype(int), points[b].round().astype(int)
            cv2.line(img, tuple(pa), tuple(pb), colour, 2, cv2.LINE_AA)
    for j, (px, py) in enumerate(points):
        if finite[j]:
            cv2.circle(img, (round(px), round(py)), radius, colour, -1, cv2.LINE_AA)
