"""Memory traffic and op count of the preset, per transform: what a fused pipeline would save.

    python benchmarks/traffic.py                          # 31 x 240 x 320, batch 1, CPU
    python benchmarks/traffic.py --device cuda --batch 32 --json traffic.json

Every aten op that runs inside a transform is counted (a ``TorchDispatchMode``), with the bytes
of its tensor inputs and outputs: an upper bound of what the op reads and writes. It runs the
GPU code path on any device: the torch estimators (phase correlation, Lucas-Kanade), and on
the CPU SLIC's torch steps with the numba kernels set aside, as on CUDA without CuPy. Work done
outside torch is not seen: CuPy kernels (SLIC's k-means steps and the union-find on CUDA), and
on the CPU connected-components-3d and OpenCV. On CUDA, ``--launches`` also counts the kernel
launches torch's profiler sees. SLIC's line has the small-piece merge's share under it (the GPU
path's torch merge). On the CPU the count runs on one thread: a batch's clips run SLIC one
after another there, so its ops per call are per clip, summed.
``--json PATH`` writes ``{"total": {"ops": N, "bytes_per_clip": X}, "transforms": {...}}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

import simcomp.cpu_kernels as cpu_kernels
import simcomp.functional.connectivity as connectivity
import simcomp.functional.slic as slic_module
from simcomp.data.synthetic import SyntheticClips
from simcomp.presets import doersch2019
from simcomp.transforms import Compose


class Traffic(TorchDispatchMode):
    """Counts aten ops and the bytes of their tensor inputs and outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.ops, self.bytes = 0, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.ops += 1
        outs = out if isinstance(out, tuple | list) else (out,)
        seen = set()  # an in-place op's output, or an out= tensor, is one tensor, counted once
        for x in (*args, *(kwargs or {}).values(), *outs):
            if (
                isinstance(x, torch.Tensor)
                and (key := (x.data_ptr(), x.shape, x.stride())) not in seen
            ):
                seen.add(key)
                self.bytes += x.numel() * x.element_size()
        return out


def measure(batch: int, frames: int, size: tuple[int, int], device: str, crop: int) -> dict:
    """Ops and bytes per clip of each transform of the preset, on the GPU's code path."""
    clip = SyntheticClips(1, batch, frames, size, seed=0)[0].to(device)
    pipe = doersch2019(estimator="phase", flow="lucas-kanade", crop_size=crop)
    cache, kernels = slic_module._CACHE_FLOATS, cpu_kernels._kernels
    slic_module._CACHE_FLOATS = 2**62  # k-means distances in one block, as on CUDA
    cpu_kernels._kernels = lambda: None  # SLIC's torch steps, as on the GPU (numba: CPU only)
    merge_regions, merge = connectivity._merge_regions, {"ops": 0, "bytes": 0}

    def counted(*args, **kwargs):  # the small-piece merge's share of SLIC's count
        ops, nbytes = count.ops, count.bytes
        out = merge_regions(*args, **kwargs)
        merge["ops"] += count.ops - ops
        merge["bytes"] += count.bytes - nbytes
        return out

    connectivity._merge_regions = counted
    threads = torch.get_num_threads()
    if clip.background.device.type == "cpu":  # a batch's clips then run SLIC one after another
        torch.set_num_threads(1)  # on this thread, where the counter sees them (it is per thread)
    result = {}
    try:
        g = torch.Generator().manual_seed(0)
        for step in pipe.transforms:
            merge.update(ops=0, bytes=0)
            with Traffic() as count:
                clip = Compose([step])(clip, g)
            result[step.name] = {"ops": count.ops, "bytes_per_clip": count.bytes / batch}
            if merge["ops"]:
                result[step.name]["merge"] = {"ops": merge["ops"],
                                              "bytes_per_clip": merge["bytes"] / batch}  # fmt: skip
    finally:
        slic_module._CACHE_FLOATS, cpu_kernels._kernels = cache, kernels
        connectivity._merge_regions = merge_regions
        torch.set_num_threads(threads)
    total = {
        "ops": sum(r["ops"] for r in result.values()),
        "bytes_per_clip": sum(r["bytes_per_clip"] for r in result.values()),
    }
    return {"total": total, "transforms": result,
            "setup": {"batch": batch, "clip": [frames, *size], "device": device}}  # fmt: skip


def launches(batch: int, frames: int, size: tuple[int, int], crop: int) -> int:
    """CUDA kernel launches of one preset call, as torch's profiler sees them."""
    from torch.profiler import ProfilerActivity, profile

    clip = SyntheticClips(1, batch, frames, size, seed=0)[0].to("cuda")
    pipe = doersch2019(estimator="phase", flow="lucas-kanade", crop_size=crop)
    pipe(clip, torch.Generator().manual_seed(0))
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        pipe(clip, torch.Generator().manual_seed(0))
        torch.cuda.synchronize()
    return sum(e.count for e in prof.key_averages() if e.device_type.name == "CUDA")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--frames", type=int, default=31)
    ap.add_argument("--size", type=int, nargs=2, default=(240, 320))
    ap.add_argument("--crop-size", type=int, default=224)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--launches", action="store_true", help="also count CUDA kernel launches")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    size = tuple(args.size)
    out = measure(args.batch, args.frames, size, args.device, args.crop_size)
    if args.launches:
        out["total"]["cuda_launches"] = launches(args.batch, args.frames, size, args.crop_size)
    print(f"{'transform':<28}{'ops/call':>10}{'GB/clip':>10}")
    for name, r in [*out["transforms"].items(), ("total", out["total"])]:
        print(f"{name:<28}{r['ops']:>10}{r['bytes_per_clip'] / 1e9:>10.3f}")
        if "merge" in r:
            m = r["merge"]
            print(f"{'  of which the merge':<28}{m['ops']:>10}{m['bytes_per_clip'] / 1e9:>10.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
