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
        temporal: "lstm" (the paper's bidirectional LSTM) or "conv" (HMMR's temporal encoder,
            Kanazawa et al. 2019: 1-D convolutions over the per-frame features).
    """

    def __init__(
        self,
        in_channels: int,
        arch: str = "resnet50",
        weights: str | Path | None = None,
        hidden: int = 1024,
        smpl: nn.Module | None = None,
        dann_weight: float = 0.0,
        temporal: str = "lstm",
    ) -> None:
        super().__init__()
        self.backbone, width = build_backbone(arch, in_channels, weights)
        if temporal == "lstm":
            self.lstm = nn.LSTM(width, hidden, batch_first=True, bidirectional=True)
        elif temporal == "conv":
            self.lstm = TemporalConv(width, 2 * hidden)
        else:
            raise ValueError(f"temporal: expected 'lstm' or 'conv', got {temporal!r}")
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


class TemporalConv(nn.Module):
    """HMMR's temporal encoder: residual 1-D convolutions over time, (B, T, F) -> (B, T, out)."""

    def __init__(self, width: int, out: int, layers: int = 3, kernel: int = 3) -> None:
        super().__init__()
        self.inp = nn.Conv1d(width, out, 1)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(out, out, kernel, padding=kernel // 2), nn.GroupNorm(8, out),
                          nn.ReLU())
            for _ in range(layers)
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Like ``nn.LSTM(batch_first=True)``: (output (B, T, out), None)."""
        h = self.inp(x.transpose(1, 2))
        for block in self.blocks:
            h = h + block(h)
        return h.transpose(1, 2), None


class KeypointLifter(nn.Module):
    """A VideoPose3D-style lifter (Pavllo et al. 2019): 2-D keypoints over time -> 3-D joints.

    It reads the 2-D keypoints from the heatmap channels of the same network inputs the other
    models get (a soft-argmax per heatmap, with the heatmap's peak as confidence), so the
    trainer and the evaluator treat it like them. Dilated temporal convolutions (dilations 1,
    3, 9), then per pair a ``current`` and a ``next`` set of 24 joints and a weak-perspective
    camera.

    Args:
        heatmap_channels: indices of the 12 heatmap channels in the inputs.
        hidden: convolution width (1024 in VideoPose3D).
    """

    def __init__(self, heatmap_channels: list[int], hidden: int = 1024) -> None:
        super().__init__()
        if len(heatmap_channels) == 0:
            raise ValueError("the lifter needs keypoint inputs: train it with --inputs keypoints")
        self.heat = list(heatmap_channels)
        k = len(self.heat) * 3
        self.inp = nn.Conv1d(k, hidden, 3, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(hidden, hidden, 3, padding=d, dilation=d),
                          nn.GroupNorm(8, hidden), nn.ReLU(), nn.Dropout(0.25))
            for d in (3, 9)
        )  # fmt: skip
        self.out = nn.Conv1d(hidden, 2 * (NUM_SMPL_JOINTS * 3 + N_CAM), 1)
        self.cam_mean = nn.Parameter(torch.tensor([0.9, 0.0, 0.0]))

    def keypoints(self, inputs: torch.Tensor) -> torch.Tensor:
        """Soft-argmax (x, y in [-1, 1]) and peak of each heatmap: (B, P, 12 * 3)."""
        maps = inputs[:, :, self.heat].float()  # (B, P, 12, S, S)
        s = maps.shape[-1]
        axis = torch.linspace(-1, 1, s, device=maps.device)
        mass = maps.flatten(-2).sum(-1).clamp(min=1e-6)
        x = (maps.sum(-2) * axis).sum(-1) / mass
        y = (maps.sum(-1) * axis).sum(-1) / mass
        peak = maps.flatten(-2).amax(-1)
        return torch.stack((x, y, peak), -1).flatten(2)

    def forward(self, inputs: torch.Tensor) -> dict[str, dict[str, torch.Tensor]]:
        """Predictions for every pair, as :class:`MotionHMR` gives them (joints and camera)."""
        b, p = inputs.shape[:2]
        h = self.inp(self.keypoints(inputs).transpose(1, 2))
        for block in self.blocks:
            h = h + block(h)
        out = self.out(h).transpose(1, 2).reshape(b, p, 2, NUM_SMPL_JOINTS * 3 + N_CAM)
        preds = {}
        for i, name in enumerate(("current", "next")):
            joints, cam = out[:, :, i].split((NUM_SMPL_JOINTS * 3, N_CAM), -1)
            preds[name] = {"joints": joints.unflatten(-1, (NUM_SMPL_JOINTS, 3)),
                           "cam": cam + self.cam_mean}  # fmt: skip
        preds["features"] = h.transpose(1, 2)
        return preds


def per_frame(predictions: dict[str, dict[str, torch.Tensor]], key: str = "joints") -> torch.Tensor:
    """R27 at test time: every 'current' prediction plus the last 'next' one.

    P pairs give 2P predictions; this keeps P + 1, one per frame: (B, P + 1, ...).
    """
    current, nxt = predictions["current"][key], predictions["next"][key]
    return torch.cat((current, nxt[:, -1:]), 1)


def weak_perspective(joints: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
    """HMR's camera: x = s (X[:2] + [tx, ty]) in [-1, 1] crop coordinates."""
    return cam[..., None, :1] * (joints[..., :2] + cam[..., None, 1:])
