"""simcomp: GPU-batched sim2real clip augmentation for 3D human pose from motion.

Implements the data pipeline of Doersch & Zisserman 2019 as batched transforms of a
:class:`Clip` that run on CPU and CUDA with the same code.
"""

from . import joints, presets, transforms
from .clip import Clip

__version__ = "0.1.0"

__all__ = ["Clip", "joints", "presets", "transforms", "__version__"]
