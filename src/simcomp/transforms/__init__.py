"""Random transforms of a :class:`simcomp.Clip` (kornia style: draw, then apply)."""

from .base import ClipTransform, Compose
from .composite import CameraTrackedComposite
from .occlusion import SuperpixelOcclusion
from .visibility import KeypointVisibility, TotalOcclusion

__all__ = [
    "CameraTrackedComposite",
    "ClipTransform",
    "Compose",
    "KeypointVisibility",
    "SuperpixelOcclusion",
    "TotalOcclusion",
]
