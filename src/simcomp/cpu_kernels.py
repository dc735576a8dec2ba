"""Numba kernels for the CPU: SLIC's full-resolution step (SPEC R6-R8).

The CPU twin of :func:`simcomp.cuda.slic_refine`: each pixel reads its features where they
live, scores the labels of its pooled cell and the cell's 4 neighbours, and writes its label,
with no temporaries; a pixel whose 5 candidates agree takes that label unscored. The torch
step (``simcomp.functional.slic._assign_full_resolution``) is the reference the tests compare
it with, and what runs where numba does not import. On 2 cores it takes a third of the torch
step's time (31 x 240 x 320 clip: 10 ms against 29 ms): the torch step gathers each boundary
cell's pixels and scores them through several full-size temporaries.

Compiled by numba on first use in a process (about 1.5 s; about 0.2 s when numba's cache on
disk has it). Frames are split across ``torch.get_num_threads()`` Python threads (the kernel
releases the GIL) rather than numba's own threading layer, which would be a second thread
pool beside torch's.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch


@functools.lru_cache(maxsize=1)
def _kernels():
    try:
        import numba
    except ImportError:
        return None
    return _compile(numba)


def available(x: torch.Tensor) -> bool:
    """True when ``x`` is on the CPU and numba imports."""
    return not x.is_cuda and _kernels() is not None


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
    # frames in as many runs as torch has threads (never fewer than one frame a run)
    runs = [(i, j, min(j + -(-t // _threads()), t)) for i in range(b)
            for j in range(0, t, -(-t // _threads()))]  # fmt: skip

    def run(part):
        kernel(*arrays[:3], low, *arrays[3:], out.numpy(), bool(compensated), source.s, *part)

    _map(run, runs)
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
    runs = [(i, j, min(j + -(-t // _threads()), t)) for i in range(b)
            for j in range(0, t, -(-t // _threads()))]  # fmt: skip
    found = [None] * len(runs)
    kernel = _kernels().pairs

    def run(n):
        # a run holds at most the wanted voxels of its frames: the bound of all of them is safe
        out = np.empty((6 * voxels, 2), np.int64)
        found[n] = out[: kernel(ids, flags, *runs[n], out)]

    _map(run, range(len(runs)))
    return torch.from_numpy(np.concatenate(found)) if found else torch.zeros(0, 2, dtype=torch.long)


def _threads() -> int:
    return max(1, torch.get_num_threads())


def _map(fn, parts) -> None:
    if len(parts) == 1 or _threads() == 1:
        for part in parts:
            fn(part)
        return
    with ThreadPoolExecutor(min(_threads(), len(parts))) as pool:
        list(pool.map(fn, parts))  # list(): raises what a part raised


def _compile(numba):
    @numba.njit(nogil=True, cache=True)
    def refine(pixels, shift, coord_scale, low, centres, lo, scale, step, out, compensated, s,
               b, t0, t1):  # fmt: skip
        """Frames [t0, t1) of clip b; the arithmetic of slic.cu's slic_refine."""
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
                        for i in range(c):
                            e = f[i] - m[i]
                            d += e * e
                        if d < best:
                            best, arg = d, cand[j]
                    out[b, t, y, x] = arg

    @numba.njit(nogil=True, cache=True)
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

    return _Kernels(refine, pairs)


class _Kernels:
    def __init__(self, refine, pairs) -> None:
        self.refine, self.pairs = refine, pairs
