"""simcomp.cpu: the allocator setting for CPU runs (process-wide, so tried in a subprocess)."""

import platform
import subprocess
import sys

import pytest

CODE = """
import torch, simcomp.cpu
print(simcomp.cpu.reuse_freed_memory())
x = torch.ones(2**25)  # 128 MiB: mmapped by default, from the heap once tuned
del x
print(float(torch.ones(2**25).sum()))
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="tunes glibc's malloc only",
)
def test_reuse_freed_memory_takes_on_glibc():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", str(float(2**25))]
