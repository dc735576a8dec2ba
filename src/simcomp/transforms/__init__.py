"""Random transforms of a :class:`simcomp.Clip` (kornia style: draw, then apply)."""

from .base import ClipTransform, Compose
from .composite import CameraTrackedComposite

__all__ = ["CameraTrackedComposite", "ClipTransform", "Compose"]
