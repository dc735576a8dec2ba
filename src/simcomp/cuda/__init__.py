"""Optional CuPy raw kernels (sources in ``*.cu`` beside this file), loaded lazily.

``slic.cu``: SLIC's k-means steps (on the pixels or a sample of them); ``connectivity.cu``: exact
connected components and region sizes.

Used only when a tensor is on CUDA and CuPy imports; the torch path is the reference they are
tested against and the fallback everywhere else.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import torch

from .. import _fixed_point as fixed_point

SOURCES = Path(__file__).parent
THREADS = 256


@functools.lru_cache(maxsize=1)
def _cupy():
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def available(x: torch.Tensor) -> bool:
    """True when ``x`` is on CUDA and CuPy compiles the kernels for its device.

    A CuPy that cannot (one built for another CUDA major version, say) warns once and leaves
    the torch path in charge, which gives the same labels.
    """
    return x.is_cuda and _cupy() is not None and _compiles(x.device.index or 0)


def fits(k: int, channels: int) -> bool:
    """Whether ``slic_means`` can sum K labels of C channels in a block's shared memory (48 KiB)."""
    return 8 * k * (channels + 4) <= 48 * 1024


@functools.cache
def _compiles(device: int) -> bool:
    try:
        _module("slic", device).get_function("slic_assign")
        _module("connectivity", device).get_function("cc_merge")
    except Exception as err:  # CuPy's compile and driver errors share no base class
        warnings.warn(
            f"simcomp.cuda: CuPy could not compile the kernels ({type(err).__name__}: "
            f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}); using the torch "
            "path. Install the CuPy wheel that matches torch's CUDA (cupy-cuda12x or "
            "cupy-cuda13x), or uninstall CuPy to silence this.",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    return True


@functools.cache
def _module(name: str, device: int):
    cp = _cupy()
    with cp.cuda.Device(device):
        return cp.RawModule(code=(SOURCES / f"{name}.cu").read_text(), options=("-std=c++17",))


def _launch(
    kernel: str, grid: tuple, args: tuple, device: int, shared_mem: int = 0, module: str = "slic"
) -> None:
    cp = _cupy()
    fn = _module(module, device).get_function(kernel)
    with cp.cuda.Device(device):
        with _stream(cp, torch.cuda.current_stream(device)):  # torch's stream: ordered work
            fn(grid, (THREADS,), args, shared_mem=shared_mem)


def _stream(cp, stream: torch.cuda.Stream):
    if hasattr(cp.cuda.Stream, "from_external") and hasattr(stream, "__cuda_stream__"):
        return cp.cuda.Stream.from_external(stream)  # CuPy >= 14
    return cp.cuda.ExternalStream(stream.cuda_stream)


def _blocks(n: int) -> int:
    return (n + THREADS - 1) // THREADS


def _ptr(t: torch.Tensor):
    return _cupy().from_dlpack(t.contiguous())


def slic_assign(feats, centres, valid, axes, step, windows) -> torch.Tensor:
    """CUDA twin of the torch ``_assign``: labels (B, N) of features (B, N, C) on a grid."""
    b, n, c = feats.shape
    k = centres.shape[1]
    t, ys, xs = axes
    labels = torch.empty(b, n, dtype=torch.long, device=feats.device)
    sizes = map(_cupy().int32, (b, len(t), len(ys), len(xs), c, k))
    valid = valid.to(torch.uint8)  # a byte per flag, whatever DLPack makes of bool
    args = (_ptr(feats.float()), _ptr(centres.float()), _ptr(valid), _ptr(ys.float()),
            _ptr(xs.float()), _ptr(step.float()), _ptr(windows.float()),
            _cupy().from_dlpack(labels), *sizes)  # fmt: skip
    _launch("slic_assign", (_blocks(b * n),), args, feats.device.index)
    return labels


def slic_means(feats, labels, axes, k, previous) -> torch.Tensor:
    """CUDA twin of the torch ``_means``: (B, K, C+3) means; empty labels keep ``previous``.

    Summed in fixed point, as the torch path sums on CUDA (:mod:`simcomp._fixed_point`): the
    same sums in any thread order, and the same as torch's.
    """
    b, n, c = feats.shape
    t, ys, xs = axes
    feats = feats.float()
    coords = torch.stack((t[-1], ys[-1], xs[-1])).amax()  # the largest coordinate summed
    q = fixed_point.scale(torch.maximum(feats.abs().flatten(1).amax(1), coords), n)  # (B,)
    sums = torch.zeros(b, k, c + 4, dtype=torch.int64, device=feats.device)
    sizes = map(_cupy().int32, (b, len(t), len(ys), len(xs), c, k))
    args = (_ptr(feats), _ptr(labels), _ptr(ys.float()), _ptr(xs.float()), _ptr(q),
            _cupy().from_dlpack(sums), *sizes)  # fmt: skip
    grid = (min(_blocks(n), 32), b)  # a few blocks per clip, each striding over its voxels
    _launch("slic_accumulate", grid, args, feats.device.index, shared_mem=8 * k * (c + 4))
    return fixed_point.means(sums[..., :-1], sums[..., -1], q, previous)


def union_find_roots(labels: torch.Tensor) -> torch.Tensor:
    """Exact 6-connected components by union-find: each voxel's root.

    A root is the flat index (across the batch) of its component's first voxel.

    Shape:
        labels (B, T, H, W) integers -> long (B, T, H, W). Batches past 2**31 voxels run in
        chunks of whole clips.
    """
    b, t, h, w = labels.shape
    n = t * h * w
    if n >= 2**31:
        raise ValueError(f"labels: at most 2**31 - 1 voxels per clip, got {n}")
    chunk = max(1, (2**31 - 1) // n)
    if b > chunk:
        parts = [
            union_find_roots(part) + i * chunk * n for i, part in enumerate(labels.split(chunk))
        ]
        return torch.cat(parts)
    narrow = labels.dtype == torch.int32  # read as they are; other types widened to long
    lab = (labels if narrow else labels.long()).contiguous()
    suffix = "_i32" if narrow else ""
    total = b * n
    parent = torch.empty(total, dtype=torch.int32, device=labels.device)
    out = torch.empty(b, t, h, w, dtype=torch.long, device=labels.device)
    i32, dev, grid = _cupy().int32, labels.device.index, (_blocks(total),)
    _launch("cc_init" + suffix, grid, (_ptr(lab), _ptr(parent), i32(total), i32(w)), dev,
            module="connectivity")  # fmt: skip
    _launch("cc_merge" + suffix, grid,
            (_ptr(lab), _ptr(parent), i32(total), i32(t), i32(h), i32(w)), dev,
            module="connectivity")  # fmt: skip
    _launch("cc_resolve", grid, (_ptr(parent), _cupy().from_dlpack(out), i32(total), i32(total)),
            dev, module="connectivity")  # fmt: skip
    return out


def region_sizes(regions: torch.Tensor, k: int) -> torch.Tensor:
    """Voxels per region, (K,) long, of region ids (N,) below K.

    Neighbouring voxels mostly share a region, so each warp groups its threads by region and
    one thread per group adds the group's count: far fewer atomics on a few hot counters than
    ``torch.bincount``.
    """
    ids = regions.contiguous().view(-1)
    counts = torch.zeros(k, dtype=torch.int64, device=regions.device)
    total = ids.numel()
    args = (_ptr(ids), _cupy().from_dlpack(counts), _cupy().int64(total))
    _launch("region_sizes", (_blocks(total),), args, regions.device.index, module="connectivity")
    return counts
