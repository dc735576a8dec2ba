"""Host-to-device helpers that never make the host wait for the GPU.

A plain ``tensor.to("cuda")`` or ``x[..., [1, 2]]`` copies from pageable host memory and then
synchronises the stream; ``non_blocking=True`` stages the (small, fresh, never mutated) host
data and returns at once, so the CPU keeps queueing work while the GPU runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def upload(values, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``values`` (a CPU tensor or a nested list) on ``device``, copied without a stream sync."""
    t = values if isinstance(values, torch.Tensor) else torch.tensor(values, dtype=dtype)
    return t.to(device, dtype or t.dtype, non_blocking=True)


def take(x: torch.Tensor, indices: Sequence[int], dim: int) -> torch.Tensor:
    """``x`` at the Python ``indices`` along ``dim`` (what ``x[..., list(indices)]`` gives)."""
    return x.index_select(dim, upload(list(indices), x.device, torch.long))
