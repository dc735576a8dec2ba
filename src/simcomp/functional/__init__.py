"""Pure batched kernels: no randomness (every choice is an argument), CPU and CUDA alike."""

from .composite import hard_composite, place_person

__all__ = ["hard_composite", "place_person"]
