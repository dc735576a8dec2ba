"""Shared set-up of the throughput benchmarks: sizes, devices, and the clips/s summary table.

Run ``pytest benchmarks/ --benchmark-only``; ``SIMCOMP_BENCH_QUICK=1`` shrinks everything to a
smoke run (what CI does, so the benchmarks cannot rot).
"""

import os
import platform
import threading
from collections import defaultdict

import pytest
import torch

from simcomp.cpu import reuse_freed_memory

# The whole benchmark process, simcomp and the references alike, keeps freed memory in the
# heap (see simcomp.cpu): otherwise page faults on fresh multi-GB temporaries dominate the CPU.
reuse_freed_memory()
QUICK = os.environ.get("SIMCOMP_BENCH_QUICK") == "1"
BATCHES = [1] if QUICK else [1, 8, 32]
FRAMES, SIZE = (5, (60, 80)) if QUICK else (31, (240, 320))
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
RESULTS: dict[str, dict] = defaultdict(dict)  # name -> {(device, batch): (clips/s, peak MB)}
SHARES: dict[str, tuple[float, float]] = {}  # device -> (augmentation s, model step s)
MEMORY: dict[str, dict] = {}  # setting -> benchmarks/peak_rss.py's figures
# Which CPU reference each benchmark is compared with: measured clip by clip on the clips of
# the batch of the same size (batch 8's clips are not batch 1's), at batch 1 where it is not.
BASELINES = {
    "doersch2019": "reference",
    "slic_video": "slic_skimage_reference",
    "superpixel_occlusion": "slic_skimage_reference",
    "camera_tracked_composite": "camera_tracked_composite_opencv_reference",
}


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["torch"] = torch.__version__
    machine_info["threads"] = torch.get_num_threads()
    machine_info["cuda"] = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    machine_info["platform"] = platform.platform()


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


class PeakRSS:
    """The process's largest resident set size while the block runs, sampled every 2 ms."""

    peak_mb = 0.0

    def __enter__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        PeakRSS.peak_mb = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _poll(self):
        while not self._stop.wait(0.002):
            PeakRSS.peak_mb = max(PeakRSS.peak_mb, self._rss())

    @staticmethod
    def _rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(device, fn):
    """Wrap fn so CUDA work is finished inside the timed call and peak memory is measured."""

    def run():
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        with PeakRSS():
            out = fn()
            if device.type == "cuda":
                torch.cuda.synchronize()
        return out

    return run


def report(benchmark, clips, name=None, device=None, batch=None) -> float | None:
    """Record clips per second (and peak memory) for the benchmark and the summary table.

    Returns the mean seconds per call, or None when nothing was timed (--benchmark-disable).
    """
    stats = getattr(benchmark, "stats", None)
    if stats is None or not stats.stats.mean:
        return None
    rate = clips / stats.stats.mean
    benchmark.extra_info["clips_per_s"] = rate
    if device is not None and device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20  # CUDA: max allocated
    else:
        peak = PeakRSS.peak_mb  # CPU: the process's peak RSS during the last timed call
    benchmark.extra_info["peak_mb"] = peak
    if name is not None:
        RESULTS[name][(str(device) if device is not None else "cpu", batch)] = (rate, peak)
    return stats.stats.mean


def pytest_terminal_summary(terminalreporter):
    if not RESULTS and not MEMORY:
        return
    tr = terminalreporter
    tr.write_sep("=", "simcomp throughput (clips/s; ratio = simcomp / its CPU reference, per clip)")
    if RESULTS:
        tr.write_line(
            f"{'benchmark':<44}{'device':<8}{'batch':>6}{'clips/s':>10}{'ratio':>9}{'peak MB':>9}"
        )
    for name, rows in sorted(RESULTS.items()):
        for (dev, batch), (rate, peak) in sorted(
            rows.items(), key=lambda r: (r[0][0], r[0][1] or 0)
        ):
            # the reference on the same clips (measured at this batch size), else on clip 0
            refs = RESULTS.get(BASELINES.get(name, ""), {})
            ref = refs.get(("cpu", batch), refs.get(("cpu", 1), (None,)))[0]
            ratio = f"{rate / ref:8.1f}x" if ref else ""
            tr.write_line(f"{name:<44}{dev:<8}{batch or 1:>6}{rate:>10.2f}{ratio:>9}{peak:>9.0f}")
    for setting, r in MEMORY.items():
        tr.write_line(
            f"Peak RSS of one doersch2019 call in a fresh process ({setting}): "
            f"{r['peak_mb']:.0f} MB ({r['before_call_mb']:.0f} MB before it: torch and the "
            f"{r['clip_in_mb']:.0f} MB clip; the output clip holds {r['clip_out_mb']:.0f} MB)"
        )
    for dev, (aug, step) in sorted(SHARES.items()):
        tr.write_line(
            f"Motion HMR step on {dev}: augmentation {aug * 1e3:.1f} ms + model {step * 1e3:.1f} ms"
            f" -> augmentation is {100 * aug / (aug + step):.1f}% of the step"
        )
