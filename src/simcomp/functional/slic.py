"""SLIC supervoxels over whole clips (SPEC R6-R8), batched in torch, and the scikit-image baseline.

The problem is scikit-image's ``slic`` on a 3-D multichannel volume with ``convert2lab=False``
(0.26): one global min-max rescale of the features, a seed grid over (t, y, x) from
``regular_grid`` (axes shorter than the step get one seed plane), distance = squared feature
distance / compactness^2 + squared spatial distance / step^2, search windows of +-2 steps,
10 iterations. For speed, k-means runs on the clip average-pooled by ``downsample`` in y and x,
then every full-resolution pixel picks the best of the centres of its cell and the cell's four
neighbours, so boundaries are pixel-accurate. Unlike scikit-image, centres start from the
seed's features (scikit-image starts them at zero), and the torch path does not run the
connectivity pass (see ``backend="skimage"`` for the exact baseline).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import check_tensor


def slic_seeds(
    shape: Sequence[int], n_segments: Sequence[int]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seed grids of scikit-image's ``regular_grid`` for each clip, on the CPU.

    Args:
        shape: (T, H, W).
        n_segments: the requested number of supervoxels per clip (R8: 10-30 for the clip).

    Returns:
        seeds (B, K, 3) float (t, y, x), valid bool (B, K) (K = the largest grid, padded), and
        step (B,) float, the grid's largest step (scikit-image's ``step``).
    """
    grids, steps = [], []
    for n in n_segments:
        if int(n) < 1:
            raise ValueError(f"n_segments: expected >= 1, got {n}")
        shape_a = np.asarray(shape)
        order = np.argsort(shape_a)
        unsort = np.argsort(order)
        dims = shape_a[order].astype(float)
        size = float(np.prod(dims))
        stepsizes = np.full(3, (size / int(n)) ** (1 / 3))
        if (dims < stepsizes).any():
            for d in range(3):
                stepsizes[d] = dims[d]
                rest = float(np.prod(dims[d + 1 :]))
                stepsizes[d + 1 :] = (rest / int(n)) ** (1.0 / (3 - d - 1)) if d < 2 else 1
                if (dims >= stepsizes).all():
                    break
        starts = (stepsizes // 2).astype(int)
        stepsizes = np.round(stepsizes).astype(int)
        axes = [np.arange(starts[i], dims[i], stepsizes[i]) for i in range(3)]
        axes = [axes[i] for i in unsort]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
        grids.append(torch.from_numpy(grid).float())
        steps.append(float(stepsizes.max()))
    k = max(len(g) for g in grids)
    seeds = torch.zeros(len(grids), k, 3)
    valid = torch.zeros(len(grids), k, dtype=torch.bool)
    for i, g in enumerate(grids):
        seeds[i, : len(g)] = g
        valid[i, : len(g)] = True
    return seeds, valid, torch.tensor(steps)


def rescale_features(features: torch.Tensor, compactness: float) -> torch.Tensor:
    """Per clip: global min-max rescale to [0, 1] over all channels, then times 1/compactness."""
    lo = features.flatten(1).amin(1).view(-1, 1, 1, 1, 1)
    hi = features.flatten(1).amax(1).view(-1, 1, 1, 1, 1)
    return (features - lo) / (hi - lo).clamp(min=1e-12) / compactness


def _distances(f, coords, centres, step, valid):
    """(B, N, K) SLIC distance of features f (B, N, C) at coords (N, 3) to centres (B, K, C+3)."""
    c_feat, c_pos = centres[..., :-3], centres[..., -3:]
    d = (
        (f * f).sum(-1, keepdim=True)
        - 2 * f @ c_feat.transpose(1, 2)
        + (c_feat * c_feat).sum(-1)[:, None]
    )
    delta = coords[None, :, None, :] - c_pos[:, None]  # (B, N, K, 3)
    d = d + (delta * delta).sum(-1) / (step * step)[:, None, None]
    window = (delta.abs() <= 2 * step[:, None, None, None]).all(-1) & valid[:, None]
    return torch.where(window, d, torch.full_like(d, float("inf")))


def slic_video(
    features: torch.Tensor,
    seeds: torch.Tensor,
    valid: torch.Tensor,
    step: torch.Tensor,
    compactness: float = 0.01,
    max_iter: int = 10,
    downsample: int = 4,
) -> torch.Tensor:
    """One SLIC labelling per clip across all its frames (R6).

    Args:
        features: (B, T, H, W, C) per-pixel features (R7: colour + camera-compensated x, y).
        seeds: (B, K, 3) seed (t, y, x) from :func:`slic_seeds`; valid bool (B, K).
        valid: bool (B, K), which seeds exist.
        step: (B,) grid step per clip.
        compactness: SLIC's compactness (R8: 0.01).
        max_iter: k-means iterations.
        downsample: pooling factor in y and x for the k-means iterations.

    Returns:
        labels long (B, T, H, W), indices into the K seeds.

    Raises:
        ValueError: bad shapes, compactness <= 0, or NaN features.
    """
    check_tensor("features", features, ("B", "T", "H", "W", None), dtype="float")
    check_tensor("seeds", seeds, (features.shape[0], None, 3), dtype="float")
    if compactness <= 0:
        raise ValueError(f"compactness: expected > 0, got {compactness}")
    if torch.isnan(features).any():  # at the door: NaN would silently poison every distance
        raise ValueError("features: contains NaN values")
    b, t, h, w, c = features.shape
    dev = features.device
    seeds, valid, step = seeds.to(dev), valid.to(dev), step.to(dev, torch.float32)
    f = rescale_features(features.float(), compactness)
    s = max(1, min(downsample, h, w))
    hs, ws = h // s, w // s
    pooled = F.avg_pool2d(
        f[:, :, : hs * s, : ws * s].permute(0, 1, 4, 2, 3).reshape(b * t, c, hs * s, ws * s), s
    )
    pooled = pooled.reshape(b, t, c, hs, ws).permute(0, 1, 3, 4, 2).reshape(b, -1, c)
    zz, yy, xx = torch.meshgrid(
        torch.arange(t, device=dev, dtype=torch.float32),
        (torch.arange(hs, device=dev, dtype=torch.float32) + 0.5) * s - 0.5,
        (torch.arange(ws, device=dev, dtype=torch.float32) + 0.5) * s - 0.5,
        indexing="ij",
    )
    coords = torch.stack((zz, yy, xx), -1).reshape(-1, 3)
    # Start each centre from the features of the seed's cell.
    cell = (seeds[..., 0] * hs + (seeds[..., 1] / s).floor().clamp(max=hs - 1)) * ws + (
        seeds[..., 2] / s
    ).floor().clamp(max=ws - 1)
    centres = torch.cat((pooled.gather(1, cell.long()[..., None].expand(-1, -1, c)), seeds), -1)
    k = seeds.shape[1]
    for _ in range(max_iter):
        labels = _distances(pooled, coords, centres, step, valid).argmin(-1)  # (B, N)
        sums = torch.zeros(b, k, c + 3, device=dev).scatter_add_(
            1,
            labels[..., None].expand(-1, -1, c + 3),
            torch.cat((pooled, coords.expand(b, -1, 3)), -1),
        )
        count = torch.zeros(b, k, device=dev).scatter_add_(
            1, labels, torch.ones_like(labels, dtype=torch.float32)
        )
        centres = torch.where(count[..., None] > 0, sums / count.clamp(min=1)[..., None], centres)
    low = labels.view(b, t, hs, ws)
    # Full resolution: each pixel picks among its cell's label and the four neighbour cells'.
    padded = F.pad(low, (1, 1, 1, 1), mode="replicate")
    cands = torch.stack(
        [padded[:, :, 1:-1, 1:-1], padded[:, :, :-2, 1:-1], padded[:, :, 2:, 1:-1],
         padded[:, :, 1:-1, :-2], padded[:, :, 1:-1, 2:]], -1,
    )  # fmt: skip
    iy = (torch.arange(h, device=dev) // s).clamp(max=hs - 1)
    ix = (torch.arange(w, device=dev) // s).clamp(max=ws - 1)
    cands = cands[:, :, iy][:, :, :, ix].reshape(b, -1, 5)  # (B, N_full, 5)
    zf, yf, xf = torch.meshgrid(
        torch.arange(t, device=dev, dtype=torch.float32),
        torch.arange(h, device=dev, dtype=torch.float32),
        torch.arange(w, device=dev, dtype=torch.float32),
        indexing="ij",
    )
    pos = torch.stack((zf, yf, xf), -1).reshape(1, -1, 3)
    full = f.reshape(b, -1, c)
    best = torch.full(full.shape[:2], float("inf"), device=dev)
    out = cands[..., 0].clone()
    inv_step2 = (1 / (step * step))[:, None]
    for j in range(5):  # candidates, not samples or frames
        lab = cands[..., j]
        m = centres.gather(1, lab[..., None].expand(-1, -1, c + 3))
        d = ((full - m[..., :c]) ** 2).sum(-1) + ((pos - m[..., c:]) ** 2).sum(-1) * inv_step2
        better = d < best
        best = torch.where(better, d, best)
        out = torch.where(better, lab, out)
    return out.view(b, t, h, w)


def slic_skimage(
    features: torch.Tensor, n_segments: Sequence[int], compactness: float = 0.01
) -> torch.Tensor:
    """scikit-image's own ``slic`` clip by clip on the CPU (the paper's pipeline, exactly).

    Shape:
        features (B, T, H, W, C) -> labels long (B, T, H, W) on the features' device.
    """
    from skimage.segmentation import slic

    check_tensor("features", features, (None, None, None, None, None), dtype="float")
    arr = features.detach().cpu().double().numpy()
    labels = [
        slic(a, n_segments=int(n), compactness=compactness, channel_axis=-1, convert2lab=False,
             enforce_connectivity=True, start_label=0)
        for a, n in zip(arr, n_segments, strict=True)
    ]  # fmt: skip
    return torch.from_numpy(np.stack(labels)).long().to(features.device)
