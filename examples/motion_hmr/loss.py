"""The training loss (SPEC R28): Procrustes-aligned 3D keypoint error + 2D reprojection error."""

from __future__ import annotations

import torch

from simcomp import Clip
from simcomp.functional.crop import to_box_coords
from simcomp.joints import SMPL_TO_LSP14
from simcomp.metrics import LSP14_HIPS, procrustes_align

from .model import weak_perspective


def targets(clip: Clip, crop_size: int) -> dict[str, torch.Tensor]:
    """Per pair p: 2D targets in [-1, 1] of box p for frames p ('current') and p+1 ('next')."""
    boxes = clip.boxes[:, :-1]
    now = clip.crop_joints_2d[:, :-1]
    nxt = to_box_coords(clip.joints_2d[:, 1:], boxes, crop_size)
    norm = lambda x: x / crop_size * 2 - 1  # noqa: E731
    return {
        "current_2d": norm(now), "next_2d": norm(nxt),
        "current_3d": clip.joints_3d[:, :-1], "next_3d": clip.joints_3d[:, 1:],
        "current_visible": clip.visible[:, :-1], "next_visible": clip.visible[:, 1:],
    }  # fmt: skip


def motion_hmr_loss(
    predictions: dict,
    clip: Clip,
    crop_size: int,
    w3d: float = 1.0,
    w2d: float = 1.0,
    w3d_root: float = 0.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Loss and its parts for both heads of every pair.

    Clips with ``valid`` False (their person never in frame: nothing to see in the crops)
    add nothing.
    """
    t = targets(clip, crop_size)
    lsp = list(SMPL_TO_LSP14)
    total, parts = 0.0, {}
    b = clip.batch_size
    valid = torch.ones(b, device=clip.device) if clip.valid is None else clip.valid.float()
    for head in ("current", "next"):
        pred = predictions[head]
        joints = pred["joints"].float()
        p3 = joints[..., lsp, :]
        g3 = t[f"{head}_3d"][..., lsp, :]
        err3d = (procrustes_align(p3, g3) - g3).norm(dim=-1)  # (B, P, 14)
        weight = valid.view(b, 1, 1).expand_as(err3d)
        loss3d = (err3d * weight).sum() / weight.sum().clamp(min=1)
        proj = weak_perspective(joints, pred["cam"].float())
        # visible joints whose target lies near the crop (a joint far outside it says little)
        vis = (t[f"{head}_visible"] & (t[f"{head}_2d"].abs() <= 1.5).all(-1)).float()
        vis = vis * valid.view(b, 1, 1)
        err2d = (proj - t[f"{head}_2d"]).abs().sum(-1)
        loss2d = (err2d * vis).sum() / vis.sum().clamp(min=1)
        total = total + w3d * loss3d + w2d * loss2d
        parts[f"{head}_3d"], parts[f"{head}_2d"] = loss3d.detach(), loss2d.detach()
        if w3d_root > 0:  # pelvis-relative, unaligned: scale and orientation must be right
            pelvis = list(LSP14_HIPS)
            rel_p = p3 - p3[..., pelvis, :].mean(-2, keepdim=True)
            rel_g = g3 - g3[..., pelvis, :].mean(-2, keepdim=True)
            err_root = (rel_p - rel_g).norm(dim=-1)
            loss_root = (err_root * weight).sum() / weight.sum().clamp(min=1)
            total = total + w3d_root * loss_root
            parts[f"{head}_3d_root"] = loss_root.detach()
    return total, parts
