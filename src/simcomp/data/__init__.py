"""Where clips come from: built-in procedural data, and readers for the real data sets."""

from .backgrounds import background_clips
from .humans import MOTIONS, person_clips

__all__ = ["MOTIONS", "background_clips", "person_clips"]
