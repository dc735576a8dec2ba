"""Numba kernels for the CPU: SLIC's steps, exact components with the merge, the placement.

Each is the CPU twin of a torch step (and, for SLIC, of a :mod:`simcomp.cuda` kernel) (SPEC
R3, R6-R8):

- :func:`planar`: SLIC's rescaled features laid out by rows, one feature after another, for
  the pixels and the sampled ones in one pass (R7's coordinates made from the frames' shifts
  when the source is ``slic_compensated``'s colour).
- :func:`slic_kmeans`: SLIC's k-means iterations on the pixels or a sample of them. Per row
  of voxels, each centre scores the part of the row inside its window in vectorised loops (no
  (voxels x centres) distance matrix; a feature the centre has at 0, as all have in the first
  iteration, is skipped: it adds 0), and the centres' sums are taken in fixed point as on
  CUDA (:mod:`simcomp._fixed_point`), so they do not depend on how the frames are split across
  threads. The first two iterations sum by runs of one label; after them only the voxels whose
  label changed move their sums (integers: the same totals). 2 ms an iteration where torch's
  bmm, additions, minimum and scatter took 5-7 ms; on the pixels of a 31 x 240 x 320 clip
  (``downsample=1``) 10 iterations take ~155 ms on 2 cores where this kernel taking every
  voxel's sums each time took 270 ms; by default the first runs on all the pixels, eight on
  every third pixel in y and x, and the last, on all the pixels, takes no sums (~12 ms). The
  first, from centres with no features, is by position alone: the same labels for every clip
  with those seeds, so they are kept as runs and only summed (one clip on one thread: 21 ->
  10 ms; the first clip with new seeds makes them).
- :func:`connected_and_merged`: exact components and the small-piece merge on runs of pixels,
  equal to cc3d and the torch merge (also what ``merge_small_components`` runs on the CPU);
  at batch 1 a clip's frames are split across the threads, with one result for any split.
- :func:`place_pixels`: ``place_person``'s nearest-neighbour resampling, equal to its gathers.

The torch path is the reference the tests compare them with, and what runs where numba does
not import. The SLIC kernels' distances leave out the voxel's own |f|^2 as torch's do (it is
the same for every candidate; kept, it swamps the spatial term in float32 when the rescaled
features are large, ~1e4 at compactness 1e-4), but the sums run in another order and the
centres are summed in fixed point, so a near tie can fall the other way: each step alone
agrees with torch on more than 99.9% of the voxels. The other kernels give torch's results
exactly.

Compiled by numba on first use in a process (a few seconds; well under one when numba's cache
on disk has them). Work is split into runs of frames across ``torch.get_num_threads()``
Python threads (the kernels release the GIL) rather than numba's own threading layer, which
would be a second thread pool beside torch's.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from . import _fixed_point as fixed_point
from ._parallel import side_by_side


@functools.lru_cache(maxsize=1)
def _kernels():
    try:
        import numba
    except ImportError:
        return None
    try:
        return _compile(numba, cache=True)
    except RuntimeError:  # no writable place for numba's cache (a read-only install, say)
        return _compile(numba, cache=False)


def available(x: torch.Tensor) -> bool:
    """True when ``x`` is on the CPU and numba imports."""
    return not x.is_cuda and _kernels() is not None


def planar(source, lo, scale, s: int) -> dict[int, torch.Tensor]:
    """SLIC's rescaled features laid out as :func:`slic_kmeans` reads them, in one pass.

    Args:
        source: a ``_Features`` or ``_CompensatedFeatures`` of :mod:`simcomp.functional.slic`;
            its ``kernel_pixels()`` gives the features as this reads them: (B, T, H, W, C)
            features, or R7's colour (B, T, 3, H, W) with the frames' camera shifts (B, T, 2)
            and the clips' coordinate scales (B,), the coordinate features then made here
            (the same float32 products as ``slic_features``), with no (B, T, H, W, 5) copy.
        lo: (B,) the rescale's offset: (features - lo) * scale, as the torch path's.
        scale: (B,) its factor.
        s: a sampling: the pixels at the middle of s x s cells as well (``slic._sampled``).

    Returns:
        {1: (B, T, H, C, W), s: (B, T, hs, C, ws)} float32: each row's values feature by
        feature, for vector loops.
    """
    b, t, h, w = source.shape
    c = source.c
    pixels, shift, coord_scale, compensated = source.kernel_pixels()
    full = torch.empty(b, t, h, c, w)
    cells = torch.empty(b, t, -(-h // s), c, -(-w // s)) if s > 1 else full[:0]
    arrays = [x.float().contiguous().numpy() for x in (pixels, shift, coord_scale, lo, scale)]
    args = (*arrays, full.numpy(), cells.numpy(), s, compensated)
    runs = _runs(b, t)
    side_by_side(lambda i: _kernels().planar(*args, *runs[i]), len(runs))
    return {1: full, s: cells} if s > 1 else {1: full}


def slic_kmeans(planar, centres, valid, axes, step, windows, iterations, update=True,
                extreme=None):  # fmt: skip
    """CPU twin of the torch k-means loop of SLIC (``_assign`` then ``_means``, repeated).

    Args:
        planar: (B, T, NY, C, NX) rescaled cell features, as :func:`planar` makes them.
        centres: (B, K, C + 3) the starting centres: features, then (t, y, x) in pixels.
        valid: bool (B, K), which seeds exist.
        axes: the grid's coordinates (t (T,), y (NY,), x (NX,)) in pixels.
        step: (B,) grid step per clip.
        windows: (B, 3) half-widths of the search windows in (t, y, x), see ``_assign``.
        iterations: how many assignments (each followed by the centres' update).
        update: False: the last assignment is not followed by the update (its centres are
            returned as they were).
        extreme: (B,) the features' largest magnitude, or a bound on it (None: found here,
            two passes over them); it sets the sums' fixed-point scale.

    Returns:
        labels int32 (B, T * NY * NX) of the last assignment, and the centres (B, K, C + 3)
        after it.

    From centres with no features, SLIC's start, the first assignment is by position alone:
    each clip's is kept as its rows' runs by seeds and grid (``_BY_POSITION``), and a clip
    with the same ones only sums its pixels over them.
    """
    b, t, ys, c, xs = planar.shape
    n, k = t * ys * xs, centres.shape[1]
    coords = torch.stack([a[-1] for a in axes]).float().amax()  # the largest coordinate summed
    if extreme is None:
        flat = planar.view(b, -1)
        extreme = torch.maximum(flat.amax(1), -flat.amin(1))  # (no |planar| copy)
    # a voxel's values times q within int32 (as the kernel converts them), n of them in int64
    extreme = torch.maximum(extreme, coords)
    q = torch.minimum(fixed_point.scale(extreme, n), fixed_point.scale(extreme, 2**32)).float()
    labels = torch.zeros(b, t, ys, xs, dtype=torch.int32)  # (as they stay with no iteration)
    runs = _runs(b, t)
    sums = torch.zeros(len(runs), k, c + 4, dtype=torch.int64)  # each run's, kept between calls
    clip_of = torch.tensor([run[0] for run in runs])

    # the summed values in fixed point once: they are the same every iteration
    def scaled(x):  # (B, ...) -> int64, each clip's values times its scale, rounded
        return torch.round(x * q.view(-1, *[1] * (x.ndim - 1))).long().numpy()

    before = [planar.numpy(), q.contiguous().numpy()]
    before += [scaled(a.float().expand(b, -1)) for a in axes]
    after = [x.contiguous().numpy() for x in (valid, axes[1].float(), axes[2].float())]
    after += [step.float().contiguous().numpy(), windows.float().contiguous().numpy()]
    after += [labels.numpy()]
    kernel = _kernels().kmeans
    keys = [None] * b  # (SLIC's start: see above)
    if iterations and not centres[..., :c].any():
        keys = [_positional_key(axes, centres[i, :, c:], valid[i], step[i], windows[i])
                for i in range(b)]  # fmt: skip
    known = [_BY_POSITION.get(key) for key in keys]
    for iteration in range(iterations):
        args = (*before, centres.float().contiguous().numpy(), *after)
        last = iteration == iterations - 1
        # the sums: whole in the first two iterations, then the changes; none if unused
        mode = _NO_SUMS if last and not update else _WHOLE if iteration < 2 else _CHANGES
        by_runs = iteration == 0 and None not in known

        def run(i, args=args, mode=mode, by_runs=by_runs, last=last):
            given = known[runs[i][0]] if by_runs else _NO_RUNS
            kernel(*args, *given, sums[i].numpy(), *runs[i], mode, by_runs, last)

        side_by_side(run, len(runs))
        if iteration == 0 and not by_runs:  # made by position just now: kept
            for key, was_known, lab in zip(keys, known, labels, strict=True):
                if key is not None and was_known is None:
                    _BY_POSITION.put(key, _label_runs(lab.numpy()))
        if mode != _NO_SUMS:
            total = torch.zeros(b, k, c + 4, dtype=torch.int64).index_add_(0, clip_of, sums)
            centres = fixed_point.means(total[..., :-1], total[..., -1], q, centres.float())
    return labels.view(b, n), centres


_CHANGES, _WHOLE, _NO_SUMS = 0, 1, 2  # how the k-means kernel takes the centres' sums
_NO_RUNS = (np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32))


class _Kept:
    """A few recent values by key, shared by threads (oldest dropped first)."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key is None or key not in self.items:
                return None
            self.items.move_to_end(key)
            return self.items[key]

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


# Assignments by position as runs, by seeds and grid (~0.5 MB each for 31 x 240 x 320; SLIC
# draws n_segments 10-30 per clip, so three shapes' worth stay: ~32 MB at most)
_BY_POSITION = _Kept(64)


def _positional_key(axes, coords, valid, step, windows) -> bytes:
    """What an assignment by position depends on: the grid, the centres' (t, y, x), the rest."""
    parts = [*axes, coords, valid, step, windows]
    return b"".join(x.float().contiguous().numpy().tobytes() + b"|" for x in parts)


def _label_runs(lab: np.ndarray) -> tuple[np.ndarray, ...]:
    """A clip's labels (T, NY, NX) as :func:`row_runs` gives them, kept compact."""
    first, start, value = _kernels().row_runs(lab)
    return first, start.copy(), value.copy()  # (not views of row_runs' room for a run a pixel)


def _merged_runs(first, start, value, t, h, w, limit, parts):
    """One clip's runs' ends and components, and each component's final label (int64).

    The frames are split into ``parts`` side by side: each part unites its own rows' runs and
    lists its touching pairs of two labels; the frame steps between parts are walked after;
    each part then offers its candidates, and the best per small component wins (the largest
    key: one result for any split).
    """
    kernels = _kernels()
    n = int(first[-1])
    # whole frames, each part ending at the frame boundary nearest its share of the runs
    before = first[::h]  # (T + 1,) runs before each frame
    want = n * np.arange(1, parts) / parts
    cut = np.abs(before[:, None] - want[None, :]).argmin(0)
    frames = np.unique(np.concatenate(([0], cut, [t])))
    rows = [(int(a) * h, int(b) * h) for a, b in zip(frames[:-1], frames[1:], strict=True)]
    end, row_of, z_of, y_of = (np.empty(n, np.int32) for _ in range(4))
    parent = np.empty(n, np.int64)  # each run its own root: set by the parts
    touch = np.empty((4 * n + 1, 2), np.int32)  # a part's rows write < 4 per run, from 4 * first
    common = (first, start, value, end, row_of, z_of, y_of, parent)

    def unite(p):
        r0, r1 = rows[p]
        return kernels.unite(*common, touch, 4 * first[r0], h, w, r0, r1, True)

    ends = side_by_side(unite, len(rows))
    border = np.empty((2 * n + 1, 2), np.int32)  # the frame steps between parts: < 2 per run
    m = 0
    for r0, _ in rows[1:]:
        m = kernels.unite(*common, border, m, h, w, r0, r0 + h, False)
    comp, small, at = kernels.components(parent, start, end, z_of, y_of, limit)
    if len(small) - np.count_nonzero(small) <= 1:
        # Each small component's chain of earlier neighbours ends at the one large component
        # or at the first, which joins it: one region, whichever neighbours are chosen (on
        # heavily textured clips, whose pieces are all small, the search would be half the
        # time).
        return end, comp, np.zeros(len(small), np.int64)
    lists = [(touch, 4 * first[r0], e, first[r0], first[r1])
             for (r0, r1), e in zip(rows, ends, strict=True)]  # fmt: skip
    if m:
        lists.append((border, 0, m, 0, 0))

    def offers(p):
        return kernels.offers(comp, small, at, start, end, row_of, z_of, y_of, *lists[p], w)

    best, earlier = (np.stack(x) for x in zip(*side_by_side(offers, len(lists)), strict=True))
    # per small component, the part with the largest key
    earlier = earlier[best.argmax(0), np.arange(len(small))]
    return end, comp, kernels.labelled(small, earlier)


def _row_runs(lab: np.ndarray, parts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel ``row_runs`` of a clip (T, H, W), its frames in ``parts`` side by side."""
    kernels = _kernels()
    cuts = np.linspace(0, lab.shape[0], min(parts, lab.shape[0]) + 1).astype(np.int64)
    if len(cuts) <= 2:
        return kernels.row_runs(lab)
    pieces = side_by_side(lambda p: kernels.row_runs(lab[cuts[p] : cuts[p + 1]]), len(cuts) - 1)
    before = np.cumsum([0] + [first[-1] for first, _, _ in pieces])  # runs before each part
    first = np.concatenate([f[:-1] + n for (f, _, _), n in zip(pieces, before[:-1], strict=True)]
                           + [before[-1:]])  # fmt: skip
    return first, *(np.concatenate([piece[i] for piece in pieces]) for i in (1, 2))


def connected_and_merged(labels, min_size: torch.Tensor, weight: float, out=None):
    """CPU twin of ``connected_and_merged``: the same long (B, T, H, W), clip by clip.

    Each row of a clip becomes runs of one label; runs that touch across a row or a frame
    with the same label are united (union-find over runs, roots the first run, so the
    components come numbered in raster order as cc3d numbers them); sizes, each small
    piece's earlier neighbour, the groups and the final labels all work on the runs. SLIC's
    labels have one run per 3-20 pixels, so only the first pass and the last read and
    write every pixel. A batch's clips run side by
    side; one clip's frames are split across the threads (:func:`_merged_runs`), and the
    last pass, the painting, is split so at any batch.

    Args:
        labels: (B, T, H, W) integer labels.
        min_size: (B,) the smallest kept size per clip, in pixels.
        weight: pixels each voxel stands for.
        out: a contiguous long (B, T, H, W) tensor to paint into (None: a new one).
    """
    kernels = _kernels()
    b, t, h, w = labels.shape
    out = torch.empty(b, t, h, w, dtype=torch.long) if out is None else out
    limits = (min_size.float() / weight).double().tolist()  # (float32, as torch compares)

    parts = torch.get_num_threads() if b == 1 else 1  # clips side by side, or frames

    def merged(i):
        first, start, value = _row_runs(labels[i].contiguous().numpy(), parts)
        return first, start, *_merged_runs(first, start, value, t, h, w, limits[i], parts)

    runs = side_by_side(merged, b)
    chunks = _runs(b, t)

    def paint(i):  # the one pass over the pixels in runs of frames: at batch 1 on every core
        c, t0, t1 = chunks[i]
        kernels.paint(*runs[c], out[c].numpy(), t0 * h, t1 * h)

    side_by_side(paint, len(chunks))
    return out


def place_pixels(rgb, mask, depth, shift, scale, center):
    """CPU twin of ``place_person``'s pixel resampling: rgb, mask, depth (or None) moved.

    Each output pixel reads its source pixel (the inverse of p -> c + s (p - c) + shift, as
    the torch path computes it in float32) once and writes all its fields, so no index
    tensor or full-size temporary is made (31 x 240 x 320 clip: ~6 ms against ~17 ms).

    Args:
        rgb: float32 (B, T, 3, H, W).
        mask: bool (B, T, H, W).
        depth: float32 (B, T, H, W), or None.
        shift: float32 (B, T, 2) pixels (x, y) per frame.
        scale: float32 (B,) zoom per clip.
        center: float32 (B, 2) the zoom's fixed point.
    """
    b, t, _, h, w = rgb.shape
    out_rgb = torch.empty_like(rgb, memory_format=torch.contiguous_format)
    out_mask = torch.empty(mask.shape, dtype=torch.bool)
    has_depth = depth is not None
    out_depth = torch.empty(depth.shape if has_depth else (1, 1, 1, 1))
    src_depth = depth.contiguous() if has_depth else out_depth
    arrays = [x.contiguous().numpy() for x in (rgb, mask, src_depth, shift, scale, center)]
    arrays += [out_rgb.numpy(), out_mask.numpy(), out_depth.numpy()]
    kernel = _kernels().place

    runs = _runs(b, t)

    def run(i):
        kernel(*arrays, has_depth, *runs[i])

    side_by_side(run, len(runs))
    return out_rgb, out_mask, out_depth if has_depth else None


def _runs(b: int, t: int) -> list[tuple[int, int, int]]:
    """(clip, first frame, end frame): each clip's frames in as many runs as torch has threads."""
    per = -(-t // max(1, torch.get_num_threads()))
    return [(i, j, min(j + per, t)) for i in range(b) for j in range(0, t, per)]


def _compile(numba, cache: bool):
    @numba.njit(nogil=True, cache=cache)
    def planar(pixels, shift, coord_scale, lo, scale, full, cells, s, compensated, b, t0, t1):
        """Frames [t0, t1) of clip b: :func:`planar`'s rescaled pixels and cells' samples."""
        _, _, h, c, w = full.shape
        offset, factor = lo[b], scale[b]
        for t in range(t0, t1):
            for y in range(h):
                row = full[b, t, y]
                if compensated:  # colour planes as they are; (x, y) - shift, times k
                    for i in range(3):
                        src, out = pixels[b, t, i, y], row[i]
                        for x in range(w):
                            out[x] = (src[x] - offset) * factor
                    k, sx = coord_scale[b], shift[b, t, 0]
                    out = row[3]
                    for x in range(w):
                        out[x] = ((np.float32(x) - sx) * k - offset) * factor
                    row[4, :] = ((np.float32(y) - shift[b, t, 1]) * k - offset) * factor
                else:
                    f = pixels[b, t, y]  # (W, C)
                    for i in range(c):
                        for x in range(w):
                            row[i, x] = (f[x, i] - offset) * factor
            for cy in range(cells.shape[2] if s > 1 else 0):  # each cell's middle pixel
                src = full[b, t, min(cy * s + s // 2, h - 1)]
                for i in range(c):
                    out = cells[b, t, cy, i]
                    for cx in range(cells.shape[4]):
                        out[cx] = src[i, min(cx * s + s // 2, w - 1)]

    @numba.njit(nogil=True, cache=cache)
    def kmeans(planar, q, ft, fy, fx, centres, valid, ys, xs, step, windows, labels, rfirst,
               rstart, rvalue, sums, b, t0, t1, mode, by_runs, write):  # fmt: skip
        """One assignment of frames [t0, t1) of clip b, and their fixed-point sums per label.

        slic.cu's slic_assign (with torch's |m|^2 - 2 f.m) and slic_accumulate. planar
        (B, T, NY, C, NX) features, summed times the clip's fixed-point scale q (B,) and
        rounded (a power of two: exact); ft, fy, fx: the coordinates so scaled (int64);
        labels (B, T, NY, NX) int32,
        the last assignment's. ``sums`` carry over from the last call on these frames: with
        ``mode`` _WHOLE they are taken whole (by runs of one label), with _CHANGES only the
        voxels whose label changed move theirs (a few percent after the first iterations;
        integer sums, so the same totals), with _NO_SUMS not at all. ``by_runs``: the
        assignment is given, as the runs of each row (rfirst (T * NY + 1,) into rstart and
        rvalue, as :func:`row_runs` makes them), and only summed, and written to labels if
        ``write``.
        """
        _, _, ny, c, nx = planar.shape
        k_all = centres.shape[1]
        s = step[b]
        inv = np.float32(1.0) / (s * s)
        wt, wy, wx = windows[b, 0], windows[b, 1], windows[b, 2]
        best = np.empty(nx, np.float32)
        arg = np.empty(nx, np.int32)
        d = np.empty(nx, np.float32)

        # Each centre's window along x, -wx - 1 < x - mx <= wx, as a range [lo, hi) of every
        # row; the loops run over views from 0 (no negative-index wrap, so they vectorise).
        # (scikit-image's tests, in order: each is monotone in x)
        lo, hi = np.zeros(k_all, np.int64), np.zeros(k_all, np.int64)
        for k in range(k_all):
            mx = centres[b, k, c + 2]
            while lo[k] < nx and xs[lo[k]] - mx <= -wx - 1:
                lo[k] += 1
            hi[k] = lo[k]
            while hi[k] < nx and xs[hi[k]] - mx <= wx:
                hi[k] += 1

        def add(label, sign, t, iy, x0, x1):  # voxels x0..x1-1 of row (t, iy) into (sign 1) or
            # out of the label's sums: each value times q, truncated to int32 alone (vector
            # instructions; read in cache, not from a stored copy)
            for i in range(c):
                total, f = np.int64(0), planar[b, t, iy, i, x0:x1]
                for ix in range(x1 - x0):
                    total += np.int64(np.int32(f[ix] * q[b]))
                sums[label, i] += sign * total
            sums[label, c] += sign * ft[b, t] * (x1 - x0)
            sums[label, c + 1] += sign * fy[b, iy] * (x1 - x0)
            for ix in range(x0, x1):
                sums[label, c + 2] += sign * fx[b, ix]
            sums[label, c + 3] += sign * (x1 - x0)

        if mode == _WHOLE:
            sums[:] = 0
        if by_runs:
            for t in range(t0, t1):
                for iy in range(ny):
                    r = t * ny + iy
                    for j in range(rfirst[r], rfirst[r + 1]):
                        x0, v = rstart[j], rvalue[j]
                        x1 = rstart[j + 1] if j + 1 < rfirst[r + 1] else nx
                        if mode == _WHOLE:
                            add(v, 1, t, iy, x0, x1)
                        if write:
                            labels[b, t, iy, x0:x1] = v
            return
        for t in range(t0, t1):
            pt = np.float32(t)
            for iy in range(ny):
                py = ys[iy]
                best[:] = np.inf
                arg[:] = 0
                row = planar[b, t, iy]
                for k in range(k_all):  # each centre scores the row: vector loops
                    if not valid[b, k]:
                        continue
                    m = centres[b, k]
                    dt, dy, mx = pt - m[c], py - m[c + 1], m[c + 2]
                    if not (-wt - 1 < dt <= wt and -wy - 1 < dy <= wy):  # scikit-image's window
                        continue
                    x0, x1 = lo[k], hi[k]
                    tyy, norm = dt * dt + dy * dy, np.float32(0.0)
                    for i in range(c):
                        norm += m[i] * m[i]
                    x, dk = xs[x0:x1], d[x0:x1]
                    for ix in range(x1 - x0):
                        dx = x[ix] - mx
                        dk[ix] = (tyy + dx * dx) * inv + norm
                    for i in range(c):  # |m|^2 - 2 f.m: the voxel's |f|^2 left out
                        if m[i] == 0:  # (adds 0: so the first iteration, whose m is 0)
                            continue
                        weight, feature = np.float32(-2.0) * m[i], row[i, x0:x1]
                        for ix in range(x1 - x0):
                            dk[ix] += weight * feature[ix]
                    kk, bk, ak = np.int32(k), best[x0:x1], arg[x0:x1]
                    for ix in range(x1 - x0):  # selects, not branches
                        closer = dk[ix] < bk[ix]
                        bk[ix] = dk[ix] if closer else bk[ix]
                        ak[ix] = kk if closer else ak[ix]
                was = labels[b, t, iy]
                if mode == _WHOLE:  # by runs of one label (few: the first labels are by
                    x0 = 0  # position)
                    for ix in range(1, nx + 1):
                        if ix == nx or arg[ix] != arg[x0]:
                            add(arg[x0], 1, t, iy, x0, ix)
                            x0 = ix
                elif mode == _CHANGES:
                    for ix in range(nx):
                        if arg[ix] != was[ix]:
                            add(was[ix], -1, t, iy, ix, ix + 1)
                            add(arg[ix], 1, t, iy, ix, ix + 1)
                was[:] = arg

    @numba.njit(nogil=True, cache=cache)
    def place(rgb, mask, depth, shift, scale, center, out_rgb, out_mask, out_depth, has_depth,
              b, t0, t1):  # fmt: skip
        """Frames [t0, t1) of clip b: place_person's nearest-neighbour resampling."""
        _, _, c, h, w = rgb.shape
        s, cx, cy = scale[b], center[b, 0], center[b, 1]
        half = np.float32(0.5)
        sx = np.empty(w, np.int64)
        for t in range(t0, t1):
            shx, shy = shift[b, t, 0], shift[b, t, 1]
            for x in range(w):  # the torch path's float32 arithmetic, in its order
                sx[x] = np.int64(np.floor(((np.float32(x) + half - cx) - shx) / s + cx))
            for y in range(h):
                sy = np.int64(np.floor(((np.float32(y) + half - cy) - shy) / s + cy))
                row = 0 <= sy < h
                for x in range(w):
                    ok = row and 0 <= sx[x] < w and mask[b, t, sy, sx[x]]
                    out_mask[b, t, y, x] = ok
                    for i in range(c):
                        out_rgb[b, t, i, y, x] = rgb[b, t, i, sy, sx[x]] if ok else 0.0
                    if has_depth:
                        out_depth[b, t, y, x] = depth[b, t, sy, sx[x]] / s if ok else np.inf

    @numba.njit(nogil=True, cache=cache)
    def row_runs(lab):
        """A clip's labels (T, H, W) as runs of one label along x, in one pass.

        Returns each row's first run (T * H + 1,), the runs' first x and their labels.
        """
        t_n, h, w = lab.shape
        rows = t_n * h
        flat = lab.reshape(rows, w)
        first = np.empty(rows + 1, np.int64)
        # room for a run a pixel, of which only the pages used are ever touched
        start = np.empty(rows * w, np.int32)
        value = np.empty(rows * w, lab.dtype)
        n = 0
        for r in range(rows):
            row = flat[r]
            first[r] = n
            prev = ~row[0]  # unlike the first pixel's label: it starts a run
            for x in range(w):  # written always, kept when it starts a run: no branch
                v = row[x]
                start[n], value[n] = x, v
                n += v != prev
                prev = v
        first[rows] = n
        return first, start[:n], value[:n]

    @numba.njit(nogil=True, cache=cache)
    def unite(first, start, value, end, row_of, z_of, y_of, parent, touch, m, h, w, r0, r1,
              inside):  # fmt: skip
        """Union-find over the runs of rows [r0, r1) of a clip (from :func:`row_runs`).

        ``inside``: the rows' runs get their ends, rows (frame, row in it) and themselves as
        parents, and are united with the touching runs of one label in the row above and the
        frame before where those rows are in [r0, r1); else only the frame step from rows
        [r0, r1) to the rows before r0 is walked (a part's border). Union by the smaller
        index, so every root is its component's first run, in any order of the parts. Pairs
        of touching runs of two labels go to ``touch`` from index m on (the merge's
        candidates); returns the index after the last. (Two rows partition [0, w) alike: a
        walk of two rows visits fewer pairs than their runs, so rows [r0, r1) alone write
        fewer than 4 per run.)
        """

        def _find(parent, i):  # (inner: a jitted one from outside would defeat the cache)
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        if inside:
            for r in range(r0, r1):
                z, y = r // h, r % h
                for i in range(first[r], first[r + 1]):
                    end[i] = start[i + 1] if i + 1 < first[r + 1] else w
                    row_of[i], z_of[i], y_of[i], parent[i] = r, z, y, i
        for r in range(r0, r1):
            i_end = first[r + 1]
            for step in range(2):  # the frame before (0), the row above (1)
                other = r - h if step == 0 else r - 1
                if other < 0 or (step == 1 and r % h == 0) or (other < r0) == inside:
                    continue
                i, j = first[r], first[other]
                while i < i_end:
                    same = value[i] == value[j]
                    touch[m, 0], touch[m, 1] = i, j  # kept when of two labels: no branch
                    m += not same
                    if same:
                        a, b = _find(parent, i), _find(parent, j)
                        parent[max(a, b)] = min(a, b)
                    ei, ej = end[i], end[j]
                    i += ei <= ej
                    j += ej <= ei
        return m

    @numba.njit(nogil=True, cache=cache)
    def components(parent, start, end, z_of, y_of, limit):
        """After :func:`unite`: each run's component, which are small, and their first pixels.

        Components are numbered in raster order; small: fewer than ``limit`` pixels; first
        pixels (K, 3) as (t, y, x).
        """
        n = len(parent)
        comp = np.empty(n, np.int32)
        root_run = np.empty(n, np.int32)
        k = 0
        for i in range(n):  # parent[i] <= i: in this order one hop reaches the root
            parent[i] = parent[parent[i]]
            if parent[i] == i:
                comp[i] = k
                root_run[k] = i
                k += 1
            else:
                comp[i] = comp[parent[i]]
        size = np.zeros(k, np.int64)
        for i in range(n):
            size[comp[i]] += end[i] - start[i]
        at = np.empty((k, 3), np.int32)
        for c in range(k):
            p = root_run[c]
            at[c, 0], at[c, 1], at[c, 2] = z_of[p], y_of[p], start[p]
        return comp, size < limit, at

    @numba.njit(nogil=True, cache=cache)
    def offers(comp, small, at, start, end, row_of, z_of, y_of, touch, e0, e1, i0, i1, w):
        """merge_small_components' candidates: per small component, its best neighbour.

        The largest key (L1 distance from the small component's first pixel, raster index,
        direction) over its pixels' neighbours in earlier components, and that neighbour
        (K,) each, -1 where none: along x for runs [i0, i1), across rows and frames for
        touches [e0, e1).
        """
        shift = np.int64(1) << 44
        best = np.full(len(small), -1, np.int64)
        earlier = np.full(len(small), -1, np.int32)

        # Arithmetic in place of selects throughout: LLVM turns a select that feeds a long
        # chain into a branch, and on speckled labels those branches miss half the time (the
        # touches' loop took 1.4-1.6x as long so).
        def offer(c, e, key):  # the largest key per small c
            old = best[c]
            better = np.int64(key > old)
            best[c] = old + (key - old) * better
            earlier[c] += (e - earlier[c]) * better

        def key_of(c, r, x, d, dx):  # voxel (run r, x) of c, dx = |x - c's first x|
            dist = abs(z_of[r] - at[c, 0]) + abs(y_of[r] - at[c, 1]) + dx
            return dist * shift + (np.int64(row_of[r]) * w + x) * 8 + d

        for i in range(i0, i1):  # along x, once per pair of runs: +x (0), -x (1)
            if end[i] < w:  # run i + 1 is the next in the row
                ci, cj = comp[i], comp[i + 1]
                later_i = np.int64(ci > cj)
                c = max(ci, cj)
                if small[c]:  # i's last pixel sees i + 1 at +x, i + 1's first i at -x
                    r = i + 1 - later_i
                    x = np.int64(start[i + 1]) - later_i  # (end[i] - 1 = start[i + 1] - 1)
                    offer(c, min(ci, cj), key_of(c, r, x, 1 - later_i, np.abs(x - at[c, 2])))
        for e in range(e0, e1):  # across rows (+y 2, -y 3) and frames (+t 4, -t 5)
            i, j = touch[e, 0], touch[e, 1]
            ci, cj = comp[i], comp[j]
            later_i = np.int64(ci > cj)  # (runs of two labels: never one component)
            c = max(ci, cj)  # the later one sees the other
            if small[c]:
                r = j + (i - j) * later_i
                a, b = max(start[i], start[j]), min(end[i], end[j]) - 1
                da, db = abs(a - at[c, 2]), abs(b - at[c, 2])
                x = b + (a - b) * np.int64(da > db)  # the common pixel farthest from c's first
                d = 2 + 2 * np.int64(z_of[i] != z_of[j]) + later_i  # j sees i at +, i j at -
                offer(c, min(ci, cj), key_of(c, r, x, d, max(da, db)))
        return best, earlier

    @numba.njit(nogil=True, cache=cache)
    def labelled(small, earlier):
        """Each component's final label, from each small one's chosen neighbour (:func:`offers`).

        The pointers (always to an earlier component) followed in one pass; a small first
        component's group joins the first large one's; the groups numbered in raster order.
        """
        k = len(small)
        group = np.empty(k, np.int32)
        for c in range(k):
            group[c] = group[earlier[c]] if small[c] and earlier[c] >= 0 else c
        if k > 0 and small[0]:
            big = 0
            while big < k and small[big]:
                big += 1
            if big < k:
                for c in range(k):
                    if group[c] == big:
                        group[c] = 0
        new = np.empty(k, np.int64)
        count = 0
        for c in range(k):  # a group's name: its first component
            if group[c] == c:
                new[c] = count
                count += 1
        for c in range(k):
            new[c] = new[group[c]]
        return new

    @numba.njit(nogil=True, cache=cache)
    def paint(first, start, end, comp, label, out, r0, r1):
        """Rows [r0, r1) of ``out`` (T, H, W): each run's pixels get its component's label."""
        w = out.shape[2]
        flat = out.reshape(-1)
        # Run by run, in whole blocks of 8 pixels (one vector store each): a block that runs
        # past the run's end is overwritten by the next run's, so a run of up to 8 pixels is
        # one store with no loop exit to mispredict (pixel by pixel, the test for a run's
        # end missed about once a run: 32 -> 20 ms over the 8 built-in clips). No block
        # crosses a row's end: the next row may be another thread's.
        for r in range(r0, r1):
            row = flat[r * w : (r + 1) * w]
            for i in range(first[r], first[r + 1]):
                v, s, e = label[comp[i]], start[i], end[i]
                if s + ((e - s + 7) & ~7) <= w:
                    for k in range(s, e, 8):
                        for u in range(8):
                            row[k + u] = v
                else:
                    for x in range(s, e):
                        row[x] = v

    return _Kernels(planar, kmeans, place, row_runs, unite, components, offers, labelled, paint)


class _Kernels(NamedTuple):
    planar: Callable
    kmeans: Callable
    place: Callable
    row_runs: Callable
    unite: Callable
    components: Callable
    offers: Callable
    labelled: Callable
    paint: Callable
