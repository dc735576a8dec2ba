"""SLIC supervoxels over whole clips (R6-R8), batched in torch, and the scikit-image baseline.

The problem is scikit-image's ``slic`` on a 3-D multichannel volume with ``convert2lab=False``
(0.26): one global min-max rescale of the features, a seed grid over (t, y, x) from
``regular_grid`` (axes shorter than the step get one seed plane), distance = squared feature
distance / compactness^2 + squared spatial distance / step^2, search windows of +-2 steps
per axis (the steps of the grid of as many seeds as were placed, which may differ from the
step of the grid asked for; :func:`_windows`),
10 iterations, then connectivity enforced (components smaller than ``min_size_factor`` times
the mean supervoxel size merged into a neighbour).

For speed, all but the first and the last k-means iterations run on a sample of the pixels:
every s-th in y and x, the middle pixel of each s x s cell (s = step / 12, at most 3: 3 in the
paper's regime, whose steps are 51-88 px; no sampling where the grid is fine, as with dense
seeds or small images, where k-means then runs on the pixels exactly as scikit-image's does).
It starts, as scikit-image does, from centres at the seeds with zero features, so the first
assignment is by position alone; that one runs on the pixels, so the centres after it are
scikit-image's. A sample keeps the pixels' own colours, texture included, where the cells'
means (the previous versions') smoothed it and led k-means to other optima. The last
assignment is scikit-image's, on the pixels over every centre in its window
(:func:`_schedule`). Connectivity is then enforced once, on the pixels, as scikit-image
does after its k-means: exact connected components, then scikit-image's small-piece merge made
order-free (:mod:`simcomp.functional.connectivity`), so every supervoxel is one 6-connected
region of at least ``min_size_factor`` of the mean size.

Where the labels part from scikit-image's: the sampled iterations, and the merge in two
details. A small piece joins the earlier neighbour that a search from its first voxel meets
last, the search's order taken as (L1 distance from that voxel, raster order) rather than
scikit-image's queue order (the same for pieces of up to two voxels, tested; a small first
region, with the pieces that joined it, takes the first large region's label as in
scikit-image, the two always touching); and supervoxels above 3x the mean size are not cut.
Without sampling and before the merge the labels are scikit-image's
(tests/test_slic_skimage.py). On clips of real photos the labelling agrees with scikit-image's
at adjusted Rand index 0.97 / 0.92 / 0.93 at n_segments 10 / 20 / 30 (0.99 / 0.95 / 0.97
without sampling, ``downsample=1``), explains the colours as well and comes in the same numbers
(README). The transform's ``backend="skimage"`` runs the exact baseline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

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
    """Nearest centre (B, N) of features f (B, N, C) on the grid ``axes`` (t, y, x).

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
        downsample: the step in y and x between the pixels that all but the first and the
            last k-means iterations read (each s x s cell's middle pixel; the first and the
            last run on every pixel), a whole number >= 1 (one larger than the frame's side
            reads one pixel of the side; 1: every iteration on the pixels, scikit-image's
            k-means, ~2x the time); None (default): the grid's smallest step / 12, between 1
            and 3 (reads ``step``: pass it on the CPU, as :func:`slic_seeds` makes it, to keep
            CUDA work free of host syncs).
        enforce_connectivity: split the labels into their exact 6-connected components and
            merge those smaller than ``min_size_factor`` times the mean supervoxel size into
            a neighbour by scikit-image's rule (``merge_small_components``), once, on the
            pixels after the k-means (as scikit-image does), so every label is one 6-connected
            region of the clip of at least that size.
        min_size_factor: as scikit-image's.
        kernels: use the CuPy kernels of :mod:`simcomp.cuda` for the k-means steps when the
            features are on CUDA and CuPy imports, and the numba kernels of
            :mod:`simcomp.cpu_kernels` on the CPU
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
    s = _sampling(downsample, step, h, w)
    return _slic(_Features(features.float()), seeds, valid, step, compactness, s=s,
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
    s = _sampling(downsample, step, h, w)
    source = _CompensatedFeatures(background, camera_shift, coord_scale)
    return _slic(source, seeds, valid, step, compactness, s=s, **options)


def check_downsample(downsample: int | None) -> int | None:
    """``downsample`` if it is None or a whole number >= 1; else a ValueError naming it."""
    whole = isinstance(downsample, int | np.integer) and not isinstance(downsample, bool)
    if downsample is not None and not (whole and downsample >= 1):
        raise ValueError(f"downsample: expected None or an integer >= 1, got {downsample!r}")
    return downsample


def _sampling(downsample: int | None, step: torch.Tensor, h: int, w: int) -> int:
    """The sampled iterations' step in y and x: ``downsample``, or step / 12 in 1..3.

    At most the frame's side; the step is the grid's smallest. 3 in the paper's regime (steps
    of 51-88 px); 1 (every pixel) where the grid is fine, as with dense seeds or small images.
    """
    if check_downsample(downsample) is None:  # (an empty batch has no step: anything will do)
        downsample = max(1, min(3, int(float(step.min()) // 12))) if step.numel() else 1
    return max(1, min(int(downsample), h, w))


def _schedule(s: int, iterations: int) -> list[tuple[int, int]]:
    """(sampling, iterations) in order: the first and last on the pixels, between on every s-th.

    The first assignment is by position alone (the centres start with zero features), and on
    the pixels its update gives the centres scikit-image's first update gives them, so the
    sampled iterations start from where scikit-image's second starts; the last assignment, on
    the pixels over every centre in its window as scikit-image's, puts the boundaries where
    scikit-image's go. Adjusted Rand index against scikit-image on six real-photo clips at
    n_segments 10 / 20 / 30 (``benchmarks/slic_quality.py --photos real``): 0.97 / 0.92 / 0.93
    (26 clips: 0.95 / 0.93 / 0.88) at ~1.1x the time of the schedule without the first on the
    pixels, 0.94 / 0.91 / 0.91 (26 clips: 0.93 / 0.89 / 0.87). (On the CPU the first, by
    position alone, is kept per seeds and only summed: :func:`simcomp.cpu_kernels.slic_kmeans`.)
    The first on the 3 x 3 cells' means instead recovers none of it (0.93 / 0.88 / 0.88 over
    the 26), the first two on the pixels 0.95 / 0.93 / 0.91 at ~1.4x; every iteration on the
    pixels (``downsample=1``), 0.99 / 0.95 / 0.97 at ~2x. The former default, all ten on 4 x 4
    cells' means and then each pixel choosing among its cell's and the 4 neighbouring cells'
    labels: 0.85 / 0.80 / 0.76.
    """
    if s == 1 or iterations < 3:
        return [(1, iterations)]
    return [(1, 1), (s, iterations - 2), (1, 1)]


def _sampled(n: int, s: int, device=None) -> torch.Tensor:
    """The pixels SLIC's sampled iterations read along an axis of n: each s-cell's middle one.

    ``i * s + s // 2``, the last cell's cut to the edge (``n - 1``): for odd s the cell's centre,
    so the samples' mean position is the pixels' (an even s lies half a pixel off).
    """
    return (torch.arange(-(-n // s), device=device) * s + s // 2).clamp(max=n - 1)


class _Features:
    """What SLIC reads of (B, T, H, W, C) features: their extremes and their samples.

    :class:`_CompensatedFeatures` offers the same attributes and methods for R7's features.
    """

    names = "features"  # the arguments the features come from, for error messages

    def __init__(self, raw: torch.Tensor) -> None:
        self.shape, self.c = tuple(raw.shape[:4]), raw.shape[-1]
        self.device, self.raw = raw.device, raw
        # (two reductions: aminmax along a dimension took 15x as long on the CPU)
        self.lo, self.hi = raw.flatten(1).amin(1), raw.flatten(1).amax(1)  # (B,) each

    def clip(self, i: int) -> _Features:
        """The same source for clip ``i`` alone (a batch of one)."""
        return _Features(self.raw[i : i + 1])

    def kernel_pixels(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
        """What :func:`simcomp.cpu_kernels.planar` reads: features, shift, k, compensated."""
        b, t = self.shape[:2]
        return self.raw, torch.zeros(b, t, 2), torch.zeros(b), False

    def sampled(self, s: int) -> torch.Tensor:
        """The middle pixels' features (B, T * hs * ws, C) of s x s cells (s = 1: every pixel)."""
        b, t, h, w = self.shape
        if s == 1:
            return self.raw.reshape(b, -1, self.c)
        ys, xs = _sampled(h, s, self.device), _sampled(w, s, self.device)
        return self.raw[:, :, ys][:, :, :, xs].reshape(b, -1, self.c)


class _CompensatedFeatures:
    """R7's features made where SLIC reads them (see :func:`slic_compensated`).

    Colour, then (x, y) minus the frame's camera shift, times the clip's k; the interface of
    :class:`_Features`.
    """

    names = "background, camera_shift or coord_scale"

    def __init__(self, background, camera_shift, coord_scale) -> None:
        b, t, _, h, w = background.shape
        self.shape, self.c, self.device = (b, t, h, w), 5, background.device
        self.background = background
        self.shift, self.k = camera_shift.float(), coord_scale.float()
        # Each frame's coordinates are extreme at its corners: the same products as per pixel.
        corners = torch.tensor([[0.0, 0.0], [w - 1.0, h - 1.0]], device=self.device)
        xy = (corners - self.shift[:, :, None]) * self.k.view(b, 1, 1, 1)  # (B, T, 2, 2)
        flat = background.reshape(b, -1)
        self.lo = torch.minimum(flat.amin(1).float(), xy.flatten(1).amin(1))
        self.hi = torch.maximum(flat.amax(1).float(), xy.flatten(1).amax(1))

    def clip(self, i: int) -> _CompensatedFeatures:
        """The same source for clip ``i`` alone (a batch of one)."""
        one = slice(i, i + 1)
        return _CompensatedFeatures(self.background[one], self.shift[one], self.k[one])

    def kernel_pixels(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
        """What :func:`simcomp.cpu_kernels.planar` reads: the colour, shift, k, compensated."""
        return self.background, self.shift, self.k, True

    def sampled(self, s: int) -> torch.Tensor:
        """R7's features (B, T * hs * ws, 5) at the middle pixels of s x s cells (s = 1: all)."""
        b, t, h, w = self.shape
        ys, xs = _sampled(h, s, self.device), _sampled(w, s, self.device)
        colour = self.background.float()
        if s > 1:  # (s = 1: every pixel, no gathers)
            colour = colour[:, :, :, ys][..., xs]
        colour = colour.permute(0, 1, 3, 4, 2)
        grid = torch.stack(torch.meshgrid(xs.float(), ys.float(), indexing="xy"), -1)  # (x, y)
        xy = (grid - self.shift[:, :, None, None]) * self.k.view(b, 1, 1, 1, 1)
        return torch.cat((colour, xy), -1).reshape(b, -1, 5)


def _slic(source, seeds, valid, step, compactness, max_iter=10, enforce_connectivity=True,
          min_size_factor=0.5, kernels=True, s=1, out=None):  # fmt: skip
    """SLIC on a :class:`_Features` or :class:`_CompensatedFeatures` (see :func:`slic_video`).

    ``s``: the sampled iterations' step in y and x (:func:`_schedule`). ``out``: a long
    (B, T, H, W) tensor to write the labels into (a batch's clips write their parts of one).
    """
    if compactness <= 0:
        raise ValueError(f"compactness: expected > 0, got {compactness}")
    b, t, h, w = source.shape
    c, dev = source.c, source.device
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
        out = torch.empty(b, t, h, w, dtype=torch.long) if out is None else out

        def one(i):  # each clip writes its part of the batch's labels (no concatenation)
            c = slice(i, i + 1)
            _slic(source.clip(i), seeds[c], valid[c], step[c], compactness, max_iter,
                  enforce_connectivity, min_size_factor, kernels, s, out[c])  # fmt: skip

        side_by_side(one, b, one_thread_each=True)
        return out
    windows = _windows((t, h, w), valid)  # (B, 3) on valid's device
    lo = source.lo
    _reject_nonfinite(lo, source.hi, source.names)
    scale = 1 / ((source.hi - lo).clamp(min=1e-12) * compactness)  # (B,)
    # scikit-image's start: centres at the seeds with zero features, so the first assignment
    # is by position alone (every pixel's |f|^2 is the same for every centre).
    centres = torch.cat((torch.zeros(b, seeds.shape[1], c, device=dev), seeds), -1)
    schedule = _schedule(s, max_iter)
    if kernels and cpu_kernels.available(lo):  # the pixels and the samples in one pass
        rescaled = cpu_kernels.planar(source, lo, scale, s)
    else:  # (the features as scikit-image rescales them)
        rescaled = {p: (source.sampled(p) - lo.view(b, 1, 1)) * scale.view(b, 1, 1)
                    for p in {p for p, _ in schedule}}  # fmt: skip
    for i, (p, iterations) in enumerate(schedule):
        labels, centres = _kmeans(rescaled[p], centres, valid, step, windows, iterations,
                                  (t, h, w), p, kernels, update=i < len(schedule) - 1,
                                  extreme=(source.hi - lo) * scale)  # fmt: skip
    labels = labels.view(b, t, h, w)  # (the last iteration is on the pixels)
    if enforce_connectivity:
        # Once, on the pixels, as scikit-image does after its k-means.
        # scikit-image's whole number of pixels: int(factor * pixels / seeds)
        min_size = (min_size_factor * (t * h * w) / valid.sum(1).double()).floor().float()
        return _connected_and_merged(labels, min_size, span=seeds.shape[1], out=out)
    return labels.long() if out is None else out.copy_(labels)


def _kmeans(sampled, centres, valid, step, windows, iterations, shape, s, kernels, update=True,
            extreme=None):  # fmt: skip
    """``iterations`` of SLIC's k-means on the rescaled features of s x s cells.

    ``sampled``: (B, N, C), or on the CPU with numba :func:`simcomp.cpu_kernels.planar`'s
    (B, T, NY, C, NX). ``update``: False leaves out the centres' update after the last
    assignment (its centres unused). ``extreme``: (B,) a bound on the features' magnitude
    (for the numba kernel's sums). Returns the last assignment (B, N) and the centres
    (B, K, C + 3).
    """
    t, h, w = shape
    b, k, dev = centres.shape[0], centres.shape[1], sampled.device
    cy, cx = _sampled(h, s, dev).float(), _sampled(w, s, dev).float()
    axes = (torch.arange(t, device=dev).float(), cy, cx)
    if sampled.ndim == 5:  # the numba kernel's layout
        return cpu_kernels.slic_kmeans(sampled, centres, valid, axes, step, windows, iterations,
                                       update, extreme)  # fmt: skip
    c = sampled.shape[-1]
    fast = kernels and cuda_kernels.available(sampled) and cuda_kernels.fits(k, c)
    if iterations == 0:
        return torch.zeros(b, sampled.shape[1], dtype=torch.long, device=dev), centres
    data = None  # what the torch update averages: made only if it runs (not on the pixels)
    for i in range(iterations):
        if fast:
            labels = cuda_kernels.slic_assign(sampled, centres, valid, axes, step, windows)
        else:
            labels = _assign(sampled, axes, centres, step, valid, windows)  # (B, N)
        if i == iterations - 1 and not update:
            break
        if fast:
            centres = cuda_kernels.slic_means(sampled, labels, axes, k, centres)
            continue
        if data is None:
            coords = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
            data = torch.cat((sampled, coords.expand(b, -1, 3)), -1)
        centres = _means(data, labels, k, centres)
    return labels, centres


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
