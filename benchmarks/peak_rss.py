"""Peak resident memory of one ``presets.doersch2019`` call, in a fresh process.

    python -m benchmarks.peak_rss [--batch 8] [--frames 31] [--size 240 320] [--reuse]

The clip is made here and saved; a fresh Python process loads it and runs the preset once,
and its peak RSS (``VmHWM``, Linux) is the figure: torch, the clip, the outputs and every
temporary, nothing from making the clip. ``--reuse`` calls ``simcomp.cpu.reuse_freed_memory()``
first in that process, as the benchmarks do.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from simcomp.data.synthetic import SyntheticClips

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent, while the
# high-water mark of /proc/self/status belongs to this process's own memory.
CHILD = """
import json, sys, torch

def hwm():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024

if {reuse}:
    from simcomp.cpu import reuse_freed_memory
    reuse_freed_memory()
from simcomp.presets import doersch2019
clip = torch.load({path!r}, weights_only=False)
before = hwm()
out = doersch2019(crop_size={crop})(clip, torch.Generator().manual_seed(0))
peak = hwm()
outputs = sum(v.numel() * v.element_size() for v in out.as_dict().values()
              if isinstance(v, torch.Tensor)) / 2**20
print(json.dumps({{"before_call_mb": before, "peak_mb": peak, "clip_out_mb": outputs}}))
"""


def measure(batch: int, frames: int, size: tuple[int, int], reuse: bool, crop: int = 224) -> dict:
    """{"before_call_mb", "peak_mb", "clip_out_mb", "clip_in_mb"} of one call at this size."""
    clip = SyntheticClips(1, batch, frames, size, seed=0)[0]
    clip_in = sum(
        v.numel() * v.element_size() for v in clip.as_dict().values() if isinstance(v, torch.Tensor)
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "clip.pt")
        torch.save(clip, path)
        del clip
        code = CHILD.format(reuse=reuse, path=path, crop=min(crop, *size))
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"the preset call failed in the child process:\n{run.stderr}")
    return {**json.loads(run.stdout.strip().splitlines()[-1]), "clip_in_mb": clip_in / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--frames", type=int, default=31)
    ap.add_argument("--size", type=int, nargs=2, default=(240, 320), metavar=("H", "W"))
    ap.add_argument("--reuse", action="store_true", help="reuse_freed_memory() first")
    args = ap.parse_args()
    r = measure(args.batch, args.frames, tuple(args.size), args.reuse)
    print(
        f"batch {args.batch} of {args.frames} x {args.size[0]} x {args.size[1]}: peak RSS "
        f"{r['peak_mb']:.0f} MB ({r['before_call_mb']:.0f} MB before the call: torch and the "
        f"clip's {r['clip_in_mb']:.0f} MB; the output clip holds {r['clip_out_mb']:.0f} MB)"
    )


if __name__ == "__main__":
    main()
