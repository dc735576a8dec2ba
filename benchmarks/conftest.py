import os
import platform

import pytest
import torch

QUICK = os.environ.get("SIMCOMP_BENCH_QUICK") == "1"
BATCHES = [1] if QUICK else [1, 8, 32]
FRAMES, SIZE = (5, (60, 80)) if QUICK else (31, (240, 320))
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["torch"] = torch.__version__
    machine_info["threads"] = torch.get_num_threads()
    machine_info["cuda"] = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    machine_info["platform"] = platform.platform()


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


def timed(device, fn):
    """Wrap fn so CUDA work is finished inside the timed call."""

    def run():
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return out

    return run


def report(benchmark, clips):
    """Record clips per second in the benchmark's extra info."""
    if benchmark.stats is not None and benchmark.stats.stats.mean:
        benchmark.extra_info["clips_per_s"] = clips / benchmark.stats.stats.mean
