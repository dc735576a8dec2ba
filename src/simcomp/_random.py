"""Seeded CPU randomness shared by the transforms and the built-in data.

Every draw comes from an explicit CPU ``torch.Generator``, so one seed replays one clip or one
augmentation on any device.
"""

from __future__ import annotations

import torch

__all__ = ["default_generator", "uniform"]


def default_generator(generator: torch.Generator | None) -> torch.Generator:
    """``generator`` itself, or a fresh CPU generator seeded from torch's global CPU RNG."""
    if generator is None:
        generator = torch.Generator()
        generator.manual_seed(int(torch.randint(0, 2**62, (1,))))  # CPU draw: no device sync
    elif generator.device.type != "cpu":
        raise ValueError(
            f"generator: expected a CPU torch.Generator (params are drawn on the CPU and moved), "
            f"got one on {generator.device}; use torch.Generator().manual_seed(seed)"
        )
    return generator


def uniform(
    generator: torch.Generator, shape: int | tuple[int, ...], low: float = 0.0, high: float = 1.0
) -> torch.Tensor:
    """Draws of the given shape from U[low, high) on the CPU, float32."""
    return low + (high - low) * torch.rand(shape, generator=generator)
