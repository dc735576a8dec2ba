"""Where clips come from: built-in procedural data, and readers for the real data sets."""

from .backgrounds import background_clips
from .humans import MOTIONS, person_clips
from .paired import PairedClips, collate_clips
from .surreal import SurrealClips
from .videos import VideoFolder

__all__ = [
    "MOTIONS",
    "PairedClips",
    "SurrealClips",
    "VideoFolder",
    "background_clips",
    "collate_clips",
    "person_clips",
]
