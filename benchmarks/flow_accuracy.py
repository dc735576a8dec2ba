"""Flow accuracy beside speed: every estimator on real photos moved by known motion.

    python -m benchmarks.flow_accuracy [--pairs 8] [--clips 4] [--json PATH]

Two tables, both on scikit-image photos that the built-in backgrounds do not use:

- dense flow (the crops' flow, R22): each photo, cut to ``--size``, is resampled by a known
  smooth field of up to ``--magnitude`` px (``first(p) = photo(p + f(p))``, so the true flow
  from ``first`` to the photo is exactly ``f``); endpoint error (EPE) per pixel, median and
  mean, and milliseconds per pair;
- camera motion (R1, R2): clips panned across a photo along a known sub-pixel path (up to
  ``--pan`` px/frame plus a jitter); the integrated ``camera_shift`` against the true one,
  median and 95th percentile of the error in px, and milliseconds per clip.

Everything runs on the CPU (the torch estimators too), one estimator after another.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
import torch

from simcomp.flow import (
    LucasKanade,
    OpenCVDenseFlow,
    OpenCVFlowMedian,
    OpenCVSparseMedian,
    PhaseCorrelation,
    integrate_motion,
)

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field")


def photo(name: str, size: tuple[int, int]) -> np.ndarray:
    """A scikit-image photo as float32 RGB in [0, 1], resized to ``size`` (H, W)."""
    import skimage.data

    img = getattr(skimage.data, name)()
    img = np.repeat(img[..., None], 3, -1) if img.ndim == 2 else img[..., :3]
    return cv2.resize(img, size[::-1], interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def smooth_field(size: tuple[int, int], magnitude: float, rng: np.random.Generator) -> np.ndarray:
    """A random smooth flow (H, W, 2): a few low-frequency waves, largest length ``magnitude``."""
    h, w = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    field = np.zeros((h, w, 2), np.float32)
    for _ in range(4):
        kx, ky = rng.uniform(-1.5, 1.5, 2) * 2 * np.pi / np.array([w, h])
        phase = rng.uniform(0, 2 * np.pi)
        field += rng.normal(size=2).astype(np.float32) * np.cos(kx * x + ky * y + phase)[..., None]
    field += rng.normal(size=2).astype(np.float32)  # a translation too
    return field * (magnitude / np.linalg.norm(field, axis=-1).max())


def dense_pairs(n: int, size, magnitude: float, seed: int = 0):
    """``n`` (first, second, true flow) triples: tensors (N, 3, H, W) x 2 and (N, 2, H, W)."""
    rng = np.random.default_rng(seed)
    firsts, seconds, flows = [], [], []
    for i in range(n):
        second = photo(PHOTOS[i % len(PHOTOS)], size)
        f = smooth_field(size, magnitude, rng)
        y, x = np.mgrid[0 : size[0], 0 : size[1]].astype(np.float32)
        first = cv2.remap(second, x + f[..., 0], y + f[..., 1], cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip
        firsts.append(first), seconds.append(second), flows.append(f)

    def stack(a):
        return torch.from_numpy(np.stack(a)).permute(0, 3, 1, 2).contiguous()

    return stack(firsts), stack(seconds), stack(flows)


def panned_clips(n: int, frames: int, size, pan: float, seed: int = 0):
    """``n`` clips (N, T, 3, H, W) panned across photos, and their true camera_shift (N, T, 2)."""
    rng = np.random.default_rng(seed)
    h, w = size
    clips, shifts = [], []
    for i in range(n):
        canvas = photo(PHOTOS[i % len(PHOTOS)], (2 * h, 2 * w))
        velocity = rng.uniform(-pan, pan, 2)
        steps = velocity + rng.normal(scale=0.3 * pan, size=(frames - 1, 2))
        centre = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, 0)])
        centre -= centre[frames // 2]  # the window's offset from its centre-frame position
        out = []
        for cx, cy in centre:  # window top-left at (w/2 + cx, h/2 + cy) on the canvas
            m = np.float32([[1, 0, -(w / 2 + cx)], [0, 1, -(h / 2 + cy)]])
            out.append(cv2.warpAffine(canvas, m, (w, h), flags=cv2.INTER_LINEAR))
        clips.append(np.stack(out))
        shifts.append(-centre)  # content moves against the window
    clips = torch.from_numpy(np.stack(clips)).permute(0, 1, 4, 2, 3).contiguous()
    return clips, torch.from_numpy(np.stack(shifts)).float()


DENSE = {
    "dis ultrafast": lambda: OpenCVDenseFlow("ultrafast"),
    "dis ultrafast-full (CPU default)": lambda: OpenCVDenseFlow("ultrafast-full"),
    "dis fast": lambda: OpenCVDenseFlow("fast"),
    "dis medium": lambda: OpenCVDenseFlow("medium"),
    "lucas-kanade (torch, GPU default)": LucasKanade,
}
CAMERA = {
    "dis medium, full size": lambda: OpenCVFlowMedian("dis", "medium", 1.0),
    "dis fast, full size": lambda: OpenCVFlowMedian("dis", "fast", 1.0),
    "dis medium, half size": lambda: OpenCVFlowMedian("dis", "medium", 0.5),
    "sparse lucas-kanade (CPU default)": OpenCVSparseMedian,
    "phase correlation (torch, GPU default)": PhaseCorrelation,
}


def _timed(fn):
    fn()  # warm-up: FFT plans, OpenCV's buffers
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def measure(pairs: int, clips: int, frames: int, size, magnitude: float, pan: float) -> dict:
    first, second, truth = dense_pairs(pairs, size, magnitude)
    dense = {}
    for name, make in DENSE.items():
        est = make()
        flow, seconds = _timed(lambda est=est: est(first, second))
        epe = (flow - truth).norm(dim=1)[:, 8:-8, 8:-8]  # borders: content left the frame
        dense[name] = {"median_epe": float(epe.median()), "mean_epe": float(epe.mean()),
                       "ms_per_pair": 1e3 * seconds / pairs}  # fmt: skip
    video, shift = panned_clips(clips, frames, size, pan)
    camera = {}
    for name, make in CAMERA.items():
        est = make()
        motion, seconds = _timed(lambda est=est: est(video))
        err = (integrate_motion(motion) - shift).norm(dim=-1)
        camera[name] = {"median_px": float(err.median()), "p95_px": float(err.quantile(0.95)),
                        "ms_per_clip": 1e3 * seconds / clips}  # fmt: skip
    return {"dense": dense, "camera": camera}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=12, help="dense pairs (default 12)")
    ap.add_argument("--clips", type=int, default=4, help="panned clips (default 4)")
    ap.add_argument("--frames", type=int, default=31, help="frames per clip (default 31)")
    ap.add_argument("--size", type=int, nargs=2, default=(240, 320), metavar=("H", "W"))
    ap.add_argument("--magnitude", type=float, default=10.0, help="largest true flow, px")
    ap.add_argument("--pan", type=float, default=8.0, help="pan speed, px/frame (default 8)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    torch.manual_seed(0)
    res = measure(args.pairs, args.clips, args.frames, tuple(args.size), args.magnitude, args.pan)
    print(f"dense flow, {args.pairs} photo pairs {args.size[0]}x{args.size[1]}, "
          f"smooth fields up to {args.magnitude:g} px")  # fmt: skip
    print(f"{'estimator':<40}{'median EPE':>11}{'mean EPE':>10}{'ms/pair':>9}")
    for name, r in res["dense"].items():
        print(f"{name:<40}{r['median_epe']:>11.3f}{r['mean_epe']:>10.3f}{r['ms_per_pair']:>9.2f}")
    print(f"\ncamera motion, {args.clips} clips of {args.frames} frames panned up to "
          f"{args.pan:g} px/frame (error of camera_shift, px)")  # fmt: skip
    print(f"{'estimator':<40}{'median':>11}{'95th pct':>10}{'ms/clip':>9}")
    for name, r in res["camera"].items():
        print(f"{name:<40}{r['median_px']:>11.3f}{r['p95_px']:>10.3f}{r['ms_per_clip']:>9.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
