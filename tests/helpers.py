"""Shared helpers for tests: seeded generators, small clips, the torch path on the CPU."""

import contextlib

import torch

from simcomp import Clip
from simcomp.transforms import ClipTransform


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def torch_path(active: bool = True):
    """Within it (when ``active``), simcomp's numba kernels count as absent: torch steps run."""
    import simcomp.cpu_kernels as cpu_kernels

    kept = cpu_kernels._kernels
    if active:
        cpu_kernels._kernels = lambda: None
    try:
        yield
    finally:
        cpu_kernels._kernels = kept


@contextlib.contextmanager
def threads(n: int):
    """Within it, torch (and so simcomp's side-by-side work) uses ``n`` threads."""
    kept = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(kept)


def slic_over_the_schedule(size, compensated: bool, kernels: bool, device="cpu"):
    """SLIC's labels (2, 9, H, W) of two built-in clips over the k-means schedule.

    The first iteration on the pixels, eight on every second pixel in y and x, the last on
    all, no connectivity; from R7's features (``slic_video``) or ``slic_compensated``: what the
    kernels and the torch path are compared on.
    """
    from simcomp.data.synthetic import background_clips
    from simcomp.functional.occlusion import slic_features
    from simcomp.functional.slic import slic_compensated, slic_seeds, slic_video

    clip = background_clips(2, 9, size, generator=gen(3), device=device, max_pan=5.0)
    k = torch.tensor([5e-4, 2e-3], device=device)
    seeds, valid, step = slic_seeds((9, *size), [12, 20])  # padded seeds in clip 0
    options = {"downsample": 2, "kernels": kernels, "enforce_connectivity": False}
    if compensated:
        return slic_compensated(clip.background, clip.camera_shift, k, seeds, valid, step,
                                **options)  # fmt: skip
    feats = slic_features(clip.background, clip.camera_shift, k)
    return slic_video(feats, seeds, valid, step, **options)


def random_clip(b=2, t=3, h=8, w=10, j=24, device="cpu", seed=0) -> Clip:
    g = gen(seed)
    return Clip(
        background=torch.rand(b, t, 3, h, w, generator=g),
        person_rgb=torch.rand(b, t, 3, h, w, generator=g),
        person_mask=torch.rand(b, t, h, w, generator=g) > 0.5,
        joints_2d=torch.rand(b, t, j, 2, generator=g) * torch.tensor([w, h]),
    ).to(device)


def assert_clips_equal(a: Clip, b: Clip) -> None:
    na, nb = [n for n, _ in a.items()], [n for n, _ in b.items()]
    assert na == nb
    for n in na:
        assert torch.equal(getattr(a, n), getattr(b, n)), n


class AddNoise(ClipTransform):
    """Toy: background += U[0, scale) noise per pixel."""

    requires = ("background",)

    def __init__(self, scale=0.1, **kw):
        super().__init__(**kw)
        self.scale = scale

    def generate_params(self, clip, generator):
        return {"noise": torch.rand(clip.background.shape, generator=generator) * self.scale}

    def apply_transform(self, clip, params):
        return clip.replace(background=clip.background + params["noise"])


class Brightness(ClipTransform):
    """Toy: background *= factor, one factor per clip."""

    requires = ("background",)

    def generate_params(self, clip, generator):
        return {"factor": 0.5 + torch.rand(clip.batch_size, generator=generator)}

    def apply_transform(self, clip, params):
        return clip.replace(background=clip.background * params["factor"].view(-1, 1, 1, 1, 1))
