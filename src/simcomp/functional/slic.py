"""SLIC supervoxels over whole clips (R6-R8), batched in torch, and the scikit-image baseline.

The problem is scikit-image's ``slic`` on a 3-D multichannel volume with ``convert2lab=False``
(0.26): one global min-max rescale of the features, a seed grid over (t, y, x) from
``regular_grid`` (axes shorter than the step get one seed plane), distance = squared feature
distance / compactness^2 + squared spatial distance / step^2, search windows of +-2 steps
per axis (the steps of the grid of as many seeds as were placed, which may differ from the
step of the grid asked for; :func:`_windows`),
10 iterations, then connectivity enforced (components smaller than ``min_size_factor`` times
the mean supervoxel size merged into a neighbour).

For speed, k-means runs on the clip average-pooled in y and x by a factor that follows the
grid's step (step / 12, at most 4: 4 in the paper's regime, whose steps are 51-88 px; no
pooling where the grid is fine, as with dense seeds or small images, where k-means then runs
on the pixels exactly as scikit-image's does), starting, as scikit-image does, from centres
at the seeds with zero features (so the first assignment is by position alone). Then every
full-resolution pixel picks the best of the centres of its cell and the cell's four
neighbours, and connectivity is enforced once, on the pixels, as scikit-image does after its
k-means: exact connected components, then scikit-image's small-piece merge made order-free
(:mod:`simcomp.functional.connectivity`), so every supervoxel is one 6-connected region of at
least ``min_size_factor`` of the mean size.

Where the labels part from scikit-image's: the pooling, and the merge in two details. A small
piece joins the earlier neighbour that a search from its first voxel meets last, the search's
order taken as (L1 distance from that voxel, raster order) rather than scikit-image's queue
order (the same for pieces of up to two voxels, tested; a small first region, with the pieces
that joined it, takes the first large region's label as in scikit-image, the two always
touching); and supervoxels above 3x the mean size are not cut. Without pooling and before the
merge the labels are scikit-image's (tests/test_slic_skimage.py). On clips of real photos the
labelling agrees with scikit-image's at adjusted Rand index 0.76-0.85 (0.95-0.99 without
pooling), explains the colours as well and comes in the same numbers (README). The transform's
``backend="skimage"`` runs the exact baseline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .. import _fixed_point, cpu_kernels
from .. import cuda as cuda_kernels
from .._checks import check_tensor
from .._device import upload
from .._parallel import side_by_side
from .connectivity import _connected_and_merged


def slic_seeds(
    shape: Sequence[int], n_segments: Sequence[int]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seed grids of scikit-image's ``regular_grid`` for each clip, on the CPU (any n).

    Args:
        shape: (T, H, W).
        n_segments: the requested number of supervoxels per clip (R8: 10-30 for the clip).

    Returns:
        seeds (B, K, 3) float (t, y, x), valid bool (B, K) (K = the largest grid, padded), and
        step (B,) float, the grid's largest step (scikit-image's ``step``).

    Example:
        >>> seeds, valid, step = slic_seeds((31, 240, 320), [20])
        >>> seeds.shape, int(valid.sum()), step.tolist()
        (torch.Size([1, 20, 3]), 20, [62.0])
    """
    from skimage.util import regular_grid

    grids, steps = [], []
    for n in n_segments:
        if int(n) < 1:
            raise ValueError(f"n_segments: expected >= 1, got {n}")
        slices = regular_grid(tuple(int(d) for d in shape), int(n))
        axes = [np.arange(d)[sl] for d, sl in zip(shape, slices, strict=True)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
        grids.append(torch.from_numpy(grid).float())
        steps.append(float(max(sl.step or 1 for sl in slices)))
    k = max((len(g) for g in grids), default=0)
    seeds = torch.zeros(len(grids), k, 3)
    valid = torch.zeros(len(grids), k, dtype=torch.bool)
    for i, g in enumerate(grids):
        seeds[i, : len(g)] = g
        valid[i, : len(g)] = True
    return seeds, valid, torch.tensor(steps)


def _windows(shape: Sequence[int], valid: torch.Tensor) -> torch.Tensor:
    """Half-widths (B, 3) of scikit-image's search windows in (t, y, x), on ``valid``'s device.

    scikit-image's k-means searches +-2 steps around a centre, where the steps are those of
    ``regular_grid(shape, n)`` for n the number of centres it placed, which may differ from
    the grid of the n asked for (n_segments 10 on 31 x 240 x 320: 12 seeds, steps 31, 88, 88;
    windows from 12: steps 31, 80, 80). With ``valid`` on a GPU the windows of every possible
    count are made on the host and picked on the device, so no host sync is needed.
    """
    from skimage.util import regular_grid

    shape = tuple(int(d) for d in shape)

    def row(n: int) -> list[float]:
        return [2.0 * (sl.step or 1) for sl in regular_grid(shape, max(1, n))]

    counts = valid.sum(1)
    if not valid.is_cuda:
        return torch.tensor([row(n) for n in counts.tolist()], dtype=torch.float32).view(-1, 3)
    table = torch.tensor([row(n) for n in range(valid.shape[1] + 1)], dtype=torch.float32)
    return upload(table, valid.device)[counts]


def _reject_nonfinite(lo: torch.Tensor, hi: torch.Tensor, names: str = "features") -> None:
    """Reject NaN and inf features from their per-clip extremes (B,), which min and max carry.

    NaN poisons every distance, inf the min-max rescale. A ValueError naming ``names`` (the
    arguments the features come from) on the CPU; on CUDA a device-side assertion, so the check
    costs no host sync (it surfaces at the next synchronisation).
    """
    message = f"{names}: contains NaN or infinite values (SLIC needs finite features)"
    finite = (torch.isfinite(lo) & torch.isfinite(hi)).all()
    if lo.device.type == "cpu":
        if not finite:
            raise ValueError(message)
    else:
        torch._assert_async(finite, message)


def _assign(f, axes, centres, step, valid, windows):
    """Nearest centre (B, N) of pooled features f (B, N, C) on the grid ``axes`` (t, y, x).

    SLIC's distance less the pixel's own squared feature norm (the same for every centre):
    -2 f.m + |m|^2 + |p - c|^2 / step^2, infinite outside the centre's search window. The
    window is scikit-image's: along each axis the pixels from int(c - w) to int(c + w + 1),
    exclusive, that is -w - 1 < p - c <= w, with ``windows`` (B, 3) holding w per axis (twice
    the steps of the grid of as many seeds as the clip has, see :func:`_windows`). The grid is
    separable, so the spatial term and the window are built per axis and broadcast.

    On the CPU the (pixels x centres) distances are made a few frames of one clip at a time, so
    each block stays in cache between the product, the additions and the minimum (the same
    result, in about 70% of the time at batch 8), and against that clip's centres up to its
    last valid one (a batch pads its seed grids to the largest: at n_segments 10-30, a third
    of the distances were to padding). On CUDA all at once.
    """
    b, _, c = f.shape
    c_feat, c_pos = centres[..., :c], centres[..., c:]
    k = centres.shape[1]
    norm = torch.where(valid, (c_feat * c_feat).sum(-1), float("inf"))  # no padded seeds
    st = step.view(b, 1, 1)
    spatial = []
    for i, axis in enumerate(axes):
        delta = axis.view(1, -1, 1) - c_pos[:, None, :, i]  # (B, n_axis, K)
        w = windows[:, i].view(b, 1, 1)
        inside = (delta > -w - 1) & (delta <= w)
        spatial.append(torch.where(inside, delta * delta / (st * st), float("inf")))
    n_t, n_y, n_x = (len(a) for a in axes)
    # |m|^2 joins the plane's spatial term once: a product with a broadcast input (baddbmm)
    # first copies that input into the whole output, which cost 5x the product on the CPU.
    plane = spatial[1][:, :, None] + spatial[2][:, None] + norm[:, None, None]
    plane = plane.view(b, 1, n_y * n_x, k)
    weights = c_feat.transpose(1, 2) * -2  # (B, C, K)
    frames = f.view(b, n_t, n_y * n_x, c)
    if f.is_cuda:
        blocks = [(slice(None), k, 0, n_t)]  # (clips, centres, first frame, end frame)
    else:  # columns past a clip's last valid seed are all infinite: leave them out
        ends = (valid * torch.arange(1, k + 1)).amax(1).clamp(min=1).tolist()
        blocks = []
        for i, end in enumerate(ends):
            chunk = max(1, _CACHE_FLOATS // (n_y * n_x * end))
            blocks += [(slice(i, i + 1), end, t, min(t + chunk, n_t)) for t in range(0, n_t, chunk)]
    labels = torch.empty(b, n_t, n_y * n_x, dtype=torch.long, device=f.device)
    for clips, end, t0, t1 in blocks:
        part = frames[clips, t0:t1].flatten(1, 2)  # (clips, pixels, C)
        d = torch.bmm(part, weights[clips, :, :end]).view(len(part), t1 - t0, n_y * n_x, end)
        d = d.add_(plane[clips, :, :, :end]).add_(spatial[0][clips, t0:t1, None, :end])
        labels[clips, t0:t1] = d.min(-1).indices  # argmin's, in 2/3 of its time
    return labels.view(b, -1)


# Distances per block on the CPU: 4M floats (16 MB), some frames of one clip.
_CACHE_FLOATS = 1 << 22


def slic_video(
    features: torch.Tensor,
    seeds: torch.Tensor,
    valid: torch.Tensor,
    step: torch.Tensor,
    compactness: float = 0.01,
    max_iter: int = 10,
    downsample: int | None = None,
    enforce_connectivity: bool = True,
    min_size_factor: float = 0.5,
    kernels: bool = True,
) -> torch.Tensor:
    """One SLIC labelling per clip across all its frames (R6).

    Args:
        features: (B, T, H, W, C) per-pixel features (R7: colour + camera-compensated x, y).
        seeds: (B, K, 3) seed (t, y, x) from :func:`slic_seeds`.
        valid: bool (B, K), which seeds exist.
        step: (B,) grid step per clip.
        compactness: SLIC's compactness (R8: 0.01).
        max_iter: k-means iterations.
        downsample: pooling factor in y and x for SLIC's k-means, a whole number >= 1 (one
            larger than the frame's side pools the whole side); None (default): the grid's
            smallest step / 12, between 1 and 4 (reads ``step``: pass it on the CPU, as
            :func:`slic_seeds` makes it, to keep CUDA work free of host syncs).
        enforce_connectivity: split the labels into their exact 6-connected components and
            merge those smaller than ``min_size_factor`` times the mean supervoxel size into
            a neighbour by scikit-image's rule (``merge_small_components``), once, on the
            pixels after the full-resolution step (as scikit-image does after its k-means), so
            every label is one 6-connected region of the clip of at least that size.
        min_size_factor: as scikit-image's.
        kernels: use the CuPy kernels of :mod:`simcomp.cuda` for the k-means steps and the
            full-resolution step when the features are on CUDA and CuPy imports, and the numba
            kernels of :mod:`simcomp.cpu_kernels` for both on the CPU
            (False: the torch path everywhere; the connectivity passes use their kernel
            either way).

    Returns:
        labels long (B, T, H, W): with connectivity, each clip's supervoxels numbered 0, 1, ...
        in the raster order of their first pixels; without, the index of the k-means centre.

    Raises:
        ValueError: bad shapes, compactness <= 0, a ``downsample`` that is not None or a
            whole number >= 1, or NaN / inf features (on CUDA these raise a device-side
            assertion instead, to avoid a host sync).

    Example:
        >>> feats = torch.rand(1, 4, 32, 48, 3)
        >>> seeds, valid, step = slic_seeds((4, 32, 48), [6])
        >>> slic_video(feats, seeds, valid, step).shape
        torch.Size([1, 4, 32, 48])
    """
    check_tensor("features", features, ("B", "T", "H", "W", None), dtype="float")
    _, t, h, w, _ = features.shape
    s = _pooling(downsample, step, h, w)
    return _slic(_Features(features.float(), s), seeds, valid, step, compactness,
                 max_iter=max_iter, enforce_connectivity=enforce_connectivity,
                 min_size_factor=min_size_factor, kernels=kernels)  # fmt: skip


def slic_compensated(
    background: torch.Tensor,
    camera_shift: torch.Tensor,
    coord_scale: torch.Tensor,
    seeds: torch.Tensor,
    valid: torch.Tensor,
    step: torch.Tensor,
    compactness: float = 0.01,
    downsample: int | None = None,
    **options,
) -> torch.Tensor:
    """:func:`slic_video` on R7's features, without making them (R6, R7).

    The same labels as ``slic_video(slic_features(background, camera_shift, coord_scale),
    ...)`` up to float rounding in the cells' mean coordinates, but the (B, T, H, W, 5) feature
    tensor is never stored: colours are read from ``background`` where they are needed and the
    coordinate channels, (x - shift_x) * k and (y - shift_y) * k, computed there (their
    extremes from the frame's corners). At batch 8 of 31 x 240 x 320 that is 380 MB neither
    written nor read again.

    Args:
        background: (B, T, 3, H, W) colours.
        camera_shift: (B, T, 2) integrated camera motion (R2).
        coord_scale: (B,) R7's per-clip scalar (>= 0).
        seeds: as :func:`slic_video`.
        valid: as :func:`slic_video`.
        step: as :func:`slic_video`.
        compactness: as :func:`slic_video`.
        downsample: as :func:`slic_video`.
        **options: :func:`slic_video`'s other keywords (``max_iter``, ``enforce_connectivity``,
            ``min_size_factor``, ``kernels``).

    Returns:
        labels long (B, T, H, W), as :func:`slic_video`.

    Example:
        >>> bg, shift = torch.rand(1, 4, 3, 32, 48), torch.zeros(1, 4, 2)
        >>> seeds, valid, step = slic_seeds((4, 32, 48), [6])
        >>> slic_compensated(bg, shift, torch.tensor([5e-4]), seeds, valid, step).shape
        torch.Size([1, 4, 32, 48])
    """
    check_tensor("background", background, ("B", "T", 3, "H", "W"), dtype="float")
    b, t, _, h, w = background.shape
    dev = background.device
    check_tensor("camera_shift", camera_shift, (b, t, 2), dtype="float", device=dev)
    check_tensor("coord_scale", coord_scale, (b,), dtype="float", device=dev)
    check_downsample(downsample)
    if b == 0:
        return torch.zeros(0, t, h, w, dtype=torch.long, device=background.device)
    s = _pooling(downsample, step, h, w)
    source = _CompensatedFeatures(background, camera_shift, coord_scale, s)
    return _slic(source, seeds, valid, step, compactness, **options)


def check_downsample(downsample: int | None) -> int | None:
    """``downsample`` if it is None or a whole number >= 1; else a ValueError naming it."""
    whole = isinstance(downsample, int | np.integer) and not isinstance(downsample, bool)
    if downsample is not None and not (whole and downsample >= 1):
        raise ValueError(f"downsample: expected None or an integer >= 1, got {downsample!r}")
    return downsample


def _pooling(downsample: int | None, step: torch.Tensor, h: int, w: int) -> int:
    """The pooling factor: ``downsample`` (at most the frame's side), or step / 12 in 1..4.

    The step is the grid's smallest.
    """
    if check_downsample(downsample) is None:  # (an empty batch has no step: anything will do)
        downsample = max(1, min(4, int(float(step.min()) // 12))) if step.numel() else 1
    return max(1, min(int(downsample), h, w))


class _Features:
    """What SLIC reads of (B, T, H, W, C) features: extremes, cell means, chosen cells' pixels.

    :class:`_CompensatedFeatures` offers the same attributes and methods for R7's features.
    """

    names = "features"  # the arguments the features come from, for error messages

    def __init__(self, raw: torch.Tensor, s: int) -> None:
        self.shape, self.c, self.s = tuple(raw.shape[:4]), raw.shape[-1], s
        self.device, self.raw = raw.device, raw
        # (two reductions: aminmax along a dimension took 15x as long on the CPU)
        self.lo, self.hi = raw.flatten(1).amin(1), raw.flatten(1).amax(1)  # (B,) each
        self.cells = _cells(raw, s)  # (B, T, hs, ws, s, s, C), padded to whole cells

    def clip(self, i: int) -> _Features:
        """The same source for clip ``i`` alone (a batch of one)."""
        return _Features(self.raw[i : i + 1], self.s)

    def _frames(self) -> torch.Tensor:
        """The padded frames (B*T, hs*s, ws*s, C) under the cell view."""
        b, t, hs, ws, s = *self.cells.shape[:4], self.s
        return self.cells.permute(0, 1, 2, 4, 3, 5, 6).reshape(b * t, hs * s, ws * s, self.c)

    def pooled(self) -> torch.Tensor:
        """Cell means (B, T * hs * ws, C): with cells of one pixel, the features themselves."""
        # avg_pool2d on the channels-last frames: one pass (a mean over the cell view's two
        # strided axes took 3x as long); with cells of one pixel, views of the features
        means = _cell_means(self._frames().permute(0, 3, 1, 2), self.s)  # (B*T, C, hs, ws)
        return means.permute(0, 2, 3, 1).reshape(self.shape[0], -1, self.c)

    def terms(self, sel, cell, wf):
        """The feature part of the full-resolution scores of the cells at ``sel``.

        Args:
            sel: cell indices (b, t, cell y, cell x) as for :meth:`at`, or None for every cell.
            cell: the same cells' (clip, t, cell y, cell x), (N, 1) each.
            wf: (N, 5, C) each candidate's weights on the pixel's features.

        Returns:
            pixels (N, s*s, P), weights (N, P, 5), and what the features add to each
            candidate's constant (N, 5) and to its weights on the pixel's offset in the cell,
            y then x (N, 5) each: the feature term is pixels @ weights + constant +
            y * wy + x * wx.
        """
        return self.at(sel), wf.transpose(1, 2), 0, 0, 0

    def kernel_pixels(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
        """What :func:`simcomp.cuda.slic_refine` reads: pixels, shift, k, compensated."""
        none = self.raw.new_zeros(1, dtype=torch.float32)
        return self.raw.float().contiguous(), none, none, False

    def at(self, sel: tuple[torch.Tensor, ...] | None) -> torch.Tensor:
        """The pixels (N, s * s, C) of the cells at indices ``sel`` (b, t, cell y, cell x).

        ``None`` means every cell, in (b, t, y, x) order, read without index tensors.
        """
        if sel is None:
            return self.cells.reshape(-1, self.s * self.s, self.c)
        t = self.shape[1]
        return _gather_cells(self._frames(), (sel[0] * t + sel[1], sel[2], sel[3]), self.s, False)


class _CompensatedFeatures:
    """R7's features computed where SLIC reads them (see :func:`slic_compensated`).

    Colour, then (x, y) minus the frame's camera shift, times the clip's k; the interface of
    :class:`_Features` that SLIC uses (the full-resolution step reads only the colour).
    """

    names = "background, camera_shift or coord_scale"

    def __init__(self, background, camera_shift, coord_scale, s: int) -> None:
        b, t, _, h, w = background.shape
        self.shape, self.c, self.s, self.device = (b, t, h, w), 5, s, background.device
        hs, ws = -(-h // s), -(-w // s)
        colour = background.float().reshape(b * t, 3, h, w)
        if hs * s != h or ws * s != w:  # whole cells, edge-replicated (a copy only then)
            colour = F.pad(colour, (0, ws * s - w, 0, hs * s - h), mode="replicate")
        self.colour = colour  # (B*T, 3, hs*s, ws*s), channels first as the frames are
        dev = background.device
        xs = torch.arange(w, device=dev, dtype=torch.float32)
        ys = torch.arange(h, device=dev, dtype=torch.float32)
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1)  # (H, W, 2) as (x, y)
        self.grid = _cells(grid[None, None], s)[0, 0]  # (hs, ws, s, s, 2)
        self.shift, self.k = camera_shift.float(), coord_scale.float()
        self.background = background
        # Each frame's coordinates are extreme at its corners: the same products as per pixel.
        corners = torch.tensor([[0.0, 0.0], [w - 1.0, h - 1.0]], device=dev)
        xy = (corners - self.shift[:, :, None]) * self.k.view(b, 1, 1, 1)  # (B, T, 2, 2)
        flat = background.reshape(b, -1)
        self.lo = torch.minimum(flat.amin(1).float(), xy.flatten(1).amin(1))
        self.hi = torch.maximum(flat.amax(1).float(), xy.flatten(1).amax(1))

    def clip(self, i: int) -> _CompensatedFeatures:
        """The same source for clip ``i`` alone (a batch of one)."""
        one = slice(i, i + 1)
        return _CompensatedFeatures(self.background[one], self.shift[one], self.k[one], self.s)

    def kernel_pixels(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
        """What :func:`simcomp.cuda.slic_refine` reads: the padded colour, shift and k."""
        return self.colour, self.shift.contiguous(), self.k.contiguous(), True

    def pooled(self) -> torch.Tensor:
        """Cell means (B, T * hs * ws, 5): colour means, coordinates at the cells' mean."""
        b, t = self.shape[:2]
        colour = _cell_means(self.colour, self.s)  # (B*T, 3, hs, ws)
        colour = colour.view(b, t, 3, *colour.shape[-2:]).permute(0, 1, 3, 4, 2)
        k = self.k.view(b, 1, 1, 1, 1)
        xy = (self.grid.mean((2, 3)) - self.shift[:, :, None, None]) * k  # (B, T, hs, ws, 2)
        return torch.cat((colour, xy), -1).reshape(b, -1, 5)

    def _colour(self, sel) -> torch.Tensor:
        """The colour (N, s * s, 3) of the cells at ``sel`` (None: every cell)."""
        b, t = self.shape[:2]
        s, hs, ws = self.s, *self.grid.shape[:2]
        cells = self.colour.view(b, t, 3, hs, s, ws, s)
        if sel is None:
            return cells.permute(0, 1, 3, 5, 4, 6, 2).reshape(-1, s * s, 3)
        return _gather_cells(
            self.colour, (sel[0] * t + sel[1], sel[2], sel[3]), s, channels_first=True
        )

    def terms(self, sel, cell, wf):
        """As :meth:`_Features.terms`, with the coordinates folded into the per-cell weights.

        A pixel's coordinate features are ((corner + offset) - shift) * k: affine in its offset
        in the cell, so only its colour is read per pixel.
        """
        clip, tt, cy, cx = cell
        k = self.k[clip]  # (N, 1)
        shift = self.shift[clip[:, 0], tt[:, 0]]  # (N, 2) as (x, y)
        wx, wy = wf[..., 3] * k, wf[..., 4] * k  # (N, 5) each
        const = wx * (cx * self.s - shift[:, :1]) + wy * (cy * self.s - shift[:, 1:])
        return self._colour(sel), wf[..., :3].transpose(1, 2), const, wy, wx


def _slic(source, seeds, valid, step, compactness, max_iter=10, enforce_connectivity=True,
          min_size_factor=0.5, kernels=True):  # fmt: skip
    """SLIC on a :class:`_Features` or :class:`_CompensatedFeatures` (see :func:`slic_video`)."""
    if compactness <= 0:
        raise ValueError(f"compactness: expected > 0, got {compactness}")
    b, t, h, w = source.shape
    c, s, dev = source.c, source.s, source.device
    check_tensor("seeds", seeds, (b, None, 3), dtype="float")
    if b == 0:
        return torch.zeros(0, t, h, w, dtype=torch.long, device=dev)
    seeds, valid, step = upload(seeds, dev), upload(valid, dev), upload(step, dev, torch.float32)
    if dev.type == "cpu" and b > 1:
        # Clip by clip, as many at once as torch has threads, each on one thread: a clip's
        # labels, distances and components stay in cache from one pass to the next, and the
        # single-threaded passes (the components, Python between small ops) of one clip
        # overlap the other clips' work (batch 8 on 2 cores: 90 -> 60 ms a clip).
        # Every step works per clip and sums in fixed point, so the labels are the ones the
        # whole batch would get, on any number of threads.
        def one(i):
            c = slice(i, i + 1)
            return _slic(source.clip(i), seeds[c], valid[c], step[c], compactness, max_iter,
                         enforce_connectivity, min_size_factor, kernels)  # fmt: skip

        return torch.cat(side_by_side(one, b, one_thread_each=True))
    windows = _windows((t, h, w), valid)  # (B, 3) on valid's device
    lo = source.lo
    _reject_nonfinite(lo, source.hi, source.names)
    scale = 1 / ((source.hi - lo).clamp(min=1e-12) * compactness)  # (B,)
    hs, ws = -(-h // s), -(-w // s)
    pooled = (source.pooled() - lo.view(b, 1, 1)) * scale.view(b, 1, 1)  # as scikit-image does
    cy = ((torch.arange(hs, device=dev) + 0.5) * s - 0.5).clamp(max=h - 1).float()
    cx = ((torch.arange(ws, device=dev) + 0.5) * s - 0.5).clamp(max=w - 1).float()
    axes = (torch.arange(t, device=dev).float(), cy, cx)
    # scikit-image's start: centres at the seeds with zero features, so the first assignment
    # is by position alone (every pixel's |f|^2 is the same for every centre).
    centres = torch.cat((torch.zeros(b, seeds.shape[1], c, device=dev), seeds), -1)
    k = seeds.shape[1]
    if kernels and cpu_kernels.available(pooled):
        labels, centres = cpu_kernels.slic_kmeans(
            pooled, centres, valid, axes, step, windows, max_iter
        )
    else:
        fast = kernels and cuda_kernels.available(pooled) and cuda_kernels.fits(k, c)
        coords = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
        data = torch.cat((pooled, coords.expand(b, -1, 3)), -1)  # what the centres average
        labels = torch.zeros(b, pooled.shape[1], dtype=torch.long, device=dev)
        for _ in range(max_iter):
            if fast:
                labels = cuda_kernels.slic_assign(pooled, centres, valid, axes, step, windows)
                centres = cuda_kernels.slic_means(pooled, labels, axes, k, centres)
            else:
                labels = _assign(pooled, axes, centres, step, valid, windows)  # (B, N)
                centres = _means(data, labels, k, centres)
    low = labels.view(b, t, hs, ws)
    if s > 1:  # the k-means ran on pooled cells: each pixel chooses among its cell's labels
        if kernels and source.c <= 16 and cuda_kernels.available(low):
            labels = cuda_kernels.slic_refine(source, scale, low, centres, step)
        elif kernels and cpu_kernels.available(low):  # as runs when the passes read them
            labels = cpu_kernels.slic_refine(source, scale, low, centres, step,
                                             as_runs=enforce_connectivity)  # fmt: skip
        else:
            labels = _assign_full_resolution(source, scale, low, centres, step)
    else:
        labels = low
    if enforce_connectivity:
        # Once, on the pixels, as scikit-image does after its k-means. A merge on the pooled
        # grid as well, before the full-resolution step, agreed less with scikit-image's
        # labels (adjusted Rand index 0.65 against 0.83 on real photos at n = 10).
        # scikit-image's whole number of pixels: int(factor * pixels / seeds)
        min_size = (min_size_factor * (t * h * w) / valid.sum(1).double()).floor().float()
        return _connected_and_merged(labels, min_size, span=k)
    return labels.long()  # (the CPU full-resolution kernel's labels are int32)


def _means(data, labels, k, previous, fixed_point=None):
    """Means (B, K, D) of data (B, N, D) per label (B, N); empty labels keep ``previous``.

    With few labels the pixels are summed in up to 8 parts per clip, then the parts: torch's
    scatter_add spreads its work over the leading dimension only (at batch 1 on 2 cores, 6x
    faster). The parts do not depend on the batch: a clip's sums, rounding included, are the
    same in any batch (fewer parts at batch 8 would be faster, and break that). On CUDA
    scatter_add adds floats by atomics in any order, so the sums are taken in fixed point
    there (:mod:`simcomp._fixed_point`): one seed, one labelling (``fixed_point``
    overrides the choice).
    """
    b, n, d = data.shape
    if data.is_cuda if fixed_point is None else fixed_point:
        q = _fixed_point.scale(data.abs().flatten(1).amax(1), n)  # (B,)
        fixed = torch.round(data * q.view(b, 1, 1)).long()
        count = torch.zeros(b, k, dtype=torch.int64, device=data.device).scatter_add_(
            1, labels, torch.ones((), dtype=torch.int64, device=data.device).expand(labels.shape)
        )
        sums = torch.zeros(b, k, d, dtype=torch.int64, device=data.device).scatter_add_(
            1, labels[..., None].expand(-1, -1, d), fixed
        )
        return _fixed_point.means(sums, count, q, previous)
    parts = next(p for p in (8, 4, 2, 1) if n % p == 0) if k <= 4096 else 1
    labels = labels.reshape(b * parts, -1)
    sums = torch.zeros(b * parts, k, d, device=data.device).scatter_add_(
        1, labels[..., None].expand(-1, -1, d), data.reshape(b * parts, -1, d)
    )
    count = torch.zeros(b * parts, k, device=data.device).scatter_add_(
        1, labels, torch.ones((), device=data.device).expand(labels.shape)
    )
    sums, count = sums.view(b, parts, k, d).sum(1), count.view(b, parts, k).sum(1)
    return torch.where(count[..., None] > 0, sums / count.clamp(min=1)[..., None], previous)


def _cell_means(frames: torch.Tensor, s: int) -> torch.Tensor:
    """Means (N, C, H / s, W / s) of the s x s cells of frames (N, C, H, W), whole cells.

    Cells of one pixel: the frames themselves (avg_pool2d would copy them, 20 ms a clip).
    """
    return F.avg_pool2d(frames, s) if s > 1 else frames


def _gather_cells(x: torch.Tensor, sel, s: int, channels_first: bool) -> torch.Tensor:
    """The pixels (N, s * s, C) of cells of images x: (M, C, H, W) or (M, H, W, C).

    ``sel``: (image, cell y, cell x), (N,) each. One index_select by flat offsets: on the CPU
    several times faster than advanced indexing of a cell view with four index tensors.
    """
    x = x.contiguous()
    if channels_first:
        _, c, h, w = x.shape
        step_c, step_y, step_x = h * w, w, 1
    else:
        _, h, w, c = x.shape
        step_c, step_y, step_x = 1, w * c, c
    dev = x.device
    image, cy, cx = sel
    start = image * (c * h * w) + cy * (s * step_y) + cx * (s * step_x)  # (N,)
    r = torch.arange(s, device=dev)
    offs = (r * step_y)[:, None, None] + (r * step_x)[None, :, None]
    offs = offs + (torch.arange(c, device=dev) * step_c)[None, None, :]  # (s, s, C)
    index = start[:, None] + offs.view(1, -1)
    return x.view(-1).index_select(0, index.view(-1)).view(-1, s * s, c)


def _cells(x: torch.Tensor, s: int) -> torch.Tensor:
    """(B, T, H, W, C) -> (B, T, hs, ws, s, s, C): whole s x s cells, edge-replicated.

    A view of ``x`` when H and W are multiples of s.
    """
    b, t, h, w, c = x.shape
    hs, ws = -(-h // s), -(-w // s)
    if hs * s != h or ws * s != w:
        x = x.permute(0, 1, 4, 2, 3).reshape(b * t, c, h, w)
        x = F.pad(x, (0, ws * s - w, 0, hs * s - h), mode="replicate")
        x = x.reshape(b, t, c, hs * s, ws * s).permute(0, 1, 3, 4, 2)
    return x.reshape(b, t, hs, s, ws, s, c).permute(0, 1, 2, 4, 3, 5, 6)


def _assign_full_resolution(source, scale, low, centres, step, boundary_only=None):
    """Each pixel takes the nearest of the labels of its cell and the cell's 4 neighbours.

    The SLIC distance is linear in [raw features, y, x, 1] once the pixel's own squared norms
    (the same for every candidate) are dropped and the min-max rescale is folded into the
    weights, so each cell's 5 candidates become 5 weight vectors and a batched product scores
    the cell's pixels (read from ``source``, whose ``lo`` is the rescale's offset). Cells
    whose candidates agree keep that label. On CUDA every cell is scored (no data-dependent
    shapes, no host sync); on the CPU only the cells whose candidates disagree are
    (``boundary_only`` overrides the choice; both give one result).
    """
    b, t, hs, ws = low.shape
    c, s, (h, w), dev = source.c, source.s, source.shape[2:], source.device
    # int32 ids (below T * H * W): half the traffic of the full-resolution labels
    padded = F.pad(low.int(), (1, 1, 1, 1), mode="replicate")
    cands = torch.stack(
        [
            padded[:, :, 1:-1, 1:-1],
            padded[:, :, :-2, 1:-1],
            padded[:, :, 2:, 1:-1],
            padded[:, :, 1:-1, :-2],
            padded[:, :, 1:-1, 2:],
        ],
        -1,
    )  # fmt: skip  (B, T, hs, ws, 5): the cell's own label first
    boundary = dev.type == "cpu" if boundary_only is None else boundary_only
    if boundary:
        sel = (cands != cands[..., :1]).any(-1).nonzero(as_tuple=True)
        clip, tt, cy, cx = (i[:, None] for i in sel)  # (N, 1) each
        cand = cands[sel].reshape(-1, 5)
        m = centres.flatten(0, 1)[clip * centres.shape[1] + cand]  # (N, 5, C+3)
    else:  # every cell, in (b, t, y, x) order: views and one gather, no index tensors
        sel = None
        axes = (torch.arange(n, device=dev) for n in (b, t, hs, ws))
        clip, tt, cy, cx = (g.reshape(-1, 1) for g in torch.meshgrid(*axes, indexing="ij"))
        cand = cands.reshape(-1, 5)
        index = cands.reshape(b, -1, 1).long().expand(-1, -1, centres.shape[-1])
        m = centres.gather(1, index).view(-1, 5, centres.shape[-1])
    # Everything below is per selected cell (N of them), its 5 candidates' centres in m.
    feat_m, pos_m = m[..., :c], m[..., c:]
    inv = (1 / (step * step))[clip]  # (N, 1)
    a, lo = scale[clip], source.lo[clip]
    wy, wx = -2 * inv * pos_m[..., 1], -2 * inv * pos_m[..., 2]  # (N, 5)
    # Per cell: its corner's position folded into the constant; in the cell: an offset pattern.
    base = (feat_m * feat_m).sum(-1) + 2 * a * lo * feat_m.sum(-1)
    base = base + ((pos_m * pos_m).sum(-1) - 2 * tt * pos_m[..., 0]) * inv
    pixels, weights, const, wy_f, wx_f = source.terms(
        sel, (clip, tt, cy, cx), -2 * a[..., None] * feat_m
    )
    base = base + (cy * s) * wy + (cx * s) * wx + const  # (N, 5)
    offs = torch.arange(s, device=dev, dtype=torch.float32)
    pattern = torch.stack(torch.meshgrid(offs, offs, indexing="ij"), -1).reshape(1, s * s, 2)
    # One product scores a cell's pixels: [pixels, y, x in the cell] . [weights, wy, wx].
    f = torch.cat((pixels, pattern.expand(len(cand), -1, -1)), -1)
    weights = torch.cat((weights, (wy + wy_f)[:, None], (wx + wx_f)[:, None]), 1)
    # (bmm, then the constant: a broadcast input to baddbmm is first copied into the output)
    score = torch.bmm(f, weights).add_(base[:, None])  # (N, s*s, 5)
    pick = score.min(-1, keepdim=True).indices
    picked = cand[:, None].expand(-1, s * s, 5).gather(-1, pick).view(-1, s, s)
    if sel is not None:  # (B, T, hs, s, ws, s): the labels' final layout, cell by cell
        out = cands[:, :, :, None, :, None, 0].expand(b, t, hs, s, ws, s).contiguous()
        out[sel[0], sel[1], sel[2], :, sel[3], :] = picked
    else:
        out = picked.view(b, t, hs, ws, s, s).transpose(3, 4)
    return out.reshape(b, t, hs * s, ws * s)[:, :, :h, :w].contiguous()


def slic_skimage(
    features: torch.Tensor, n_segments: Sequence[int], compactness: float = 0.01
) -> torch.Tensor:
    """scikit-image's own ``slic`` clip by clip on the CPU (the paper's pipeline, exactly).

    Shape:
        features (B, T, H, W, C) -> labels long (B, T, H, W) on the features' device.

    Example:
        >>> slic_skimage(torch.rand(1, 2, 16, 16, 3), [4]).shape
        torch.Size([1, 2, 16, 16])
    """
    from skimage.segmentation import slic

    check_tensor("features", features, (None, None, None, None, None), dtype="float")
    arr = features.detach().cpu().double().numpy()
    labels = [
        slic(a, n_segments=int(n), compactness=compactness, channel_axis=-1, convert2lab=False,
             enforce_connectivity=True, start_label=0)
        for a, n in zip(arr, n_segments, strict=True)
    ]  # fmt: skip
    return torch.from_numpy(np.stack(labels)).long().to(features.device)
