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
from ._parallel import side_by_side


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


# ITU-R 601 luma, as OpenCV's RGB -> grey.
GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def _gray(frames: torch.Tensor) -> torch.Tensor:
    weights = upload(list(GRAY_WEIGHTS), frames.device, frames.dtype).view(1, 1, 3, 1, 1)
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


# DIS's settings by name: OpenCV's three presets, and "ultrafast" carried down to full
# resolution (finest scale 1, no variational refinement), the crops' default.
DIS_PRESETS = {"ultrafast": ("ULTRAFAST", {}), "ultrafast-full": ("ULTRAFAST", {"FinestScale": 1}),
               "fast": ("FAST", {}), "medium": ("MEDIUM", {})}  # fmt: skip


def _dis(preset: str):
    import cv2

    if preset not in DIS_PRESETS:
        raise ValueError(f"preset: expected one of {sorted(DIS_PRESETS)}, got {preset!r}")
    name, settings = DIS_PRESETS[preset]
    dis = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{name}"))
    for key, value in settings.items():
        getattr(dis, f"set{key}")(value)
    return dis


def _gray_uint8(frames: torch.Tensor, scale: float = 1.0) -> np.ndarray:
    """Grey uint8 frames (..., H', W') for OpenCV from (..., 3, H, W), resized by ``scale``."""
    rgb = frames.detach().float().cpu().unbind(-3)
    r, g, b = (255 * w for w in GRAY_WEIGHTS)
    gray = rgb[0] * r  # one fused pass per channel, in place: no (..., 3, H, W) temporary
    gray.add_(rgb[1], alpha=g).add_(rgb[2], alpha=b)
    gray = gray.clamp_(0, 255).add_(0.5).to(torch.uint8).numpy()  # rounded half up
    if scale == 1:
        return gray
    import cv2

    h, w = gray.shape[-2:]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = [cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in gray.reshape(-1, h, w)]
    return np.stack(small).reshape(*gray.shape[:-2], size[1], size[0])


class OpenCVFlowMedian:
    """R1 on the CPU: OpenCV dense flow (DIS or Farneback), its per-frame median.

    Runs clip by clip and frame by frame on the CPU with NumPy, as the paper's offline pipeline
    did; the result is moved back to the frames' device. :class:`OpenCVSparseMedian` gets the
    same median from a grid of points, more accurately and eight times faster.

    Args:
        method: "dis" or "farneback".
        preset: DIS's settings (:data:`DIS_PRESETS`): "ultrafast", "ultrafast-full", "fast" or
            "medium".
        scale: resize factor of the frames before the flow (the flow is scaled back).
    """

    def __init__(self, method: str = "dis", preset: str = "medium", scale: float = 1.0) -> None:
        if method not in ("dis", "farneback"):
            raise ValueError(f"method: expected 'dis' or 'farneback', got {method!r}")
        if not 0 < scale <= 1:
            raise ValueError(f"scale: expected a factor in (0, 1], got {scale}")
        _dis(preset)  # a bad preset fails here, not at the first call
        self.method, self.preset, self.scale = method, preset, scale

    def dense(self, frames: torch.Tensor) -> np.ndarray:
        """Dense flow (B, T-1, H', W', 2) float32 from frame t to t+1, in full-size pixels."""
        import cv2

        gray = _gray_uint8(_check_frames(frames), self.scale)  # (B, T, H', W')
        b, t, h, w = gray.shape
        out = np.zeros((b, t - 1, h, w, 2), np.float32)
        dis = _dis(self.preset)
        for i in range(b):
            for k in range(t - 1):
                if self.method == "dis":
                    out[i, k] = dis.calc(gray[i, k], gray[i, k + 1], None)
                else:
                    out[i, k] = cv2.calcOpticalFlowFarneback(
                        gray[i, k], gray[i, k + 1], None, 0.5, 4, 21, 3, 5, 1.1, 0
                    )
        if self.scale != 1:
            out *= np.array([frames.shape[-1] / w, frames.shape[-2] / h], np.float32)
        return out

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """Motion (B, T-1, 2): the per-frame median of the dense flow."""
        flow = np.median(
            self.dense(frames).reshape(*frames.shape[:1], frames.shape[1] - 1, -1, 2), 2
        )
        return torch.from_numpy(flow).to(frames.device, frames.dtype)


class OpenCVSparseMedian:
    """R1 on the CPU, fast: the median of the flow at a grid of points (pyramidal Lucas-Kanade).

    The per-frame median of the flow sampled on a regular grid (one point every ``step``
    pixels) rather than at every pixel: OpenCV's pyramidal Lucas-Kanade tracks each point to
    the next frame, and the median over the points tracked is the frame's motion, so a moving
    person covering a minority of the points leaves it alone, as R1's dense median does. On
    real-photo pans it is 0.03 px from the true camera path (median) where DIS "medium"
    median flow is 0.07, in an eighth of the time (``python -m benchmarks.flow_accuracy``).
    Frame pairs run on the CPU, on as many threads as torch uses; the result goes back to the
    frames' device.

    Args:
        step: grid spacing in pixels.
        window: Lucas-Kanade window side (odd).
        levels: pyramid levels above full resolution (each halves; motions up to about
            ``window / 2 * 2 ** levels`` pixels per frame are found).
    """

    def __init__(self, step: int = 32, window: int = 21, levels: int = 3) -> None:
        if step < 1 or window < 3 or window % 2 != 1 or levels < 0:
            raise ValueError(
                f"step, window, levels: expected step >= 1, an odd window >= 3 and levels >= 0, "
                f"got {step}, {window}, {levels}"
            )
        self.step, self.window, self.levels = step, window, levels

    def points(self, h: int, w: int) -> np.ndarray:
        """The grid (P, 1, 2) float32 (x, y): cell centres, at least one point per axis."""
        ys = np.arange(self.step / 2, h, self.step) if h > self.step else np.array([h / 2])
        xs = np.arange(self.step / 2, w, self.step) if w > self.step else np.array([w / 2])
        grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 1, 2)
        return grid.astype(np.float32) - 0.5  # OpenCV's pixel centres are at integers

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """Motion (B, T-1, 2) from frames (B, T, 3, H, W)."""
        import cv2

        gray = _gray_uint8(_check_frames(frames))
        b, t, h, w = gray.shape
        pts = self.points(h, w)
        size = (self.window, self.window)
        stop = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.01)

        def pair(n: int) -> np.ndarray:
            i, k = divmod(n, t - 1)
            moved, ok, _ = cv2.calcOpticalFlowPyrLK(
                gray[i, k], gray[i, k + 1], pts, None, winSize=size, maxLevel=self.levels,
                criteria=stop,
            )  # fmt: skip
            tracked = (moved - pts)[ok[:, 0] == 1, 0]
            # nothing tracked (a blank frame): no motion
            return np.median(tracked, 0) if len(tracked) else np.zeros(2, np.float32)

        out = np.stack(side_by_side(pair, b * (t - 1))).reshape(b, t - 1, 2)
        return torch.from_numpy(out).to(frames.device, frames.dtype)


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
    """OpenCV DIS dense flow, pair by pair on the CPU; moved back to the frames' device.

    The default, "ultrafast-full" (DIS's ultrafast preset down to full resolution), is within
    2x of "medium"'s endpoint error on real photos warped by smooth fields (median 0.28 px
    against 0.18, mean 0.48 against 0.29 at 240 x 320) in about half its time
    (``python -m benchmarks.flow_accuracy``, README "Speed").

    Args:
        preset: DIS's settings (:data:`DIS_PRESETS`).
    """

    def __init__(self, preset: str = "ultrafast-full") -> None:
        _dis(preset)
        self.preset = preset

    def __call__(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Flow (N, 2, H, W) from first to second, both (N, 3, H, W) in [0, 1]."""
        check_tensor("first", first, ("N", 3, "H", "W"), dtype="float")
        sizes = {"N": first.shape[0], "H": first.shape[2], "W": first.shape[3]}
        check_tensor("second", second, ("N", 3, "H", "W"), sizes, dtype="float")
        a, b = _gray_uint8(first), _gray_uint8(second)
        dis = _dis(self.preset)
        flow = np.stack([dis.calc(x, y, None) for x, y in zip(a, b, strict=True)])
        return torch.from_numpy(flow).permute(0, 3, 1, 2).to(first.device, first.dtype)


class Auto:
    """Pick an estimator by the frames' device: OpenCV on the CPU, the torch one elsewhere.

    On the CPU, OpenCV's C++ (Lucas-Kanade, DIS) beats batched torch; on a GPU the torch
    estimators run where the data is, with no copy to the host. The two agree closely but not
    bit for bit.

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
AUTO_CAMERA = ("sparse-lk", "phase")
AUTO_FLOW = ("dis-ultrafast-full", "lucas-kanade")


def auto_camera_motion() -> Auto:
    """Camera motion: OpenCV sparse Lucas-Kanade on the CPU, phase correlation on the GPU."""
    return Auto(*(CAMERA_ESTIMATORS[name]() for name in AUTO_CAMERA))


def auto_dense_flow() -> Auto:
    """Dense flow: OpenCV DIS "ultrafast-full" on the CPU, batched Lucas-Kanade on the GPU."""
    return Auto(*(DENSE_ESTIMATORS[name]() for name in AUTO_FLOW))


CAMERA_ESTIMATORS = {"auto": auto_camera_motion, "dis": lambda: OpenCVFlowMedian("dis"),
                     "sparse-lk": OpenCVSparseMedian, "phase": PhaseCorrelation}  # fmt: skip
# A name keeps its meaning across versions (checkpoints record names): "dis" is DIS "medium".
DENSE_ESTIMATORS = {"auto": auto_dense_flow, "dis": lambda: OpenCVDenseFlow("medium"),
                    "dis-ultrafast-full": OpenCVDenseFlow, "lucas-kanade": LucasKanade}  # fmt: skip
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
        ('sparse-lk', 'dis-ultrafast-full')
    """
    gpu = int(torch.device(device).type != "cpu")
    return (
        AUTO_CAMERA[gpu] if estimator == "auto" else estimator,
        AUTO_FLOW[gpu] if flow == "auto" else flow,
    )


def camera_motion_estimator(
    spec: CameraMotionEstimator | str | None,
) -> CameraMotionEstimator | None:
    """An estimator from a name ("auto", "sparse-lk", "dis", "phase"), a callable, or None."""
    return _resolve("estimator", spec, CAMERA_ESTIMATORS, allow_none=True)


def dense_flow_estimator(spec: DenseFlowEstimator | str) -> DenseFlowEstimator:
    """An estimator from a name (:data:`DENSE_ESTIMATORS`' keys) or a callable."""
    return _resolve("flow", spec, DENSE_ESTIMATORS, allow_none=False)
