"""Numba kernels for the CPU: SLIC's steps, exact components with the merge, the placement.

Each is the CPU twin of a torch step (and, for SLIC, of a :mod:`simcomp.cuda` kernel) (SPEC
R3, R6-R8):

- :func:`slic_kmeans`: SLIC's k-means iterations on the pooled grid. Per row of voxels, each
  centre in the window scores the row in one vectorised pass (no (voxels x centres)
  distance matrix), and the centres' sums are taken in fixed point as on CUDA
  (:mod:`simcomp._fixed_point`), so they do not depend on how the frames are split across
  threads. 2 ms an iteration where torch's bmm, additions, minimum and scatter took 5-7 ms.
- :func:`slic_refine`: the full-resolution step: each pixel reads its features where they
  live, scores the labels of its pooled cell and the cell's 4 neighbours, and writes its
  label; a pixel whose 5 candidates agree takes that label unscored (31 x 240 x 320 clip:
  10 ms against the torch step's 29 ms).
- :func:`connected_and_merged`: exact components and the small-piece merge on runs of pixels,
  equal to cc3d and the torch merge; :func:`adjacent_pairs` and :func:`merge_groups`, the
  merge's graph and rounds for ``merge_small_components``.
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


def slic_kmeans(pooled, centres, valid, axes, step, iterations):
    """CPU twin of the torch k-means loop of SLIC (``_assign`` then ``_means``, repeated).

    Args:
        pooled: (B, N, C) rescaled cell features, N = T * NY * NX in (t, y, x) order.
        centres: (B, K, C + 3) the starting centres: features, then (t, y, x) in pixels.
        valid: bool (B, K), which seeds exist.
        axes: the grid's coordinates (t (T,), y (NY,), x (NX,)) in pixels.
        step: (B,) grid step per clip.
        iterations: how many assignments (each followed by the centres' update).

    Returns:
        labels long (B, N) of the last assignment, and the centres (B, K, C + 3) after it.
    """
    b, n, c = pooled.shape
    t, ys, xs = (len(a) for a in axes)
    k = centres.shape[1]
    planar = pooled.float().view(b, t, ys, xs, c).permute(0, 1, 2, 4, 3).contiguous()
    coords = torch.stack([a[-1] for a in axes]).float().amax()  # the largest coordinate summed
    q = fixed_point.scale(torch.maximum(pooled.abs().flatten(1).amax(1), coords), n).float()
    labels = torch.zeros(b, t, ys, xs, dtype=torch.long)  # (as they stay with no iteration)
    runs = _runs(b, t)
    sums = torch.zeros(len(runs), k, c + 4, dtype=torch.int64)
    clip_of = torch.tensor([run[0] for run in runs])

    # the summed values in fixed point once: they are the same every iteration
    def scaled(x):  # (B, ...) -> int64, each clip's values times its scale, rounded
        return torch.round(x * q.view(-1, *[1] * (x.ndim - 1))).long().numpy()

    before = [planar.numpy(), scaled(planar)]
    before += [scaled(a.float().expand(b, -1)) for a in axes]
    after = [x.contiguous().numpy() for x in (valid, axes[1].float(), axes[2].float())]
    after += [step.float().contiguous().numpy(), labels.numpy()]
    kernel = _kernels().kmeans
    for _ in range(iterations):
        args = (*before, centres.float().contiguous().numpy(), *after)

        def run(i, args=args):
            kernel(*args, sums[i].numpy(), *runs[i])

        side_by_side(run, len(runs))
        total = torch.zeros(b, k, c + 4, dtype=torch.int64).index_add_(0, clip_of, sums)
        centres = fixed_point.means(total[..., :-1], total[..., -1], q, centres.float())
    return labels.view(b, n), centres


def slic_refine(source, scale, low, centres, step) -> torch.Tensor:
    """CPU twin of the torch ``_assign_full_resolution``: int32 labels (B, T, H, W).

    Args:
        source: a ``_Features`` or ``_CompensatedFeatures`` of :mod:`simcomp.functional.slic`;
            its ``kernel_pixels()`` gives the pixels as the kernel reads them.
        scale: (B,) the features' rescale (SLIC's 1 / (range * compactness)).
        low: (B, T, hs, ws) labels of the pooled cells.
        centres: (B, K, C + 3) in rescaled features and pixel coordinates (t, y, x).
        step: (B,) grid step per clip.
    """
    b, t, h, w = source.shape
    pixels, shift, coord_scale, compensated = source.kernel_pixels()
    if compensated:  # (B*T, 3, PH, PW) -> (B, T, 3, PH, PW)
        pixels = pixels.reshape(b, t, *pixels.shape[1:])
    else:
        shift, coord_scale = torch.zeros(b, t, 2), torch.zeros(b)
    out = torch.empty(b, t, h, w, dtype=torch.int32)
    arrays = [
        x.detach().float().contiguous().numpy()
        for x in (pixels, shift, coord_scale, centres, source.lo, scale, step)
    ]
    low = low.int().contiguous().numpy()
    kernel = _kernels().refine
    runs = _runs(b, t)

    def run(i):
        kernel(*arrays[:3], low, *arrays[3:], out.numpy(), bool(compensated), source.s, *runs[i])

    side_by_side(run, len(runs))
    return out


def adjacent_pairs(regions: torch.Tensor, wanted: torch.Tensor, voxels: int) -> torch.Tensor:
    """CPU twin of the torch ``_adjacent_pairs``: pairs (E, 2) long, a <= b, from 0.

    One pass over the voxels (no index tensors): each voxel of a wanted region compares its
    six face neighbours, and a pair is written unless it repeats the one written before it.

    Args:
        regions: (B, T, H, W) region ids from 1 (0 is no region).
        wanted: bool (K + 1,), by id (``wanted[0]`` False).
        voxels: how many voxels the wanted regions hold (bounds the pairs: 6 a voxel).
    """
    b, t = regions.shape[:2]
    ids = regions.contiguous().numpy()
    flags = wanted.contiguous().numpy()
    runs = _runs(b, t)
    found = [None] * len(runs)
    kernel = _kernels().pairs

    def run(n):
        # a run holds at most the wanted voxels of its frames: the bound of all of them is safe
        out = np.empty((6 * voxels, 2), np.int64)
        found[n] = out[: kernel(ids, flags, *runs[n], out)]

    side_by_side(run, len(runs))
    return torch.from_numpy(np.concatenate(found)) if found else torch.zeros(0, 2, dtype=torch.long)


def connected_and_merged(labels: torch.Tensor, min_size: torch.Tensor, weight: float):
    """CPU twin of ``connected_and_merged``: the same long (B, T, H, W), clip by clip.

    Each row of a clip becomes runs of one label; runs that touch across a row or a frame
    with the same label are united (union-find over runs, roots the first run, so the
    components come numbered in raster order as cc3d numbers them); sizes, the small pieces'
    neighbours, the merge's rounds (:func:`merge_groups`) and the final labels all work on the
    runs. SLIC's labels have about one run per 20 pixels, so only the first pass and the last
    read and write every pixel (a fragmented 31 x 240 x 320 clip: 12 ms against 20 ms for
    cc3d and the passes around it).

    Args:
        labels: (B, T, H, W) integer labels.
        min_size: (B,) the smallest kept size per clip, in pixels.
        weight: pixels each voxel stands for.
    """
    kernels = _kernels()
    out = torch.empty(labels.shape, dtype=torch.long)
    limits = (min_size.float() / weight).double()  # (float32, as the torch path compares)
    for b in range(labels.shape[0]):
        lab = labels[b].contiguous().numpy()
        limit = float(limits[b])
        first, start, end, comp, size, pairs = kernels.runs(lab, limit)
        k = len(size)
        group = np.empty(k, np.int64)
        kernels.merge(size, np.full(k, limit), pairs, group)
        survivor = group == np.arange(k)
        new = (np.cumsum(survivor) - 1)[group]  # groups renumbered in raster order
        kernels.paint(first, start, end, comp, new, out[b].numpy())
    return out


def merge_groups(size: torch.Tensor, limit: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """CPU twin of the torch ``_merge_on_graph``: each region's group (K,), the same rule.

    Args:
        size: (K,) voxels per region.
        limit: (K,) the smallest kept size of each region's clip, in voxels.
        edges: (E, 2) adjacent region pairs (pairs of one region ignored).
    """
    group = torch.empty(len(size), dtype=torch.long)
    _kernels().merge(
        size.long().contiguous().numpy(),
        limit.double().contiguous().numpy(),
        edges.long().contiguous().numpy(),
        group.numpy(),
    )
    return group


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
    def refine(pixels, shift, coord_scale, low, centres, lo, scale, step, out, compensated, s,
               b, t0, t1):  # fmt: skip
        """Frames [t0, t1) of clip b: slic.cu's slic_refine, with torch's |m|^2 - 2 f.m."""
        _, _, h, w = out.shape
        hs, ws = low.shape[2], low.shape[3]
        c = centres.shape[2] - 3
        f = np.empty(c, np.float32)
        cand = np.empty(5, np.int32)
        lo_b, a, k = lo[b], scale[b], coord_scale[b]
        inv = np.float32(1.0) / (step[b] * step[b])
        for t in range(t0, t1):
            cells = low[b, t]
            for y in range(h):
                cy = y // s
                up, down = max(cy - 1, 0), min(cy + 1, hs - 1)
                for x in range(w):
                    cx = x // s
                    own = cells[cy, cx]
                    cand[0], cand[1], cand[2] = own, cells[up, cx], cells[down, cx]
                    cand[3], cand[4] = cells[cy, max(cx - 1, 0)], cells[cy, min(cx + 1, ws - 1)]
                    if (cand[1] == own) & (cand[2] == own) & (cand[3] == own) & (cand[4] == own):
                        out[b, t, y, x] = own
                        continue
                    if compensated:
                        for i in range(3):
                            f[i] = (pixels[b, t, i, y, x] - lo_b) * a
                        f[3] = ((np.float32(x) - shift[b, t, 0]) * k - lo_b) * a
                        f[4] = ((np.float32(y) - shift[b, t, 1]) * k - lo_b) * a
                    else:
                        for i in range(c):
                            f[i] = (pixels[b, t, y, x, i] - lo_b) * a
                    best, arg = np.float32(np.inf), own
                    for j in range(5):
                        if j > 0 and cand[j] == cand[j - 1]:
                            continue
                        m = centres[b, cand[j]]
                        dt, dy, dx = (
                            np.float32(t) - m[c],
                            np.float32(y) - m[c + 1],
                            np.float32(x) - m[c + 2],
                        )
                        d = (dt * dt + dy * dy + dx * dx) * inv
                        for i in range(c):  # |m|^2 - 2 f.m: the pixel's |f|^2 left out
                            d += m[i] * (m[i] - np.float32(2.0) * f[i])
                        if d < best:
                            best, arg = d, cand[j]
                    out[b, t, y, x] = arg

    @numba.njit(nogil=True, cache=cache)
    def pairs(ids, wanted, b, t0, t1, out):
        """Frames [t0, t1) of clip b: adjacent region pairs of wanted regions; how many."""
        _, t, h, w = ids.shape
        n, last_a, last_c = 0, -1, -1
        for z in range(t0, t1):
            for y in range(h):
                for x in range(w):
                    r = ids[b, z, y, x]
                    if not wanted[r]:
                        continue
                    for step in range(6):
                        if step == 0:
                            if x == 0:
                                continue
                            o = ids[b, z, y, x - 1]
                        elif step == 1:
                            if x == w - 1:
                                continue
                            o = ids[b, z, y, x + 1]
                        elif step == 2:
                            if y == 0:
                                continue
                            o = ids[b, z, y - 1, x]
                        elif step == 3:
                            if y == h - 1:
                                continue
                            o = ids[b, z, y + 1, x]
                        elif step == 4:
                            if z == 0:
                                continue
                            o = ids[b, z - 1, y, x]
                        else:
                            if z == t - 1:
                                continue
                            o = ids[b, z + 1, y, x]
                        if o == r:
                            continue
                        a, c = min(r, o) - 1, max(r, o) - 1
                        if a != last_a or c != last_c:
                            out[n, 0], out[n, 1] = a, c
                            last_a, last_c = a, c
                            n += 1
        return n

    @numba.njit(nogil=True, cache=cache)
    def kmeans(planar, fixed, ft, fy, fx, centres, valid, ys, xs, step, labels, sums, b, t0, t1):
        """One assignment of frames [t0, t1) of clip b, and their fixed-point sums per label.

        slic.cu's slic_assign (with torch's |m|^2 - 2 f.m) and slic_accumulate. planar
        (B, T, NY, C, NX) features; fixed: the same times the clip's fixed-point scale,
        rounded (int64); ft, fy, fx: the coordinates so scaled.
        """
        _, _, ny, c, nx = planar.shape
        k_all = centres.shape[1]
        s = step[b]
        window, inv = np.float32(2.0) * s, np.float32(1.0) / (s * s)
        best = np.empty(nx, np.float32)
        arg = np.empty(nx, np.int64)
        d = np.empty(nx, np.float32)
        sums[:] = 0
        for t in range(t0, t1):
            pt = np.float32(t)
            for iy in range(ny):
                py = ys[iy]
                best[:] = np.inf
                arg[:] = 0
                for k in range(k_all):  # each centre scores the row: vector loops
                    if not valid[b, k]:
                        continue
                    m = centres[b, k]
                    dt, dy, mx = pt - m[c], py - m[c + 1], m[c + 2]
                    if abs(dt) > window or abs(dy) > window:
                        continue
                    tyy, norm = dt * dt + dy * dy, np.float32(0.0)
                    for i in range(c):
                        norm += m[i] * m[i]
                    for ix in range(nx):
                        dx = xs[ix] - mx
                        d[ix] = (tyy + dx * dx) * inv + norm
                    for i in range(c):  # |m|^2 - 2 f.m: the voxel's |f|^2 left out
                        weight, row = np.float32(-2.0) * m[i], planar[b, t, iy, i]
                        for ix in range(nx):
                            d[ix] += weight * row[ix]
                    for ix in range(nx):
                        if abs(xs[ix] - mx) <= window and d[ix] < best[ix]:
                            best[ix], arg[ix] = d[ix], k
                for ix in range(nx):
                    a = arg[ix]
                    labels[b, t, iy, ix] = a
                    for i in range(c):
                        sums[a, i] += fixed[b, t, iy, i, ix]
                    sums[a, c] += ft[b, t]
                    sums[a, c + 1] += fy[b, iy]
                    sums[a, c + 2] += fx[b, ix]
                    sums[a, c + 3] += 1

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
    def merge(size, limit, edges, group):
        """The rounds of merge_small_components (see its docstring), on arrays."""
        k = len(size)
        size = size.copy()
        a, c = edges[:, 0].copy(), edges[:, 1].copy()
        n = len(a)
        for i in range(k):
            group[i] = i
        key = np.empty(k, np.int64)
        best = np.empty(k, np.int64)
        target = np.empty(k, np.int64)
        first = np.empty(k, np.int64)
        root = np.empty(k, np.int64)
        while True:
            for i in range(k):
                key[i] = size[i] * (k + 1) + i
                best[i] = -1
            for e in range(n):
                if a[e] != c[e] and a[e] < k and c[e] < k:  # (pairs naming region K: none)
                    best[a[e]] = max(best[a[e]], key[c[e]])
                    best[c[e]] = max(best[c[e]], key[a[e]])
            moved = False
            for i in range(k):
                point = size[i] < limit[i] and size[i] > 0 and best[i] >= 0
                target[i] = best[i] % (k + 1) if point else i
                moved = moved or point
            if not moved:
                return
            for i in range(k):  # of two small regions that pick each other, the larger stays
                j = target[i]
                if j != i and target[j] == i and key[i] > key[j]:
                    target[i] = i
            for i in range(k):  # each tree is named by its first region
                first[i] = k + 1
            for i in range(k):
                r = i
                while target[r] != r:
                    r = target[r]
                root[i] = r
                first[r] = min(first[r], i)
            merged = np.zeros(k, np.int64)
            for i in range(k):
                root[i] = first[root[i]]
                merged[root[i]] += size[i]
            size = merged
            for i in range(k):
                group[i] = root[group[i]]
            kept = 0
            for e in range(n):  # pairs of two kept groups never matter again: drop them
                x, y = root[a[e]], root[c[e]]
                if x != y and (size[x] < limit[x] or size[y] < limit[y]):
                    a[kept], c[kept] = x, y
                    kept += 1
            n = kept

    @numba.njit(nogil=True, cache=cache)
    def runs(lab, limit):
        """The runs of one label along x of a clip's labels (T, H, W), and their components.

        Returns each row's first run, the runs' starts and ends, their components (numbered
        in raster order), the components' sizes, and the pairs of adjacent components of
        which one is smaller than ``limit``.
        """

        def _find(parent, i):  # (inner: a jitted one from outside would defeat the cache)
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        t_n, h, w = lab.shape
        rows = t_n * h
        flat = lab.reshape(rows, w)
        first = np.empty(rows + 1, np.int64)
        n = 0
        for r in range(rows):  # count runs
            first[r] = n
            row = flat[r]
            n += 1
            for x in range(1, w):
                n += row[x] != row[x - 1]
        first[rows] = n
        start = np.empty(n, np.int32)
        end = np.empty(n, np.int32)
        value = np.empty(n, np.int64)
        for r in range(rows):
            row = flat[r]
            i = first[r]
            start[i] = 0
            value[i] = row[0]
            for x in range(1, w):
                if row[x] != row[x - 1]:
                    end[i] = x
                    i += 1
                    start[i] = x
                    value[i] = row[x]
            end[i] = w
        parent = np.arange(n)
        # runs that touch across a row or a frame: united when of one label, else kept as a
        # pair for the merge (a sweep steps at most once per run of the two rows: < 4 per run)
        touch = np.empty((4 * n + 1, 2), np.int64)
        m = 0
        for r in range(rows):
            for step in range(2):  # the same row a frame before, then the row above
                other = r - h if step == 0 else r - 1
                if other < 0 or (step == 1 and r % h == 0):
                    continue
                i, j = first[r], first[other]
                i_end, j_end = first[r + 1], first[other + 1]
                while i < i_end and j < j_end:
                    if start[i] < end[j] and start[j] < end[i]:
                        if value[i] == value[j]:
                            a, b = _find(parent, i), _find(parent, j)
                            if a < b:
                                parent[b] = a
                            elif b < a:
                                parent[a] = b
                        else:
                            touch[m, 0], touch[m, 1] = i, j
                            m += 1
                    if end[i] < end[j]:
                        i += 1
                    elif end[j] < end[i]:
                        j += 1
                    else:
                        i += 1
                        j += 1
        comp = np.empty(n, np.int64)
        k = 0
        for i in range(n):
            root = _find(parent, i)
            if root == i:
                comp[i] = k
                k += 1
            else:
                comp[i] = comp[root]
        size = np.zeros(k, np.int64)
        for i in range(n):
            size[comp[i]] += end[i] - start[i]
        # pairs of adjacent components, one of them small (the merge needs no others): the
        # touching runs, and consecutive runs of a row
        small = np.empty(k, np.bool_)
        for c in range(k):
            small[c] = size[c] < limit
        pairs = np.empty((m + n, 2), np.int64)
        p = 0
        for e in range(m + n - 1):
            if e < m:
                a, b = comp[touch[e, 0]], comp[touch[e, 1]]
            else:  # run q and the next one (unless q ends its row)
                q = e - m
                a, b = comp[q], comp[q + 1] if end[q] < w else comp[q]
            if a != b and (small[a] or small[b]):
                pairs[p, 0], pairs[p, 1] = min(a, b), max(a, b)
                p += 1
        return first, start, end, comp, size, pairs[:p]

    @numba.njit(nogil=True, cache=cache)
    def paint(first, start, end, comp, new, out):
        """Each run's pixels of ``out`` (T, H, W) get its component's new label."""
        w = out.shape[2]
        flat = out.reshape(-1)
        for r in range(len(first) - 1):
            for i in range(first[r], first[r + 1]):
                v = new[comp[i]]
                for x in range(r * w + start[i], r * w + end[i]):
                    flat[x] = v

    return _Kernels(refine, pairs, kmeans, place, merge, runs, paint)


class _Kernels:
    def __init__(self, refine, pairs, kmeans, place, merge, runs, paint) -> None:
        self.refine, self.pairs, self.kmeans, self.place = refine, pairs, kmeans, place
        self.merge, self.runs, self.paint = merge, runs, paint
