"""Pose metrics (R32-R33), batched in torch over any leading dimensions, on any device.

The formulas are those of HMR, HMMR, SPIN, VIBE and VideoPose3D, as in their public code.
Every function takes joints in metres and returns metres; pass ``scale=1000`` for millimetres.
"""

from __future__ import annotations

import torch

from ._checks import check_tensor

LSP14_HIPS = (2, 3)  # right hip, left hip in the LSP 14 order


def _pair(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor, dims: int) -> None:
    check_tensor(name_a, a, (None,) * a.ndim, dtype="float")
    if a.shape != b.shape or a.ndim < 2 or a.shape[-1] != dims:
        raise ValueError(
            f"{name_a}, {name_b}: expected equal shapes (..., J, {dims}), "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def procrustes_align(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """The similarity transform of ``pred`` that best fits ``gt`` (Umeyama), applied to ``pred``.

    Per pose: centre both, K = X1 X2^T, U S V^T = svd(K), R = V diag(1, 1, sign det(U V^T)) U^T
    (no reflections: a mirrored prediction is not rescued), s = trace(R K) / |X1|^2,
    t = mu2 - s R mu1. A degenerate prediction (all joints equal) gets s = 0, so every joint
    lands on the ground truth's centroid: finite, and as bad as it deserves.

    Shape:
        pred, gt (..., J, 3) -> (..., J, 3).
    """
    _pair("pred", pred, "gt", gt, 3)
    mu1, mu2 = pred.mean(-2, keepdim=True), gt.mean(-2, keepdim=True)
    x1, x2 = (pred - mu1).transpose(-1, -2), (gt - mu2).transpose(-1, -2)  # (..., 3, J)
    k = x1 @ x2.transpose(-1, -2)
    u, _, vh = torch.linalg.svd(k)
    v = vh.transpose(-1, -2)
    z = torch.ones_like(k[..., 0])
    z[..., 2] = torch.sign(torch.linalg.det(u @ vh))
    z[..., 2] = torch.where(z[..., 2] == 0, 1.0, z[..., 2])
    r = v @ torch.diag_embed(z) @ u.transpose(-1, -2)
    var = (x1 * x1).sum((-2, -1))
    trace = torch.diagonal(r @ k, dim1=-2, dim2=-1).sum(-1)
    s = torch.where(var > 1e-12, trace / var.clamp(min=1e-12), torch.zeros_like(var))
    aligned = s[..., None, None] * (r @ x1)
    return aligned.transpose(-1, -2) + mu2


def _joint_mean(values: torch.Tensor, visible: torch.Tensor | None) -> torch.Tensor:
    """Mean over the last (joint) dimension, of the visible joints only when given."""
    if visible is None:
        return values.mean(-1)
    w = visible.to(values.dtype)
    return (values * w).sum(-1) / w.sum(-1).clamp(min=1)


def pa_mpjpe(
    pred: torch.Tensor, gt: torch.Tensor, visible: torch.Tensor | None = None, scale: float = 1.0
) -> torch.Tensor:
    """R32: mean joint distance after Procrustes alignment, per pose.

    Args:
        pred: (..., J, 3) predicted joints.
        gt: (..., J, 3) ground truth.
        visible: optional bool (..., J); only those joints are averaged (alignment uses all).
        scale: multiply the result (1000: metres to millimetres).

    Returns:
        (...,) one error per pose.

    Example:
        >>> gt = torch.randn(5, 14, 3)
        >>> float(pa_mpjpe(2 * gt + 1, gt).max()) < 1e-5
        True
    """
    return _joint_mean((procrustes_align(pred, gt) - gt).norm(dim=-1), visible) * scale


def mpjpe(
    pred: torch.Tensor,
    gt: torch.Tensor,
    pelvis: tuple[int, ...] = LSP14_HIPS,
    visible: torch.Tensor | None = None,
    scale: float = 1.0,
) -> torch.Tensor:
    """MPJPE after subtracting the pelvis (the mean of the ``pelvis`` joints) from both, per pose.

    Shape:
        pred, gt (..., J, 3) -> (...,).
    """
    _pair("pred", pred, "gt", gt, 3)
    idx = list(pelvis)
    p = pred - pred[..., idx, :].mean(-2, keepdim=True)
    g = gt - gt[..., idx, :].mean(-2, keepdim=True)
    return _joint_mean((p - g).norm(dim=-1), visible) * scale


def pck(
    pred: torch.Tensor, gt: torch.Tensor, threshold: float, visible: torch.Tensor | None = None
) -> torch.Tensor:
    """Fraction of (visible) keypoints within ``threshold`` of the ground truth, per pose.

    Shape:
        pred, gt (..., J, D) -> (...,) in [0, 1].
    """
    _pair("pred", pred, "gt", gt, pred.shape[-1])
    return _joint_mean(((pred - gt).norm(dim=-1) <= threshold).to(pred.dtype), visible)


def accel_error(
    pred: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor | None = None, scale: float = 1.0
) -> torch.Tensor:
    """Acceleration error (Kanazawa et al. 2019), per frame triplet.

    The mean over joints of ``|a_pred - a_gt|`` with a_t = X[t-1] - 2 X[t] + X[t+1].

    Args:
        pred: (..., T, J, 3).
        gt: (..., T, J, 3).
        valid: optional bool (..., T); triplets touching an invalid frame are NaN (HMMR drops
            them: take ``nanmean``).
        scale: multiply the result.

    Returns:
        (..., T-2).
    """
    _pair("pred", pred, "gt", gt, 3)
    if pred.shape[-3] < 3:
        raise ValueError(
            f"pred: expected at least 3 frames (..., T, J, 3), got {tuple(pred.shape)}"
        )

    def acc(x):
        return x[..., :-2, :, :] - 2 * x[..., 1:-1, :, :] + x[..., 2:, :, :]

    err = (acc(pred) - acc(gt)).norm(dim=-1).mean(-1) * scale
    if valid is not None:
        ok = valid[..., :-2] & valid[..., 1:-1] & valid[..., 2:]
        err = torch.where(ok, err, float("nan"))
    return err


def velocity_error(pred: torch.Tensor, gt: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """MPJVE (Pavllo et al. 2019): mean over joints of ``|diff(pred) - diff(gt)|`` over time.

    Shape:
        pred, gt (..., T, J, 3) -> (..., T-1).
    """
    _pair("pred", pred, "gt", gt, 3)
    return (pred.diff(dim=-3) - gt.diff(dim=-3)).norm(dim=-1).mean(-1) * scale


# --- supervoxel quality (R6-R8): what slic_video is measured by against scikit-image ---


def fragmented_share(labels: torch.Tensor) -> float:
    """Share of voxels outside the largest 6-connected piece of their label, (T, H, W) labels.

    0 when every label is one connected region (scikit-image's guarantee).

    Example:
        >>> fragmented_share(torch.tensor([[[0, 1, 0, 0]]]))
        0.25
    """
    from .functional.connectivity import connected_components

    lab = labels.reshape(1, *labels.shape[-3:]).long()
    comp = connected_components(lab).flatten()
    sizes = torch.bincount(comp)
    owner = torch.zeros_like(sizes).scatter_(0, comp, lab.flatten() - lab.min())  # piece -> label
    largest = torch.zeros(int(owner.max()) + 1, dtype=sizes.dtype).scatter_reduce(
        0, owner, sizes, "amax"
    )
    return 1 - largest.sum().item() / comp.numel()


def explained_variation(labels: torch.Tensor, colour: torch.Tensor) -> float:
    """Explained variation of ``colour`` (..., C) by per-label means, ``labels`` (...).

    Example:
        >>> colour = torch.tensor([[0.0], [0.0], [1.0], [1.0]])
        >>> explained_variation(torch.tensor([0, 0, 1, 1]), colour)
        1.0
    """
    colour = colour.reshape(-1, colour.shape[-1]).double()
    lab = torch.unique(labels.reshape(-1), return_inverse=True)[1]
    count = torch.bincount(lab).double().clamp(min=1)
    mean = torch.zeros(len(count), colour.shape[1], dtype=colour.dtype).index_add_(0, lab, colour)
    mean = mean / count[:, None]
    centre = colour.mean(0)
    return float(((mean[lab] - centre) ** 2).sum() / ((colour - centre) ** 2).sum())


def temporal_coherence(labels: torch.Tensor, camera_shift: torch.Tensor) -> float:
    """Size-weighted IoU of each supervoxel's footprint moved by the camera, frame to frame.

    Args:
        labels: (T, H, W).
        camera_shift: (T, 2) the true camera path (R2's convention).
    """
    t, h, w = labels.shape
    total = weight = 0.0
    for i in range(t - 1):
        dx, dy = (camera_shift[i + 1] - camera_shift[i]).round().long().tolist()
        rows, cols = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
        a = torch.roll(labels[i], (dy, dx), (0, 1))[rows, cols]
        b = labels[i + 1][rows, cols]
        for value in torch.unique(a):
            sa, sb = a == value, b == value
            total += sa.sum().item() * (sa & sb).sum().item() / (sa | sb).sum().item()
            weight += sa.sum().item()
    return total / weight


def adjusted_rand_index(a: torch.Tensor, b: torch.Tensor) -> float:
    """Adjusted Rand index of two labellings of the same voxels (1: the same partition).

    Example:
        >>> adjusted_rand_index(torch.tensor([0, 0, 1, 1]), torch.tensor([5, 5, 2, 2]))
        1.0
    """
    a = torch.unique(a.flatten(), return_inverse=True)[1]
    b = torch.unique(b.flatten(), return_inverse=True)[1]
    n = a.numel()
    table = torch.bincount(a * (int(b.max()) + 1) + b).double()

    def pairs(x):
        return (x * (x - 1) / 2).sum()

    index = pairs(table)
    rows, cols = pairs(torch.bincount(a).double()), pairs(torch.bincount(b).double())
    expected = rows * cols / (n * (n - 1) / 2)
    top = (rows + cols) / 2
    return float((index - expected) / (top - expected)) if top != expected else 1.0
