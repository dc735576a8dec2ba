"""Random transforms of a :class:`simcomp.Clip` (kornia style: draw, then apply)."""

from .base import ClipTransform, Compose
from .composite import CameraTrackedComposite
from .crop import MotionInputs, PersonCrop, input_channels
from .occlusion import SuperpixelOcclusion
from .visibility import KeypointVisibility, TotalOcclusion

__all__ = [
    "CameraTrackedComposite",
    "ClipTransform",
    "Compose",
    "KeypointVisibility",
    "MotionInputs",
    "PersonCrop",
    "SuperpixelOcclusion",
    "TotalOcclusion",
    "input_channels",
]
