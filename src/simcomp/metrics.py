"""Pose metrics (SPEC R32-R33), batched in torch over any leading dimensions, on any device.

The formulas are those of HMR, HMMR, SPIN, VIBE and VideoPose3D (see shared FORMATS.md).
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
