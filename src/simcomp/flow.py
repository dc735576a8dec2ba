"""Camera motion and optical flow estimators behind one small protocol (SPEC R1, R2).

Sign conventions (tested):

- ``motion[:, t]`` (B, T-1, 2) is the camera motion from frame t to frame t+1 as image flow:
  a static scene point at pixel p in frame t is at p + motion[:, t] in frame t+1 (x, y).
- ``camera_shift[:, t]`` (B, T, 2) integrates it, referenced to the centre frame c = T // 2:
  a static point at p in frame c is at p + camera_shift[:, t] in frame t, and
  camera_shift[:, c] = 0 (R2). A window panning right makes the content, and so the shift, go left.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch

from ._checks import check_tensor


@runtime_checkable
class CameraMotionEstimator(Protocol):
    """Anything that maps frames (B, T, 3, H, W) to per-frame camera motion (B, T-1, 2)."""

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """Estimate the motion from each frame to the next."""
        ...


def integrate_motion(motion: torch.Tensor) -> torch.Tensor:
    """Integrate per-frame motion (B, T-1, 2) into a camera trajectory (B, T, 2), centre = 0.

    Example:
        >>> integrate_motion(torch.tensor([[[1.0, 0.0], [2.0, 0.0]]]))[0, :, 0]
        tensor([-1.,  0.,  2.])
    """
    check_tensor("motion", motion, (None, None, 2), dtype="float")
    path = torch.cat([torch.zeros_like(motion[:, :1]), torch.cumsum(motion, 1)], 1)
    c = path.shape[1] // 2
    return path - path[:, c : c + 1]


def _gray(frames: torch.Tensor) -> torch.Tensor:
    weights = frames.new_tensor([0.299, 0.587, 0.114]).view(1, 1, 3, 1, 1)
    return (frames * weights).sum(2)


def _check_frames(frames: torch.Tensor) -> torch.Tensor:
    check_tensor("frames", frames, (None, None, 3, None, None), dtype="float")
    if frames.shape[1] < 2:
        raise ValueError(
            f"frames: expected at least 2 frames to estimate motion, got {frames.shape[1]}"
        )
    return frames


class PhaseCorrelation:
    """Batched camera motion by phase correlation of consecutive frames, on the frames' device.

    The frame is cut into overlapping tiles; each tile's translation comes from the peak of
    its phase correlation (refined to sub-pixel by a parabola through the peak's neighbours),
    and the per-frame motion is the median over tiles, as R1 takes the median of the flow, so
    independently moving objects covering a minority of the frame (up to ~20%) do not move it.
    Gauss-Newton steps of a robust (Tukey-weighted) global translation fit on the image
    gradients then polish it.

    Args:
        tile: tile side in pixels (motions up to tile/2 per frame are found).
        refine: Gauss-Newton refinement steps after the phase-correlation estimate.
        border: pixels ignored at each border in the refinement.
    """

    def __init__(self, tile: int = 64, refine: int = 3, border: int = 12) -> None:
        self.tile = tile
        self.refine = refine
        self.border = border

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """Motion (B, T-1, 2) from frames (B, T, 3, H, W)."""
        gray = _gray(_check_frames(frames).float())
        a, b = gray[:, :-1], gray[:, 1:]
        n, t, h, w = a.shape
        size = min(self.tile, h, w)
        step = max(size // 2, 1)

        def tiles(x):  # (B, T-1, H, W) -> (B, T-1, K, size, size)
            x = x.reshape(n * t, 1, h, w)
            x = torch.nn.functional.unfold(x, size, stride=step)  # (N, size*size, K)
            return x.transpose(1, 2).reshape(n, t, -1, size, size)

        motion = self._phase(tiles(a), tiles(b)).median(2).values
        for _ in range(self.refine):
            motion = motion + self._gauss_newton(a, b, motion)
        return motion

    @staticmethod
    def _phase(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        h, w = a.shape[-2:]
        win = torch.outer(
            torch.hann_window(h, device=a.device), torch.hann_window(w, device=a.device)
        )
        fa = torch.fft.rfft2((a - a.mean((-2, -1), keepdim=True)) * win)
        fb = torch.fft.rfft2((b - b.mean((-2, -1), keepdim=True)) * win)
        cross = fb * fa.conj()
        corr = torch.fft.irfft2(cross / cross.abs().clamp(min=1e-9), s=(h, w))
        flat = corr.flatten(-2).argmax(-1)
        py, px = flat // w, flat % w

        def at(dy, dx):
            idx = ((py + dy) % h) * w + (px + dx) % w
            return corr.flatten(-2).gather(-1, idx[..., None])[..., 0]

        def vertex(m, c, p):
            den = m - 2 * c + p
            return torch.where(den.abs() > 1e-9, 0.5 * (m - p) / den, torch.zeros_like(den))

        c0 = at(0, 0)
        sx = px + vertex(at(0, -1), c0, at(0, 1)).clamp(-0.5, 0.5)
        sy = py + vertex(at(-1, 0), c0, at(1, 0)).clamp(-0.5, 0.5)
        sx = torch.where(sx > w / 2, sx - w, sx)
        sy = torch.where(sy > h / 2, sy - h, sy)
        return torch.stack((sx, sy), -1)

    def _gauss_newton(self, a: torch.Tensor, b: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
        """One robust step of the translation d minimising |b(p + motion + d) - a(p)|."""
        n, t, h, w = a.shape
        ys, xs = torch.meshgrid(
            torch.arange(h, device=a.device, dtype=a.dtype) + 0.5,
            torch.arange(w, device=a.device, dtype=a.dtype) + 0.5,
            indexing="ij",
        )
        x = xs + motion[..., 0, None, None]
        y = ys + motion[..., 1, None, None]
        grid = torch.stack((x * 2 / w - 1, y * 2 / h - 1), -1).reshape(n * t, h, w, 2)
        warped = torch.nn.functional.grid_sample(
            b.reshape(n * t, 1, h, w), grid, align_corners=False, padding_mode="border"
        ).reshape(n, t, h, w)
        gx = torch.zeros_like(warped)
        gy = torch.zeros_like(warped)
        gx[..., 1:-1] = (warped[..., 2:] - warped[..., :-2]) / 2
        gy[..., 1:-1, :] = (warped[..., 2:, :] - warped[..., :-2, :]) / 2
        r = warped - a
        e = self.border
        inside = torch.zeros(h, w, dtype=torch.bool, device=a.device)
        inside[e:-e, e:-e] = True
        valid = inside & (x >= e) & (x < w - e) & (y >= e) & (y < h - e)
        scale = 1.4826 * r.abs().flatten(-2).median(-1).values[..., None, None].clamp(min=1e-4)
        u = r / (4.685 * scale)
        wgt = torch.where(valid & (u.abs() < 1), (1 - u * u) ** 2, torch.zeros_like(u))
        sxx = (wgt * gx * gx).sum((-2, -1))
        sxy = (wgt * gx * gy).sum((-2, -1))
        syy = (wgt * gy * gy).sum((-2, -1))
        bx = -(wgt * gx * r).sum((-2, -1))
        by = -(wgt * gy * r).sum((-2, -1))
        det = (sxx * syy - sxy * sxy).clamp(min=1e-9)
        d = torch.stack(((syy * bx - sxy * by) / det, (sxx * by - sxy * bx) / det), -1)
        return d.clamp(-1, 1)


class OpenCVFlowMedian:
    """The CPU reference of SPEC R1: OpenCV dense flow (DIS or Farneback), per-frame median.

    Runs clip by clip and frame by frame on the CPU with NumPy, as the paper's offline pipeline
    did; the result is moved back to the frames' device.

    Args:
        method: "dis" or "farneback".
    """

    def __init__(self, method: str = "dis") -> None:
        if method not in ("dis", "farneback"):
            raise ValueError(f"method: expected 'dis' or 'farneback', got {method!r}")
        self.method = method

    def dense(self, frames: torch.Tensor) -> np.ndarray:
        """Dense flow (B, T-1, H, W, 2) float32 from frame t to t+1."""
        import cv2

        gray = (
            (_gray(_check_frames(frames)).clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        )
        b, t, h, w = gray.shape
        out = np.zeros((b, t - 1, h, w, 2), np.float32)
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        for i in range(b):
            for k in range(t - 1):
                if self.method == "dis":
                    out[i, k] = dis.calc(gray[i, k], gray[i, k + 1], None)
                else:
                    out[i, k] = cv2.calcOpticalFlowFarneback(
                        gray[i, k], gray[i, k + 1], None, 0.5, 4, 21, 3, 5, 1.1, 0
                    )
        return out

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """Motion (B, T-1, 2): the per-frame median of the dense flow."""
        flow = np.median(
            self.dense(frames).reshape(*frames.shape[:1], frames.shape[1] - 1, -1, 2), 2
        )
        return torch.from_numpy(flow).to(frames.device, frames.dtype)


class Precomputed:
    """Camera motion computed offline (the paper used TVL1): per-frame median or dense flow.

    Args:
        flow: per-frame motion (B, T-1, 2), or dense flow (B, T-1, 2, H, W) whose per-frame
            median over pixels is taken (R1).
    """

    def __init__(self, flow: torch.Tensor) -> None:
        if not isinstance(flow, torch.Tensor):
            raise TypeError(f"flow: expected a torch.Tensor, got {type(flow).__name__}")
        if flow.ndim == 5:
            check_tensor("flow", flow, (None, None, 2, None, None), dtype="float")
            flow = flow.flatten(-2).median(-1).values
        elif flow.ndim != 3:
            raise ValueError(
                f"flow: expected per-frame motion (B, T-1, 2) or dense flow (B, T-1, 2, H, W), "
                f"got shape {tuple(flow.shape)}"
            )
        self.motion = check_tensor("flow", flow, (None, None, 2), dtype="float")

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """The stored motion, checked against the frames' B and T."""
        b, t = frames.shape[:2]
        if self.motion.shape[:2] != (b, t - 1):
            raise ValueError(
                f"flow: expected motion for (B, T-1) = ({b}, {t - 1}) to match the frames, "
                f"got {tuple(self.motion.shape[:2])}"
            )
        return self.motion.to(frames.device)
