"""Motion HMR (SPEC R25-R29): per-frame ResNet, bidirectional LSTM, two HMR heads per pair.

Rotations are regressed in SPIN's 6-D representation (two columns of the rotation matrix,
Gram-Schmidt orthonormalised): continuous, so easier to regress than HMR's axis-angle, and
SMPL takes the resulting matrices directly.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from simcomp.joints import NUM_SMPL_JOINTS

N_CAM, N_SHAPE = 3, 10
N_POSE = NUM_SMPL_JOINTS * 6
N_PARAMS = N_CAM + N_POSE + N_SHAPE


def rot6d_to_matrix(x: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3): Gram-Schmidt on the two columns (Zhou et al. 2019, as SPIN)."""
    a, b = x[..., :3], x[..., 3:]
    c1 = nn.functional.normalize(a, dim=-1)
    c2 = nn.functional.normalize(b - (c1 * b).sum(-1, keepdim=True) * c1, dim=-1)
    return torch.stack((c1, c2, torch.cross(c1, c2, dim=-1)), -1)


def build_backbone(
    arch: str, in_channels: int, weights: str | Path | None = None
) -> tuple[nn.Module, int]:
    """A torchvision ResNet whose conv1 takes ``in_channels`` (R25); returns it and its width.

    ImageNet weights come from a local file only (never a download). With them, the first three
    input channels of conv1 take the pretrained RGB filters (the paper's RGB baselines) and the
    extra channels are initialised randomly.
    """
    import torchvision

    net = getattr(torchvision.models, arch)(weights=None)
    if weights is not None:
        net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    old = net.conv1
    conv = nn.Conv2d(in_channels, old.out_channels, 7, 2, 3, bias=False)
    with torch.no_grad():
        if weights is not None:
            keep = min(3, in_channels)
            conv.weight[:, :keep] = old.weight[:, :keep]
    net.conv1 = conv
    width = net.fc.in_features
    net.fc = nn.Identity()
    return net, width


class GradientReversal(torch.autograd.Function):
    """Identity forward, gradient times -weight backward (DANN)."""

    @staticmethod
    def forward(ctx, x, weight):  # noqa: D102
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        return -ctx.weight * grad, None


class Regressor(nn.Module):
    """HMR's iterative error feedback: 3 additive steps from learned mean parameters (R27)."""

    def __init__(self, in_features: int, iterations: int = 3) -> None:
        super().__init__()
        self.iterations = iterations
        self.net = nn.Sequential(
            nn.Linear(in_features + N_PARAMS, 1024), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, N_PARAMS),
        )  # fmt: skip
        nn.init.xavier_uniform_(self.net[-1].weight, gain=0.01)
        nn.init.zeros_(self.net[-1].bias)
        identity6d = torch.tensor([1.0, 0, 0, 0, 1, 0]).repeat(NUM_SMPL_JOINTS)
        root = torch.tensor([1.0, 0, 0, 0, -1, 0])  # HMR starts the root at [pi, 0, 0]
        mean = torch.cat(
            (torch.tensor([0.9, 0.0, 0.0]), root, identity6d[6:], torch.zeros(N_SHAPE))
        )
        self.mean = nn.Parameter(mean)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(N, F) -> params (N, 85-like: cam 3 + pose 24x6 + shape 10)."""
        params = self.mean.expand(features.shape[0], -1)
        for _ in range(self.iterations):
            params = params + self.net(torch.cat((features, params), -1))
        return params


class MotionHMR(nn.Module):
    """The model of SPEC R25-R27 with the DANN option of R29.

    Input ``(B, P, C, 224, 224)`` for P pairs; per pair a ``current`` and a ``next`` prediction
    of camera (3), rotations (24 x 3 x 3), shape (10) and joints (24 x 3).

    Args:
        in_channels: C (``simcomp.transforms.input_channels``).
        arch: torchvision ResNet name ("resnet50" in the paper).
        weights: local ImageNet weights for the backbone, or None.
        hidden: LSTM and head width (1024 in the paper).
        smpl: an ``smplx`` SMPL layer (joints from the body model), or None (a joint head).
        dann_weight: > 0 adds the domain adversary on per-frame features (R29).
    """

    def __init__(
        self,
        in_channels: int,
        arch: str = "resnet50",
        weights: str | Path | None = None,
        hidden: int = 1024,
        smpl: nn.Module | None = None,
        dann_weight: float = 0.0,
    ) -> None:
        super().__init__()
        self.backbone, width = build_backbone(arch, in_channels, weights)
        self.lstm = nn.LSTM(width, hidden, batch_first=True, bidirectional=True)
        self.heads = nn.ModuleDict(
            {
                k: nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU())
                for k in ("current", "next")
            }
        )
        self.regressor = Regressor(hidden)
        self.smpl = smpl
        self.joint_head = None if smpl is not None else nn.Linear(N_PARAMS, NUM_SMPL_JOINTS * 3)
        self.dann_weight = dann_weight
        self.domain = (
            nn.Sequential(nn.Linear(width, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                          nn.Linear(1024, 1))
            if dann_weight > 0 else None
        )  # fmt: skip

    def features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Per-frame pooled backbone features (B, P, width)."""
        b, p = inputs.shape[:2]
        return self.backbone(inputs.flatten(0, 1)).view(b, p, -1)

    def domain_logits(self, features: torch.Tensor) -> torch.Tensor:
        """DANN: domain logits (B, P) through a gradient reversal layer."""
        return self.domain(GradientReversal.apply(features, self.dann_weight))[..., 0]

    def decode(self, params: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split params (..., N_PARAMS) and compute joints (..., 24, 3)."""
        cam, pose, shape = params.split((N_CAM, N_POSE, N_SHAPE), -1)
        rot = rot6d_to_matrix(pose.unflatten(-1, (NUM_SMPL_JOINTS, 6)))
        if self.smpl is not None:
            lead = params.shape[:-1]
            out = self.smpl(
                betas=shape.reshape(-1, N_SHAPE),
                global_orient=rot[..., :1, :, :].reshape(-1, 1, 3, 3),
                body_pose=rot[..., 1:, :, :].reshape(-1, NUM_SMPL_JOINTS - 1, 3, 3),
                pose2rot=False,
            )
            joints = out.joints[:, :NUM_SMPL_JOINTS].reshape(*lead, NUM_SMPL_JOINTS, 3)
        else:
            joints = self.joint_head(params).unflatten(-1, (NUM_SMPL_JOINTS, 3))
        return {"cam": cam, "rotations": rot, "shape": shape, "joints": joints}

    def forward(self, inputs: torch.Tensor) -> dict[str, dict[str, torch.Tensor]]:
        """Predictions for every pair: ``{"current": {...}, "next": {...}, "features": ...}``."""
        feats = self.features(inputs)
        seq, _ = self.lstm(feats)
        out = {}
        for name, head in self.heads.items():
            h = head(seq)
            out[name] = self.decode(self.regressor(h.flatten(0, 1)).view(*h.shape[:2], -1))
        out["features"] = feats
        return out


def per_frame(predictions: dict[str, dict[str, torch.Tensor]], key: str = "joints") -> torch.Tensor:
    """R27 at test time: every 'current' prediction plus the last 'next' one.

    P pairs give 2P predictions; this keeps P + 1, one per frame: (B, P + 1, ...).
    """
    current, nxt = predictions["current"][key], predictions["next"][key]
    return torch.cat((current, nxt[:, -1:]), 1)


def weak_perspective(joints: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
    """HMR's camera: x = s (X[:2] + [tx, ty]) in [-1, 1] crop coordinates."""
    return cam[..., None, :1] * (joints[..., :2] + cam[..., None, 1:])
