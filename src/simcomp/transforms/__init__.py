"""Random transforms of a :class:`simcomp.Clip` (kornia style: draw, then apply)."""

from .base import ClipTransform, Compose

__all__ = ["ClipTransform", "Compose"]
