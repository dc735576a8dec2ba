"""Background clips from real photographs that ship with scikit-image, with a known camera path.

The stand-in for Kinetics. A clip views a large canvas (one photo) through a moving window:
a smooth random pan (up to ``max_pan`` px/frame), a small zoom and shake. Optional moving
objects (elliptical patches of other photos with their own motion, up to ~20% of the frame)
give the scene motion that is not camera motion. Each clip returns its true camera path as
``camera_shift``: a static scene point at pixel p in frame T//2 is at p + camera_shift[t] in
frame t (R2's convention).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from .._checks import check_range
from .._random import default_generator, uniform
from ..clip import Clip

PHOTOS = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
    "retina", "cat", "coins", "camera", "brick", "grass", "gravel",
)  # fmt: skip
CANVAS = (600, 800)  # every photo is resized to this (H, W) canvas


@functools.lru_cache(maxsize=4)
def photo_canvases(device: str = "cpu") -> torch.Tensor:
    """All photos as one float tensor (P, 3, 600, 800) in [0, 1], loaded once per device."""
    import skimage.data

    out = []
    for name in PHOTOS:
        img = torch.from_numpy(getattr(skimage.data, name)()).float() / 255
        img = img[..., None].expand(*img.shape, 3) if img.ndim == 2 else img[..., :3]
        img = img.permute(2, 0, 1)[None]
        out.append(F.interpolate(img, size=CANVAS, mode="bilinear", antialias=True)[0])
    return torch.stack(out).clamp(0, 1).to(device)


def _sample(canvas: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of canvases (N, 3, Hc, Wc) at pixel coords xy (N, T, H, W, 2)."""
    n, t, h, w, _ = xy.shape
    hc, wc = canvas.shape[-2:]
    grid = torch.stack((xy[..., 0] * 2 / wc - 1, xy[..., 1] * 2 / hc - 1), -1)
    out = F.grid_sample(
        canvas, grid.reshape(n, t * h, w, 2), mode="bilinear", padding_mode="reflection",
        align_corners=False,
    )  # fmt: skip
    return out.reshape(n, 3, t, h, w).transpose(1, 2)


def background_clips(
    batch_size: int,
    num_frames: int = 31,
    size: tuple[int, int] = (240, 320),
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    max_pan: float = 8.0,
    moving_objects: int = 2,
    max_object_area: float = 0.2,
    static: bool = False,
    photos: tuple[int, ...] | None = None,
) -> Clip:
    """Generate a batch of background clips with their true camera motion.

    Args:
        batch_size: B.
        num_frames: T.
        size: (H, W), at most the canvas (600, 800); a pan that runs off the canvas (long
            clips) continues into its mirror image.
        generator: CPU generator (None: from torch's global seed).
        device: where the clip is made.
        max_pan: largest pan speed, px per frame, per axis.
        moving_objects: at most this many independently moving objects per clip (0: none).
        max_object_area: their total area as a fraction of the frame, at most.
        static: one frame repeated and camera_shift 0 (R4's static background).
        photos: indices into ``PHOTOS`` to draw from (default: all), e.g. to keep evaluation
            photos apart from training ones.

    Returns:
        A Clip with background (B, T, 3, H, W) and camera_shift (B, T, 2).
    """
    g = default_generator(generator)
    b, t, (h, w) = batch_size, num_frames, size
    check_range("max_pan", max_pan, 0.0, 12.0)
    check_range("max_object_area", max_object_area, 0.0, 0.5)
    if h > CANVAS[0] or w > CANVAS[1]:
        raise ValueError(f"size: expected a frame that fits the {CANVAS} canvas, got {size}")
    pool = torch.tensor(photos if photos is not None else range(len(PHOTOS)))

    photo = pool[torch.randint(len(pool), (b,), generator=g)]
    # A smooth pan: velocity = base + slow sinusoid, each axis within +-max_pan.
    base = uniform(g, (b, 2), -1, 1) * max_pan * 0.8
    wobble = uniform(g, (b, 2), 0, 0.2) * max_pan
    freq, ph = uniform(g, (b, 2), 0.05, 0.3), uniform(g, (b, 2), 0, 2 * math.pi)
    frames = torch.arange(t, dtype=torch.float32)
    vel = base[:, None] + wobble[:, None] * torch.sin(freq[:, None] * frames[:, None] + ph[:, None])
    vel = vel.clamp(-max_pan, max_pan)
    shake = uniform(g, (b, t, 2), -0.25, 0.25)
    window = torch.cumsum(vel, 1) + shake  # top-left corner of the window, canvas px (B, T, 2)
    window = window - window[:, t // 2 : t // 2 + 1]
    zoom = 1 + uniform(g, b, -0.01, 0.01)[:, None] * (frames - t // 2) / max(t, 1)  # (B, T)
    span = window.amax(1) - window.amin(1)
    room = torch.tensor([CANVAS[1] - w, CANVAS[0] - h]) - span
    origin = -window.amin(1) + uniform(g, (b, 2)) * room.clamp(min=0)  # keep inside when it fits
    if static:
        window, zoom = window[:, t // 2 : t // 2 + 1].expand(b, t, 2), torch.ones(b, t)
    n_obj = moving_objects
    k = max(n_obj, 1)  # draws are made even with no objects, so one seed means one path
    obj_photo = pool[torch.randint(len(pool), (b, k), generator=g)]
    obj_count = torch.randint(n_obj + 1, (b,), generator=g)
    obj_area = uniform(g, (b, k), 0.3, 1.0) * max_object_area / k * h * w
    obj_aspect = uniform(g, (b, k), 0.5, 2.0)
    obj_pos = uniform(g, (b, k, 2)) * torch.tensor([w, h])
    obj_vel = uniform(g, (b, k, 2), -1, 1) * max_pan * 1.2
    obj_tex = uniform(g, (b, k, 2)) * torch.tensor([CANVAS[1] - w, CANVAS[0] - h])

    dev = torch.device(device)
    canvases = photo_canvases(str(dev))
    ys, xs = torch.meshgrid(
        torch.arange(h, device=dev, dtype=torch.float32) + 0.5,
        torch.arange(w, device=dev, dtype=torch.float32) + 0.5,
        indexing="ij",
    )
    pix = torch.stack((xs, ys), -1)  # (H, W, 2), pixel centres
    mid = torch.tensor([w / 2, h / 2], device=dev)
    corner = (origin[:, None] + window).to(dev)  # (B, T, 2)
    z = zoom.to(dev)[:, :, None, None, None]
    xy = corner[:, :, None, None] + mid + (pix - mid) * z  # (B, T, H, W, 2) canvas coords
    bg = _sample(canvases[photo.to(dev)], xy)
    obj_canvas = canvases[obj_photo.to(dev)]  # (B, K, 3, Hc, Wc)
    for i in range(n_obj):  # objects, later ones in front; not a loop over samples or frames
        centre = (obj_pos[:, i, None] + obj_vel[:, i, None] * (frames[:, None] - t // 2)).to(dev)
        ax = (obj_area[:, i] / math.pi * obj_aspect[:, i]).sqrt().to(dev).view(b, 1, 1, 1)
        ay = (obj_area[:, i] / math.pi / obj_aspect[:, i]).sqrt().to(dev).view(b, 1, 1, 1)
        rel = pix - centre[:, :, None, None]  # (B, T, H, W, 2)
        inside = (rel[..., 0] / ax) ** 2 + (rel[..., 1] / ay) ** 2 <= 1
        inside &= (i < obj_count.to(dev)).view(b, 1, 1, 1)
        tex = _sample(obj_canvas[:, i], obj_tex[:, i].to(dev).view(b, 1, 1, 1, 2) + mid + rel)
        bg = torch.where(inside[:, :, None], tex, bg)
    shift = -(window - window[:, t // 2 : t // 2 + 1]) / zoom[..., None]
    return Clip(background=bg.contiguous(), camera_shift=shift.to(dev))
