"""Sums in fixed point: one result in any order of addition (SLIC's centres on CUDA).

Used by the torch path and the CuPy kernels alike, so both give the same sums.
"""

from __future__ import annotations

import torch


def scale(extreme: torch.Tensor, n: int) -> torch.Tensor:
    """Powers of two, shaped as ``extreme``: a sum of ``n`` values up to it, scaled, fits int64.

    Float values times a power of two are exact, so rounding them to integers and adding those
    loses only what lies below the scale's last bit, and integer additions give one result in
    any order: how CUDA sums SLIC's centres deterministically. One scale per clip, so a clip's
    sums do not depend on the rest of the batch. No host sync.
    """
    room = torch.log2(2.0**62 / (n * extreme.float().clamp(min=1e-30)))
    return torch.exp2(room.floor().clamp(-100, 100))


def means(sums, count, q, previous) -> torch.Tensor:
    """Means (B, K, D) from int64 fixed-point ``sums`` (B, K, D), counts (B, K), scales (B,)."""
    count = count[..., None]
    mean = (sums.double() / q.double().view(-1, 1, 1)) / count.clamp(min=1)
    return torch.where(count > 0, mean.float(), previous)
