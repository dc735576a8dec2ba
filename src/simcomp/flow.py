"""Camera motion and optical flow estimators behind one small protocol (R1, R2).

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
from ._device import upload


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
    weights = upload([0.299, 0.587, 0.114], frames.device, frames.dtype).view(1, 1, 3, 1, 1)
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

    Coarse to fine: first the whole frame's phase correlation at ``1 / coarse`` resolution
    gives the motion to a few pixels, for pans up to half the frame (at 240 x 320, 120 px per
    frame vertically, 160 horizontally). The second frame, shifted back by that estimate, is
    then cut into overlapping tiles; each tile's residual translation comes from the peak of
    its phase correlation (refined to sub-pixel by a parabola through the peak's neighbours),
    and the per-frame motion is the median over tiles, as R1 takes the median of the flow, so
    independently moving objects covering a minority of the frame (up to ~20%) do not move it.
    Gauss-Newton steps of a robust (Tukey-weighted) global translation fit on the image
    gradients then polish it.

    Args:
        tile: tile side in pixels (residuals up to tile/2 per frame are found).
        coarse: downsampling of the coarse whole-frame stage (1 skips it: then motions only
            up to tile/2 are found).
        refine: Gauss-Newton refinement steps after the phase-correlation estimate.
        border: pixels ignored at each border in the refinement.
    """

    def __init__(self, tile: int = 64, refine: int = 3, border: int = 12, coarse: int = 4) -> None:
        self.tile, self.coarse = tile, coarse
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
            # Tensor.unfold is a strided view; nn.functional.unfold launches a kernel per image
            # on CUDA (1920 launches at batch 32), which dominated the whole preset there.
            return x.unfold(2, size, step).unfold(3, size, step).reshape(n, t, -1, size, size)

        start = self._coarse_motion(a, b)  # integer pixels, (B, T-1, 2)
        shifted = _shift(b, start)
        motion = start + self._phase(tiles(a), tiles(shifted)).median(2).values
        for _ in range(self.refine):
            motion = motion + self._gauss_newton(a, b, motion)
        return motion

    def _coarse_motion(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Whole-frame phase correlation at reduced resolution, rounded to whole pixels."""
        f = max(1, min(self.coarse, min(a.shape[-2:]) // 16))
        if f == 1:  # coarse=1, or frames under 32 px: no coarse stage
            return torch.zeros(*a.shape[:2], 2, device=a.device, dtype=a.dtype)
        if f > 1:
            n, t, h, w = a.shape
            a = torch.nn.functional.avg_pool2d(a.reshape(n * t, 1, h, w), f).view(n, t, h // f, -1)
            b = torch.nn.functional.avg_pool2d(b.reshape(n * t, 1, h, w), f).view(n, t, h // f, -1)
        return (self._phase(a, b) * f).round()

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


def _shift(x: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
    """Frames x (B, T, H, W) read at p + motion (whole pixels, (B, T, 2)), edges replicated."""
    n, t, h, w = x.shape
    dx, dy = motion.long().unbind(-1)
    rows = (torch.arange(h, device=x.device) + dy[..., None]).clamp(0, h - 1)  # (B, T, H)
    cols = (torch.arange(w, device=x.device) + dx[..., None]).clamp(0, w - 1)  # (B, T, W)
    x = x.gather(2, rows[..., None].expand(n, t, h, w))
    return x.gather(3, cols[..., None, :].expand(n, t, h, w))


class OpenCVFlowMedian:
    """The CPU reference of R1: OpenCV dense flow (DIS or Farneback), per-frame median.

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


@runtime_checkable
class DenseFlowEstimator(Protocol):
    """Anything that maps two batches of frames (N, 3, H, W) to dense flow (N, 2, H, W).

    ``flow[:, :, y, x]`` is where pixel (x, y) of ``first`` moved to in ``second``, (dx, dy).
    A user's RAFT or FlowNet module fits when wrapped to this signature.
    """

    def __call__(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Estimate the flow from ``first`` to ``second``."""
        ...


class LucasKanade:
    """Batched coarse-to-fine dense Lucas-Kanade optical flow with warping, on the frames' device.

    At each pyramid level the flow is refined ``warps`` times: warp the second frame by the
    current flow, then solve each pixel's 2x2 normal equations over a ``window`` box
    (Tikhonov-regularised by ``damping``, so flat regions fall back to the coarser flow).

    Args:
        levels: pyramid levels (each halves the size).
        warps: refinements per level.
        window: side of the box window, pixels (odd).
        damping: added to the structure tensor's diagonal.
    """

    def __init__(self, levels: int = 4, warps: int = 3, window: int = 9, damping: float = 1e-4):
        if window % 2 != 1:
            raise ValueError(f"window: expected an odd size, got {window}")
        self.levels, self.warps, self.window, self.damping = levels, warps, window, damping

    def __call__(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Flow (N, 2, H, W) from first to second, both (N, 3, H, W) in [0, 1]."""
        check_tensor("first", first, ("N", 3, "H", "W"), dtype="float")
        sizes = {"N": first.shape[0], "H": first.shape[2], "W": first.shape[3]}
        check_tensor("second", second, ("N", 3, "H", "W"), sizes, dtype="float")
        f = torch.nn.functional
        pyramid = [(_gray(first[:, None]), _gray(second[:, None]))]  # (N, 1, H, W) each
        for _ in range(self.levels - 1):
            if min(pyramid[-1][0].shape[-2:]) < 2 * self.window:
                break
            pyramid.append(tuple(f.avg_pool2d(x, 2) for x in pyramid[-1]))
        a = pyramid[-1][0]
        flow = torch.zeros(a.shape[0], 2, *a.shape[-2:], device=a.device, dtype=a.dtype)
        r = self.window // 2

        def box(x):
            return f.avg_pool2d(f.pad(x, (r, r, r, r), mode="replicate"), self.window, stride=1)

        for la, lb in reversed(pyramid):
            if flow.shape[-2:] != la.shape[-2:]:
                flow = 2 * f.interpolate(
                    flow, size=la.shape[-2:], mode="bilinear", align_corners=False
                )
            ix, iy = _grad_x(la), _grad_y(la)
            sxx, sxy, syy = box(ix * ix) + self.damping, box(ix * iy), box(iy * iy) + self.damping
            det = sxx * syy - sxy * sxy
            for _ in range(self.warps):
                it = _warp(lb, flow) - la
                bx, by = -box(ix * it), -box(iy * it)
                du = torch.cat(((syy * bx - sxy * by) / det, (sxx * by - sxy * bx) / det), 1)
                flow = flow + du
        return flow


def _grad_x(x: torch.Tensor) -> torch.Tensor:
    p = torch.nn.functional.pad(x, (1, 1, 0, 0), mode="replicate")
    return (p[..., 2:] - p[..., :-2]) / 2


def _grad_y(x: torch.Tensor) -> torch.Tensor:
    p = torch.nn.functional.pad(x, (0, 0, 1, 1), mode="replicate")
    return (p[..., 2:, :] - p[..., :-2, :]) / 2


def _warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """X (N, C, H, W) sampled at p + flow(p): brings ``second`` back onto ``first``."""
    n, _, h, w = x.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, device=x.device, dtype=x.dtype) + 0.5,
        torch.arange(w, device=x.device, dtype=x.dtype) + 0.5,
        indexing="ij",
    )
    gx = (xs + flow[:, 0]) * 2 / w - 1
    gy = (ys + flow[:, 1]) * 2 / h - 1
    grid = torch.stack((gx, gy), -1)
    return torch.nn.functional.grid_sample(x, grid, align_corners=False, padding_mode="border")


class OpenCVDenseFlow:
    """OpenCV DIS dense flow, pair by pair on the CPU (the reference); moved back after."""

    def __call__(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Flow (N, 2, H, W) from first to second, both (N, 3, H, W) in [0, 1]."""
        frames = torch.stack((first, second), 1)
        flow = OpenCVFlowMedian("dis").dense(frames)[:, 0]  # (N, H, W, 2)
        return torch.from_numpy(flow).permute(0, 3, 1, 2).to(first.device, first.dtype)


class Auto:
    """Pick an estimator by the frames' device: OpenCV on the CPU, the torch one elsewhere.

    On the CPU, OpenCV's C++ (DIS) beats batched torch; on a GPU the torch estimators run
    where the data is, with no copy to the host. The two agree closely but not bit for bit.

    Args:
        cpu: estimator for CPU tensors.
        device: estimator for anything else (CUDA).

    Example:
        >>> camera = Auto(OpenCVFlowMedian(), PhaseCorrelation())
    """

    def __init__(self, cpu, device) -> None:
        self.cpu, self.device = cpu, device

    def __call__(self, *frames: torch.Tensor) -> torch.Tensor:
        """Delegate to the estimator for ``frames[0].device``."""
        return (self.cpu if frames[0].device.type == "cpu" else self.device)(*frames)


# What "auto" stands for: the estimator's name on the CPU, then elsewhere (CUDA).
AUTO_CAMERA = ("dis", "phase")
AUTO_FLOW = ("dis", "lucas-kanade")


def auto_camera_motion() -> Auto:
    """Camera motion: OpenCV DIS median flow on the CPU, phase correlation on the GPU."""
    return Auto(*(CAMERA_ESTIMATORS[name]() for name in AUTO_CAMERA))


def auto_dense_flow() -> Auto:
    """Dense flow: OpenCV DIS on the CPU, batched Lucas-Kanade on the GPU."""
    return Auto(*(DENSE_ESTIMATORS[name]() for name in AUTO_FLOW))


CAMERA_ESTIMATORS = {"auto": auto_camera_motion, "dis": lambda: OpenCVFlowMedian("dis"),
                     "phase": PhaseCorrelation}  # fmt: skip
DENSE_ESTIMATORS = {"auto": auto_dense_flow, "dis": OpenCVDenseFlow, "lucas-kanade": LucasKanade}
#: The smallest frame side the flow estimators take (OpenCV's DIS refuses smaller).
MIN_FLOW_SIZE = 16


def _resolve(name: str, spec, table: dict, allow_none: bool):
    if spec is None and allow_none:
        return None
    if isinstance(spec, str):
        if spec not in table:
            raise ValueError(
                f"{name}: expected one of {sorted(table)} or an estimator, got {spec!r}"
            )
        return table[spec]()
    if not callable(spec):
        raise TypeError(
            f"{name}: expected a name {sorted(table)} or a callable estimator, "
            f"got {type(spec).__name__}"
        )
    return spec


def concrete_names(estimator: str, flow: str, device: torch.device) -> tuple[str, str]:
    """The estimators "auto" stands for on ``device``, by name (what a checkpoint records).

    Example:
        >>> concrete_names("auto", "auto", torch.device("cpu"))
        ('dis', 'dis')
    """
    gpu = int(torch.device(device).type != "cpu")
    return (
        AUTO_CAMERA[gpu] if estimator == "auto" else estimator,
        AUTO_FLOW[gpu] if flow == "auto" else flow,
    )


def camera_motion_estimator(
    spec: CameraMotionEstimator | str | None,
) -> CameraMotionEstimator | None:
    """An estimator from a name ("auto", "dis", "phase"), a callable, or None (no estimate)."""
    return _resolve("estimator", spec, CAMERA_ESTIMATORS, allow_none=True)


def dense_flow_estimator(spec: DenseFlowEstimator | str) -> DenseFlowEstimator:
    """An estimator from a name ("auto", "dis", "lucas-kanade") or a callable."""
    return _resolve("flow", spec, DENSE_ESTIMATORS, allow_none=False)
