"""Where the preset's time goes: per-transform wall times, torch's profiler, and host syncs.

    python benchmarks/profile_preset.py --device cuda --batch 32

On CUDA it also runs the preset once under torch's sync debug mode and prints each place that
made the host wait for the GPU (there should be none; tests/test_cuda.py asserts it).
"""

import argparse
import time
import traceback
import warnings

import torch
from torch.profiler import ProfilerActivity, profile

from simcomp.cpu import reuse_freed_memory
from simcomp.data.synthetic import SyntheticClips
from simcomp.presets import doersch2019


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--rows", type=int, default=25)
    ap.add_argument("--frames", type=int, default=31)
    ap.add_argument("--size", type=int, nargs=2, default=(240, 320), metavar=("H", "W"))
    args = ap.parse_args()
    dev = torch.device(args.device)
    if dev.type == "cpu":
        reuse_freed_memory()
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    clip = SyntheticClips(1, args.batch, args.frames, tuple(args.size), seed=0)[0].to(dev)
    pipe = doersch2019(crop_size=min(224, *args.size))
    pipe(clip, torch.Generator().manual_seed(0))  # warm-up: kernel compiles, FFT plans
    g, c = torch.Generator().manual_seed(1), clip
    for t in pipe.transforms:
        sync()
        start = time.perf_counter()
        c = t(c, g)
        sync()
        print(f"{t.name:<28}{(time.perf_counter() - start) * 1e3:9.1f} ms")
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with profile(activities=acts) as prof:
        pipe(clip, torch.Generator().manual_seed(2))
        sync()
    key = "self_cuda_time_total" if dev.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=key, row_limit=args.rows, max_name_column_width=60))
    if dev.type == "cuda":
        _report_syncs(lambda: pipe(clip, torch.Generator().manual_seed(3)))


def _report_syncs(run) -> None:
    seen = set()

    def show(message, *args, **kwargs):
        if "called a synchronizing" not in str(message):  # not the "prototype" notice
            return
        stack = tuple(f"{f.filename.split('/src/')[-1]}:{f.lineno}"
                      for f in traceback.extract_stack() if "simcomp" in f.filename)  # fmt: skip
        if stack not in seen:
            seen.add(stack)
            print("host sync at", " <- ".join(reversed(stack)))

    old = warnings.showwarning
    warnings.showwarning, torch_mode = show, torch.cuda.get_sync_debug_mode()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            run()
        finally:
            torch.cuda.set_sync_debug_mode(torch_mode)
            warnings.showwarning = old
    print(f"{len(seen)} places made the host wait for the GPU")


if __name__ == "__main__":
    main()
