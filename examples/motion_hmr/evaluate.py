"""The 3DPW evaluation protocol of the paper (SPEC R30-R33), with its choices as arguments.

Inputs come from the same simcomp assembly the trainer uses (crops from the detections, flow,
heatmaps of the detector's keypoints); frames with fewer than ``min_visible`` detected
keypoints are totally occluded at the input (R13) and not scored (R31).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import torch

from simcomp.data.pw3d import Track, read_frames, track_clip
from simcomp.joints import SMPL_TO_LSP14
from simcomp.metrics import accel_error, mpjpe, pa_mpjpe, pck, procrustes_align
from simcomp.transforms import Compose, MotionInputs, PersonCrop
from simcomp.viz import GREEN, RED, WHITE, YELLOW, draw_skeleton, with_legend

from .config import Config
from .model import per_frame


@dataclasses.dataclass
class Protocol:
    """What is scored and how it is averaged; printed with every result."""

    clip_length: int = 31  # R30
    min_visible: int = 7  # R31: at least 7 visible keypoints
    confidence: float = 0.1  # a keypoint is visible above this detector confidence
    use_campose_valid: bool = False  # SPIN/official keep only campose_valid frames
    averaging: str = "person"  # R33: per person, then over persons ("frame", "sequence")
    pck_threshold: float = 0.15  # metres, on Procrustes-aligned joints

    HELP = {
        "clip_length": "frames per window fed to the model (R30); windows cover every frame",
        "min_visible": "a frame is scored when at least this many of the 14 joints are "
        "detected (R31)",
        "confidence": "a 2-D detection counts as seen above this confidence",
        "use_campose_valid": "also drop frames whose camera pose 3DPW marks invalid "
        "(SPIN's and the official protocol)",
        "averaging": "frame: over all scored frames; person: per person, then over persons "
        "(R33); sequence: per sequence, then over sequences",
        "pck_threshold": "PCK's distance threshold in metres, on Procrustes-aligned joints",
    }

    def describe(self) -> str:
        """One line for the logs."""
        return ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(self).items())


def windows(n: int, length: int) -> list[int]:
    """Starts of ``length``-frame windows covering ``n`` frames (the last one may overlap)."""
    if n <= length:
        return [0]
    starts = list(range(0, n - length + 1, length))
    if starts[-1] + length < n:
        starts.append(n - length)
    return starts


@torch.no_grad()
def predict_track(model, track: Track, cfg: Config, proto: Protocol, device) -> np.ndarray:
    """Predicted 24 joints (N, 24, 3) for every frame of a track.

    The crops' flow comes from ``cfg.flow``: the estimator the model was trained with.
    """
    n = len(track.joints_3d)
    assemble = Compose([
        PersonCrop(crop_size=cfg.crop_size, person_size=150.0 * cfg.crop_size / 224),
        MotionInputs(kinds=cfg.inputs, crop_size=cfg.crop_size, flow=cfg.flow),
    ])  # fmt: skip
    out = np.zeros((n, 24, 3))
    done = np.zeros(n, bool)
    for start in windows(n, proto.clip_length):
        stop = min(n, start + proto.clip_length)
        window = Track(**{**track.__dict__, "keypoints_2d": track.keypoints_2d[start:stop],
                          "confidence": track.confidence[start:stop]})  # fmt: skip
        frames = read_frames(track, start, stop)
        clip = track_clip(window, frames, proto.confidence, proto.min_visible).to(device)
        clip = assemble(clip, torch.Generator().manual_seed(0))
        joints = per_frame(model(clip.inputs))[0].float().cpu().numpy()  # (T, 24, 3)
        fresh = ~done[start:stop]
        out[start:stop][fresh] = joints[fresh]
        done[start:stop] = True
    return out


def score_track(pred: np.ndarray, track: Track, proto: Protocol) -> dict[str, np.ndarray]:
    """Per-frame errors (mm) and the mask of scored frames (R31)."""
    lsp = list(SMPL_TO_LSP14)
    p = torch.from_numpy(pred[:, lsp]).double()
    g = torch.from_numpy(track.joints_3d[:, lsp]).double()
    scored = (track.confidence > proto.confidence).sum(1) >= proto.min_visible
    if proto.use_campose_valid:
        scored &= track.campose_valid
    aligned = procrustes_align(p, g)
    centred_p, centred_g = p - p[:, 2:4].mean(1, keepdim=True), g - g[:, 2:4].mean(1, keepdim=True)
    acc = (
        accel_error(centred_p, centred_g, torch.from_numpy(scored), scale=1000)
        if len(p) >= 3
        else torch.zeros(0)
    )
    return {
        "scored": scored,
        "pa_mpjpe": pa_mpjpe(p, g, scale=1000).numpy(),
        "mpjpe": mpjpe(p, g, scale=1000).numpy(),
        "pck": pck(aligned, g, proto.pck_threshold).numpy(),
        "accel": acc.numpy(),
    }


def nan_mean(x: np.ndarray) -> float:
    """Mean ignoring NaN; NaN (without a warning) when nothing is left."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else float("nan")


def aggregate(rows: list[dict], proto: Protocol) -> dict[str, float]:
    """Average per frame, per person then over persons (R33), or per sequence then over them."""
    metrics = ("pa_mpjpe", "mpjpe", "pck")
    if proto.averaging == "frame":
        out = {m: nan_mean(np.concatenate([r[m][r["scored"]] for r in rows])) for m in metrics}
        out["accel"] = nan_mean(np.concatenate([r["accel"] for r in rows]))
        return out
    key = "person" if proto.averaging == "person" else "sequence"
    groups = defaultdict(list)
    for r in rows:
        groups[r[key]].append(r)
    per_group = []
    for rs in groups.values():
        g = {m: nan_mean(np.concatenate([r[m][r["scored"]] for r in rs])) for m in metrics}
        g["accel"] = nan_mean(np.concatenate([r["accel"] for r in rs]))
        per_group.append(g)
    return {m: nan_mean([g[m] for g in per_group]) for m in (*metrics, "accel")}


def draw_predictions(track: Track, pred: np.ndarray, path: Path, frames=(0, 15, 30)) -> None:
    """For a few frames: the image with its 2-D detections, then the 3-D truth (green) and the
    Procrustes-aligned prediction (red) as LSP-14 skeletons seen from the front and the side,
    with the frame's PA-MPJPE written on it and a legend below."""
    panels = []
    lsp = list(SMPL_TO_LSP14)
    for f in [f for f in frames if f < len(pred)]:
        img = np.ascontiguousarray(read_frames(track, f, f + 1)[0])
        seen = track.confidence[f] > 0.1
        draw_skeleton(img, np.where(seen[:, None], track.keypoints_2d[f], np.nan), YELLOW, radius=2)
        side = img.shape[0]
        truth = torch.from_numpy(track.joints_3d[f, lsp])
        aligned = procrustes_align(torch.from_numpy(pred[f, lsp]).to(truth), truth)
        error = float((aligned - truth).norm(dim=-1).mean()) * 1000
        views = []
        for axis, name in ((0, "front"), (2, "side")):
            view = np.full((side, side, 3), 255, np.uint8)
            centre = truth.numpy().mean(0)
            for joints, colour in ((truth.numpy(), GREEN), (aligned.numpy(), RED)):
                xy = (joints - centre)[:, [axis, 1]] * side / 2.2 + side / 2
                draw_skeleton(view, xy, colour)
            cv2.putText(view, name, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
            views.append(view)
        label = f"frame {f}: PA-MPJPE {error:.0f} mm"
        cv2.putText(img, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, WHITE, 2)
        cv2.putText(img, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
        panels.append(np.concatenate([img, *views], 1))
    if panels:
        sheet = np.concatenate(panels, 0)
        items = [(YELLOW, "2-D detections"), (GREEN, "3-D truth"),
                 (RED, "prediction, Procrustes-aligned")]  # fmt: skip
        sheet = with_legend(sheet, items, [f"{track.sequence}, actor {track.actor}"])
        cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
