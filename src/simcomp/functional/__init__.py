"""Pure batched kernels: no randomness (every choice is an argument), CPU and CUDA alike."""

from .composite import hard_composite, place_person
from .connectivity import connected_components, merge_small_components

__all__ = ["connected_components", "hard_composite", "merge_small_components", "place_person"]
