"""How much of ``slic_video``'s time its exact connectivity passes take, on one device.

    python benchmarks/connectivity_share.py --device cpu --batch 1
    python benchmarks/connectivity_share.py --device cuda --batch 32
    python benchmarks/connectivity_share.py --device cpu --batch 1 --downsample 1
    python benchmarks/connectivity_share.py --device cpu --batch 8 --threads 1
    python benchmarks/connectivity_share.py --device cpu --batch 6 --photos real

Times slic_video on built-in background clips (R7 features, n_segments 20; ``--photos real``:
on ``slic_quality``'s pans across photos the built-in set does not use, clip i across the
i-th of ``--names``) and, inside it, every call of ``connected_and_merged`` (exact components,
then the small-piece merge, on the pixels). On CUDA each timed section is bracketed by
synchronisations, so the sum is an upper bound of what the passes cost in the stream; on the
CPU a batch's clips run side by side on threads, so there the timers add thread time and the
share is of the clips' own SLIC time (``--threads 1``: one clip after another, each pass's own
cost with no other clip beside it). Prints one line per measure; ``--json`` writes them.
``--parts`` also times the steps inside the passes (the components, the merge: the torch
path's, on CUDA); ``--profile N`` prints torch's profiler table of one call, its N costliest
kernels, and the passes' share of the profiled device time (on CUDA: what they cost in the
stream, with no synchronisation around them).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

import simcomp.functional.connectivity as connectivity
import simcomp.functional.slic as slic_module
from simcomp.cpu import reuse_freed_memory
from simcomp.data.synthetic import background_clips
from simcomp.functional.occlusion import slic_features
from simcomp.functional.slic import slic_seeds, slic_video

try:
    from benchmarks.slic_quality import REAL_PHOTOS, real_photo_clip
except ImportError:  # run as a script: benchmarks/ itself is on the path
    from slic_quality import REAL_PHOTOS, real_photo_clip

# What slic_video calls for the passes (components, then the merge), timed as one measure.
PASSES = "_connected_and_merged"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--frames", type=int, default=31)
    ap.add_argument("--size", type=int, nargs=2, default=(240, 320))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--downsample", type=int, default=None, help="slic_video's (1: every pixel)")
    ap.add_argument("--threads", type=int, default=None, help="torch's threads (1: clip by clip)")
    ap.add_argument("--photos", choices=("builtin", "real"), default="builtin")
    ap.add_argument("--names", default=",".join(REAL_PHOTOS), help="--photos real: the photos")
    ap.add_argument("--json", default=None)
    ap.add_argument("--parts", action="store_true", help="time the steps inside the passes too")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="profiler rows to print")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cpu":
        reuse_freed_memory()
    b, t, size = args.batch, args.frames, tuple(args.size)
    if args.photos == "real":
        import skimage.data

        names = args.names.split(",")
        unknown = [n for n in names if not callable(getattr(skimage.data, n, None))]
        if unknown:
            ap.error(f"--names: expected scikit-image photos (skimage.data), got {unknown}")
        pans = [real_photo_clip(names[i % len(names)], i, t, size, 6.0) for i in range(b)]
        background, shift = (torch.cat(x).to(device) for x in zip(*pans, strict=True))
    else:
        clip = background_clips(b, t, size, torch.Generator().manual_seed(0), device=device)
        background, shift = clip.background, clip.camera_shift
    feats = slic_features(background, shift, torch.full((b,), 5e-4, device=device))
    seeds, valid, step = slic_seeds((t, *size), [20] * b)
    steps = ("_regions", "_merge_regions")  # the torch path's (CUDA, or CPU without numba)
    spent = {"connected_and_merged": 0.0, **({k: 0.0 for k in steps} if args.parts else {})}

    def timed(name, fn):
        def wrapper(*a, **k):
            _sync(device)
            start = time.perf_counter()
            out = fn(*a, **k)
            _sync(device)
            spent[name] += time.perf_counter() - start
            return out

        return wrapper

    def run():
        _sync(device)
        start = time.perf_counter()
        for _ in range(args.repeats):
            slic_video(feats, seeds, valid, step, downsample=args.downsample)
        _sync(device)
        return (time.perf_counter() - start) / args.repeats

    run()  # warm-up: kernel compiles, allocator
    untimed = run()
    # (module, attribute, the measure it adds to)
    patched = [(slic_module, PASSES, "connected_and_merged")]
    patched += [(connectivity, name, name) for name in spent if name != "connected_and_merged"]
    # On the CPU a batch's clips run side by side on threads, so the timers add thread time:
    # the share is then of the clips' SLIC time (each clip's _slic call), not of the wall time.
    side_by_side = device.type == "cpu" and b > 1
    if side_by_side:
        spent["clip_slic"] = 0.0
        single = slic_module._slic

        def per_clip(source, *a, **k):
            if source.shape[0] > 1:  # the batch's own call: it hands each clip to _slic
                return single(source, *a, **k)
            return timed("clip_slic", single)(source, *a, **k)

        patched.append((slic_module, "_slic", None))
    originals = [getattr(module, attr) for module, attr, _ in patched]
    for (module, attr, name), fn in zip(patched, originals, strict=True):
        setattr(module, attr, timed(name, fn) if name else per_clip)
    try:
        with_timers = run()
    finally:
        for (module, attr, _), fn in zip(patched, originals, strict=True):
            setattr(module, attr, fn)
    parts = {k: v / args.repeats for k, v in spent.items()}
    share = parts["connected_and_merged"] / (parts["clip_slic"] if side_by_side else with_timers)
    if args.profile:
        profiled = _profile(
            lambda: slic_video(feats, seeds, valid, step, downsample=args.downsample),
            device,
            args.profile,
        )
    result = {
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "batch": b,
        "photos": args.photos if args.photos == "builtin" else args.names,
        "clip": [t, *size],
        "downsample": args.downsample,
        "slic_video_s": untimed,
        "clips_per_s": b / untimed,
        **{f"{k}_s": v for k, v in parts.items()},
        "connectivity_share": share,
    }
    if args.profile:  # the share of the profiled kernel (CUDA) or operator (CPU) time
        result["connectivity_share_profiled"] = profiled
    for k, v in result.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


def _profile(fn, device: torch.device, rows: int) -> float:
    """Print the profiler's table of one ``fn()``; return the passes' share of the kernel time.

    The share counts the device time of the kernels launched inside ``connected_and_merged``
    against all of ``fn``'s: what the passes cost in the stream, without the sync brackets.
    """
    from torch.profiler import ProfilerActivity, profile, record_function

    original = getattr(slic_module, PASSES)

    def ranged(*a, **k):
        with record_function("connected_and_merged"):
            return original(*a, **k)

    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    setattr(slic_module, PASSES, ranged)
    try:
        with profile(activities=activities) as prof:
            fn()
            _sync(device)
    finally:
        setattr(slic_module, PASSES, original)
    events = prof.key_averages()
    key = "self_device_time_total" if cuda else "self_cpu_time_total"
    print(events.table(sort_by=key, row_limit=rows, max_name_column_width=60))
    total = sum(getattr(e, key) for e in events)
    inside = next(e for e in events if e.key == "connected_and_merged")
    return (inside.device_time_total if cuda else inside.cpu_time_total) / total


if __name__ == "__main__":
    main()
