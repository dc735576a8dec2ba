"""simcomp: GPU-batched sim2real clip augmentation for 3D human pose from motion.

Implements the data pipeline of Doersch & Zisserman 2019 as batched transforms of a
:class:`Clip` that run on CPU and CUDA with the same code. Docstrings cite the paper's rules as
R1-R33: docs/rules.md states each, with its paper section, its code and its tests.
"""

from . import joints, presets, transforms
from .clip import Clip

__version__ = "0.1.0"

__all__ = ["Clip", "joints", "presets", "transforms", "__version__"]
