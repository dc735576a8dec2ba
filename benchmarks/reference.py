"""The paper's pipeline as it ran: one clip at a time on the CPU, NumPy + scikit-image + OpenCV.

The baseline the benchmarks compare simcomp with (same machine, same run). It follows SPEC
R1-R24 with the tools of the time: OpenCV DIS median flow for the camera (the paper used
TVL1 offline), integer shifts and hard compositing, scikit-image ``slic`` on the 4-D clip
with the camera-compensated coordinate channels, the visibility rules, HMR crops with
``cv2.warpAffine``, DIS flow on the crop pairs and NumPy heatmaps.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.segmentation import slic

LSP14 = [8, 5, 2, 1, 4, 7, 21, 19, 17, 16, 18, 20, 12, 15]
LEGS = [1, 2, 4, 5, 7, 8]
DIS = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def _gray(img):
    return cv2.cvtColor((img * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def _shift(a, dx, dy, fill):
    """a (H, W, ...) moved by whole pixels (dx, dy), ``fill`` where nothing moved in."""
    out = np.full_like(a, fill)
    h, w = a.shape[:2]
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = a[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def camera_shift(bg):
    """bg (T, H, W, 3) -> (T, 2): integrated per-frame median DIS flow, centre frame 0."""
    g = [_gray(f) for f in bg]
    med = [
        np.median(DIS.calc(a, b, None).reshape(-1, 2), 0)
        for a, b in zip(g[:-1], g[1:], strict=True)
    ]
    path = np.concatenate([np.zeros((1, 2)), np.cumsum(med, 0)])
    return path - path[len(bg) // 2]


def augment(person, bg, rng, crop=224):
    """One clip: person dict of (T, ...) arrays, bg (T, H, W, 3) -> inputs (T-1, 16, 224, 224)."""
    t, h, w, _ = bg.shape
    shift = camera_shift(bg)
    d = np.round(shift).astype(int)
    rgb = np.stack([_shift(person["rgb"][i], *d[i], 0.0) for i in range(t)])
    mask = np.stack([_shift(person["mask"][i], *d[i], False) for i in range(t)])
    depth = np.stack([_shift(person["depth"][i], *d[i], np.inf) for i in range(t)])
    joints = person["joints_2d"] + d[:, None]
    # SLIC occlusion (R6-R10)
    ys, xs = np.mgrid[:h, :w].astype(float)
    k = rng.uniform(4e-4, 6e-4)
    coords = np.stack(
        [np.stack([(xs - shift[i, 0]) * k, (ys - shift[i, 1]) * k], -1) for i in range(t)]
    )
    labels = slic(np.concatenate([bg, coords], -1), n_segments=int(rng.integers(10, 31)),
                  compactness=0.01, channel_axis=-1, convert2lab=False)  # fmt: skip
    occ = labels == rng.choice(np.unique(labels))
    ji = np.clip(np.floor(joints).astype(int), 0, [w - 1, h - 1])
    inside = (
        (joints[..., 0] >= 0) & (joints[..., 0] < w) & (joints[..., 1] >= 0) & (joints[..., 1] < h)
    )
    on_occ = occ[np.arange(t)[:, None], ji[..., 1], ji[..., 0]]
    if (occ & mask).any() and (inside & ~on_occ)[:, LSP14].sum(1).mean() >= 7:
        mask = mask & ~occ
    else:
        occ[:] = False
    frames = np.where(mask[..., None], rgb, bg)
    # total occlusion (R11), visibility (R14-R19)
    total = np.zeros(t, bool)
    if rng.random() < 0.5:
        n = int(rng.integers(1, 16))
        s = int(rng.integers(0, t - n + 1))
        total[s : s + n] = True
    surface = depth[np.arange(t)[:, None], ji[..., 1], ji[..., 0]]
    vis = inside & ~occ[np.arange(t)[:, None], ji[..., 1], ji[..., 0]] & ~total[:, None]
    vis &= ~(person["joints_3d"][..., 2] >= surface + 0.2)
    if rng.random() < 0.5:
        vis[:, LEGS] = True
    vis ^= rng.random(vis.shape) < 0.05
    # HMR crops (R20), pairs (R21), flow (R22), heatmaps (R23), assembly (R24)
    out = np.zeros((t - 1, 16, crop, crop), np.float32)
    grid = np.arange(crop) + 0.5
    for i in range(t - 1):
        use = vis[i] & inside[i] if (vis[i] & inside[i]).any() else inside[i]
        pts = joints[i][use] if use.any() else joints[i]
        lo, hi = pts.min(0), pts.max(0)
        scale = 150 / max(np.linalg.norm(hi - lo), 8)
        c = (lo + hi) / 2
        m = np.array([[scale, 0, crop / 2 - scale * c[0]], [0, scale, crop / 2 - scale * c[1]]])
        a, b = (
            cv2.warpAffine(f, m, (crop, crop), borderMode=cv2.BORDER_REPLICATE)
            for f in frames[i : i + 2]
        )
        flow = DIS.calc(_gray(a), _gray(b), None) / 20
        out[i, :2] = flow.transpose(2, 0, 1)
        out[i, 2] = np.linalg.norm(flow, axis=-1)
        jc = joints[i] * scale + m[:, 2]
        for k, j in enumerate(LSP14[:12]):
            if vis[i, j]:
                gx = np.exp(-0.5 * ((grid - jc[j, 0]) / 10) ** 2)
                gy = np.exp(-0.5 * ((grid - jc[j, 1]) / 10) ** 2)
                out[i, 3 + k] = gy[:, None] * gx[None]
        if total[i] or total[i + 1]:
            out[i, :15] = 0
            out[i, 15] = 1
    return out


def person_arrays(clip, index):
    """The fields of sample ``index`` of a simcomp Clip as NumPy arrays (T, ...)."""
    return {
        "rgb": clip.person_rgb[index].permute(0, 2, 3, 1).numpy(),
        "mask": clip.person_mask[index].numpy(),
        "depth": clip.person_depth[index].numpy(),
        "joints_2d": clip.joints_2d[index].numpy(),
        "joints_3d": clip.joints_3d[index].numpy(),
    }
