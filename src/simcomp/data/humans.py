"""Procedural humans: an SMPL-topology skeleton with parametric motion, rendered as shaded capsules.

The stand-in for SURREAL. Everything is batched over (B, T) in torch on the requested device;
the only Python loops run over the 24 joints and the ~25 body primitives, never over samples
or frames.

Conventions: the body frame is y-up with the person facing +z and their left on +x (SMPL's).
The camera frame is OpenCV's (x right, y down, z forward), a pinhole with focal ``f`` px and
the principal point at the image centre. ``person_depth`` is the camera-frame z of the visible
body surface (the same quantity as ``joints_3d[..., 2]``), +inf off the body.
"""

from __future__ import annotations

import math

import torch
from kornia.geometry.conversions import rotation_matrix_to_axis_angle

from .._checks import check_interval
from .._random import default_generator, uniform
from ..clip import Clip
from ..joints import NUM_SMPL_JOINTS, SMPL_JOINT_NAMES, SMPL_PARENTS

J = {n: i for i, n in enumerate(SMPL_JOINT_NAMES)}

# Rest offsets of each joint from its parent for a 1.75 m adult in a T-pose (metres, body frame).
REST_OFFSETS = torch.tensor(
    [
        [0.0, 0.0, 0.0], [0.09, -0.08, 0.0], [-0.09, -0.08, 0.0], [0.0, 0.11, -0.01],
        [0.01, -0.40, 0.0], [-0.01, -0.40, 0.0], [0.0, 0.13, 0.0], [0.0, -0.42, -0.02],
        [0.0, -0.42, -0.02], [0.0, 0.05, 0.02], [0.0, -0.06, 0.13], [0.0, -0.06, 0.13],
        [0.0, 0.21, -0.02], [0.07, 0.11, 0.0], [-0.07, 0.11, 0.0], [0.0, 0.09, 0.04],
        [0.11, 0.03, 0.0], [-0.11, 0.03, 0.0], [0.27, 0.0, 0.0], [-0.27, 0.0, 0.0],
        [0.25, 0.0, 0.0], [-0.25, 0.0, 0.0], [0.08, 0.0, 0.0], [-0.08, 0.0, 0.0],
    ]
)  # fmt: skip
HEAD_TOP = torch.tensor([0.0, 0.13, 0.02])  # from the head joint
REST_HEIGHT = 1.75
# Which proportion group scales each joint's bone: 0 torso, 1 legs, 2 arms.
_GROUP = torch.tensor([0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2])

# Body primitives: (joint a, joint b, radius at a, radius at b, colour class), radii for 1.75 m.
# Colour classes: 0 skin, 1 top, 2 trousers, 3 shoes. Joint 24 is the head top.
SKIN, TOP, TROUSERS, SHOES = range(4)
PRIMITIVES = (
    (0, 3, 0.13, 0.12, TROUSERS), (3, 6, 0.12, 0.13, TOP), (6, 9, 0.13, 0.14, TOP),
    (1, 2, 0.09, 0.09, TROUSERS), (16, 17, 0.075, 0.075, TOP), (9, 12, 0.10, 0.05, TOP),
    (13, 16, 0.06, 0.055, TOP), (14, 17, 0.06, 0.055, TOP),
    (12, 15, 0.05, 0.05, SKIN), (15, 24, 0.095, 0.085, SKIN),
    (1, 4, 0.075, 0.055, TROUSERS), (2, 5, 0.075, 0.055, TROUSERS),
    (4, 7, 0.05, 0.04, TROUSERS), (5, 8, 0.05, 0.04, TROUSERS),
    (7, 10, 0.04, 0.035, SHOES), (8, 11, 0.04, 0.035, SHOES),
    (16, 18, 0.045, 0.04, TOP), (17, 19, 0.045, 0.04, TOP),
    (18, 20, 0.037, 0.03, SKIN), (19, 21, 0.037, 0.03, SKIN),
    (20, 22, 0.035, 0.03, SKIN), (21, 23, 0.035, 0.03, SKIN),
)  # fmt: skip
# The largest radius around each joint (for tests of the visible surface).
JOINT_RADIUS = torch.zeros(NUM_SMPL_JOINTS + 1)
for _a, _b, _ra, _rb, _ in PRIMITIVES:
    JOINT_RADIUS[_a] = max(float(JOINT_RADIUS[_a]), _ra)
    JOINT_RADIUS[_b] = max(float(JOINT_RADIUS[_b]), _rb)

MOTIONS = ("walk", "run", "jump", "squat", "wave", "turn")
FPS = 30.0


def _rot(axis: int, angle: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) about a coordinate axis by ``angle`` (...)."""
    c, s = torch.cos(angle), torch.sin(angle)
    o, z = torch.ones_like(angle), torch.zeros_like(angle)
    rows = {
        0: ((o, z, z), (z, c, -s), (z, s, c)),
        1: ((c, z, s), (z, o, z), (-s, z, c)),
        2: ((c, -s, z), (s, c, z), (z, z, o)),
    }[axis]
    return torch.stack([torch.stack(r, -1) for r in rows], -2)


def euler_to_matrix(euler: torch.Tensor) -> torch.Tensor:
    """``Rx(ex) @ Ry(ey) @ Rz(ez)`` for euler angles (..., 3) in radians -> (..., 3, 3)."""
    return _rot(0, euler[..., 0]) @ _rot(1, euler[..., 1]) @ _rot(2, euler[..., 2])


# Joint limits on the euler angles of a few joints (min, max per axis), radians.
_LIMITS = {
    "left_knee": ((0.0, 2.4), (0, 0), (0, 0)),
    "right_knee": ((0.0, 2.4), (0, 0), (0, 0)),
    "left_hip": ((-2.0, 0.8), (-0.6, 0.6), (-0.3, 0.6)),
    "right_hip": ((-2.0, 0.8), (-0.6, 0.6), (-0.6, 0.3)),
    "left_elbow": ((-0.3, 0.3), (-2.5, 0.0), (-2.5, 0.3)),
    "right_elbow": ((-0.3, 0.3), (0.0, 2.5), (-2.5, 0.3)),
}


def motion_angles(
    kind: torch.Tensor, phase: torch.Tensor, amp: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Euler angles of every joint for a bank of parametric movements.

    Args:
        kind: long (B,), index into ``MOTIONS``.
        phase: (B, T) radians, the cycle phase of each frame.
        amp: (B,) amplitude factor around 1.

    Returns:
        euler (B, T, 24, 3); lift (B, T) metres of pelvis lift above ground contact;
        speed (B,) forward metres per second; yaw_rate (B,) radians per second.
    """
    b, t = phase.shape
    s, a = torch.sin(phase), amp[:, None]
    zero = torch.zeros_like(phase)
    e = torch.zeros(len(MOTIONS), b, t, NUM_SMPL_JOINTS, 3, device=phase.device)
    lift = torch.zeros(len(MOTIONS), b, t, device=phase.device)
    # Arms hang down (rotation about z) unless a movement raises them.
    e[..., J["left_shoulder"], 2] = -1.25
    e[..., J["right_shoulder"], 2] = 1.25
    e[..., J["left_elbow"], 1] = -0.25
    e[..., J["right_elbow"], 1] = 0.25
    for m, (hip, knee, arm, elbow, lean) in enumerate(
        ((0.45, 0.6, 0.35, 0.3, 0.05), (0.8, 1.3, 0.7, 1.4, 0.25))
    ):  # walk, run: legs in antiphase, arms opposite to legs
        e[m, ..., J["left_hip"], 0] = -hip * a * s
        e[m, ..., J["right_hip"], 0] = hip * a * s
        e[m, ..., J["left_knee"], 0] = knee * a * torch.sin(phase - 1.2).clamp(min=0)
        e[m, ..., J["right_knee"], 0] = knee * a * torch.sin(phase + math.pi - 1.2).clamp(min=0)
        e[m, ..., J["left_shoulder"], 0] = arm * a * s
        e[m, ..., J["right_shoulder"], 0] = -arm * a * s
        e[m, ..., J["left_elbow"], 1] = -elbow
        e[m, ..., J["right_elbow"], 1] = elbow
        e[m, ..., J["spine1"], 0] = lean
        lift[m] = 0.03 * m * s.abs()
    crouch = 0.5 * (1 - torch.cos(phase))  # jump and squat: 0 standing, 1 deepest
    jump, squat = MOTIONS.index("jump"), MOTIONS.index("squat")
    for m, depth in ((jump, 0.5), (squat, 1.0)):
        c = crouch * a * depth if m == squat else (1 - crouch) * a * depth
        for side in ("left", "right"):
            e[m, ..., J[f"{side}_hip"], 0] = -1.5 * c
            e[m, ..., J[f"{side}_knee"], 0] = 2.0 * c
            e[m, ..., J[f"{side}_ankle"], 0] = -0.5 * c
        e[m, ..., J["spine1"], 0] = 0.4 * c
        e[m, ..., J["left_shoulder"], 0] = -1.2 * c
        e[m, ..., J["right_shoulder"], 0] = -1.2 * c
    lift[jump] = 0.35 * a * torch.sin(phase).clamp(min=0)
    wave = MOTIONS.index("wave")
    e[wave, ..., J["right_shoulder"], 2] = -0.3
    e[wave, ..., J["right_elbow"], 2] = -1.2 + 0.5 * s
    e[wave, ..., J["right_elbow"], 1] = zero
    e[wave, ..., J["head"], 1] = 0.2 * s
    turn = MOTIONS.index("turn")
    e[turn, ..., J["left_shoulder"], 0] = 0.2 * s
    e[turn, ..., J["right_shoulder"], 0] = -0.2 * s
    pick = kind.to(phase.device)
    ar = torch.arange(b, device=phase.device)
    euler, lift = e[pick, ar], lift[pick, ar]
    for name, lims in _LIMITS.items():
        lo = torch.tensor([lo for lo, _ in lims], device=phase.device)
        hi = torch.tensor([hi for _, hi in lims], device=phase.device)
        euler[..., J[name], :] = torch.maximum(torch.minimum(euler[..., J[name], :], hi), lo)
    speeds = torch.tensor([1.2, 2.2, 0.0, 0.0, 0.0, 0.0], device=phase.device)
    yaw_rates = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 1.6], device=phase.device)
    return euler, lift, speeds[pick] * amp, yaw_rates[pick] * amp


def forward_kinematics(
    rot: torch.Tensor, offsets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint positions and global rotations from local rotations.

    Args:
        rot: (B, T, 24, 3, 3) local rotation of each joint (the root's is global).
        offsets: (B, 24, 3) rest offsets from each joint's parent.

    Returns:
        positions (B, T, 25, 3) relative to the root, the 25th being the head top; and the global
        rotations (B, T, 24, 3, 3).
    """
    glob, pos = [rot[:, :, 0]], [torch.zeros_like(rot[:, :, 0, :, 0])]
    for j in range(1, NUM_SMPL_JOINTS):
        p = SMPL_PARENTS[j]
        pos.append(pos[p] + (glob[p] @ offsets[:, None, j, :, None])[..., 0])
        glob.append(glob[p] @ rot[:, :, j])
    top = HEAD_TOP.to(offsets) * offsets[:, J["head"]].norm(dim=-1, keepdim=True) / 0.0985
    pos.append(pos[J["head"]] + (glob[J["head"]] @ top[:, None, :, None])[..., 0])
    return torch.stack(pos, 2), torch.stack(glob, 2)


def project(points: torch.Tensor, focal: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
    """Pinhole projection of camera-frame points (..., 3) with focal/center (B, 2) -> (..., 2)."""
    shape = (points.shape[0],) + (1,) * (points.ndim - 2) + (2,)
    return points[..., :2] / points[..., 2:3] * focal.view(shape) + center.view(shape)


def render_capsules(
    centers_a: torch.Tensor,
    centers_b: torch.Tensor,
    radii: torch.Tensor,
    colour_class: torch.Tensor,
    palette: torch.Tensor,
    light: torch.Tensor,
    focal: torch.Tensor,
    center: torch.Tensor,
    size: tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Z-buffer tapered capsules (sphere-swept segments) into RGB, mask and depth.

    Each pixel's ray meets the sphere centred at the segment point closest to the pixel in the
    image; the nearest hit over all primitives wins. Only pixels inside each frame's projected
    bounding box of the body are traced (gathered into one flat list for the whole batch).
    Shading is Lambert plus ambient, times a stripe texture that moves with the body.

    Args:
        centers_a: (B, T, P, 3) segment start points in the camera frame.
        centers_b: (B, T, P, 3) segment end points.
        radii: (B, P, 2) radius at each end.
        colour_class: long (P,) index into the palette.
        palette: (B, C, 3) colours per clip.
        light: (B, 3) unit direction towards the light, camera frame.
        focal: (B, 2) focal lengths in pixels.
        center: (B, 2) principal points in pixels.
        size: (H, W).

    Returns:
        rgb (B, T, 3, H, W), mask bool (B, T, H, W), depth (B, T, H, W) with +inf off the body.
    """
    h, w = size
    dev = centers_a.device
    b, t, n = centers_a.shape[:3]
    a2 = project(centers_a, focal, center)  # (B, T, P, 2)
    b2 = project(centers_b, focal, center)
    # Per frame: the image box of the body, from the primitives' projected extents.
    nearest = torch.minimum(centers_a[..., 2], centers_b[..., 2]).clamp(min=1e-3)
    reach = (radii.amax(-1)[:, None] * focal[:, :1, None] / nearest)[..., None]  # (B, T, P, 1)
    lo = (torch.minimum(a2, b2) - reach).amin(2).floor().clamp(min=0)  # (B, T, 2)
    hi = (torch.maximum(a2, b2) + reach).amax(2).ceil()
    in_front = (torch.minimum(centers_a[..., 2], centers_b[..., 2]) > 0.05).all(2)
    ys = torch.arange(h, device=dev)
    xs = torch.arange(w, device=dev)
    inx = (xs >= lo[..., 0:1]) & (xs <= hi[..., 0:1])  # (B, T, W)
    iny = (ys >= lo[..., 1:2]) & (ys <= hi[..., 1:2])  # (B, T, H)
    box = iny[..., :, None] & inx[..., None, :] & in_front[..., None, None]
    idx = box.flatten().nonzero()[:, 0]  # traced pixels, flat over (B, T, H, W)
    frame, pix = idx // (h * w), idx % (h * w)
    sample = frame // t
    u = (pix % w).float() + 0.5
    v = (pix // w).float() + 0.5
    fx, fy = focal[sample, 0], focal[sample, 1]
    dx = (u - center[sample, 0]) / fx  # the ray is (dx, dy, 1)
    dy = (v - center[sample, 1]) / fy
    dd = dx * dx + dy * dy + 1
    ca_all = centers_a.reshape(b * t, n, 3)
    dc_all = (centers_b - centers_a).reshape(b * t, n, 3)
    pa_all, seg_all = a2.reshape(b * t, n, 2), (b2 - a2).reshape(b * t, n, 2)
    depth = torch.full_like(u, float("inf"))
    best = torch.zeros_like(idx)
    best_s = torch.zeros_like(u)
    for k in range(n):  # primitives, not samples or frames
        pa, seg = pa_all[frame, k], seg_all[frame, k]
        len2 = (seg * seg).sum(-1).clamp(min=1e-6)
        s = (((u - pa[:, 0]) * seg[:, 0] + (v - pa[:, 1]) * seg[:, 1]) / len2).clamp(0, 1)
        ca, dc = ca_all[frame, k], dc_all[frame, k]
        r = radii[sample, k, 0] + s * (radii[sample, k, 1] - radii[sample, k, 0])
        c = ca + s[:, None] * dc
        bb = dx * c[:, 0] + dy * c[:, 1] + c[:, 2]
        disc = bb * bb - dd * ((c * c).sum(-1) - r * r)
        z = (bb - disc.clamp(min=0).sqrt()) / dd
        hit = (disc > 0) & (z > 0) & (z < depth)
        depth = torch.where(hit, z, depth)
        best = torch.where(hit, k, best)
        best_s = torch.where(hit, s, best_s)
    # Shade the winners: normal from the sphere centre of the winning primitive.
    c = ca_all[frame, best] + best_s[:, None] * dc_all[frame, best]
    r = radii[sample, best, 0] + best_s * (radii[sample, best, 1] - radii[sample, best, 0])
    ray = torch.stack((dx, dy, torch.ones_like(dx)), -1)
    normal = (depth[:, None] * ray - c) / r[:, None]
    hit = torch.isfinite(depth)
    lambert = (normal * light[sample]).sum(-1).clamp(min=0)
    seg_len = dc_all[frame, best].norm(dim=-1)
    texture = 0.88 + 0.12 * torch.sin(2 * math.pi * (best_s * seg_len / 0.06 + best))
    colour = palette[sample, colour_class[best]] * ((0.35 + 0.65 * lambert) * texture)[:, None]
    colour = torch.where(hit[:, None], colour.clamp(0, 1), 0.0)
    rgb = torch.zeros(b * t, 3, h * w, device=dev)  # written in place: no channel-last copy
    for ch in range(3):
        rgb[:, ch].index_put_((frame, pix), colour[:, ch])
    out_depth = torch.full((b * t * h * w,), float("inf"), device=dev)
    out_depth[idx] = depth
    out_depth = out_depth.view(b, t, h, w)
    return rgb.view(b, t, 3, h, w), torch.isfinite(out_depth), out_depth


def person_clips(
    batch_size: int,
    num_frames: int = 31,
    size: tuple[int, int] = (240, 320),
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    distance: tuple[float, float] = (2.5, 8.0),
    height: tuple[float, float] = (1.5, 1.95),
    focal: float | None = None,
) -> Clip:
    """Generate a batch of procedural person clips.

    Each clip draws a person (height, proportions, clothing colours), a movement from
    ``MOTIONS`` or a smooth mix of two (speed, phase, amplitude), a heading, a distance from the
    camera and a camera height and pitch; then renders every frame.

    Args:
        batch_size: B.
        num_frames: T.
        size: (H, W) of the frames.
        generator: CPU generator (None: from torch's global seed).
        device: where the clip is rendered.
        distance: range of the person's distance from the camera, metres.
        height: range of the person's height, metres.
        focal: focal length in pixels; default 600 * W / 320 (SURREAL's camera).

    Returns:
        A Clip with person_rgb (B, T, 3, H, W), person_mask, person_depth (B, T, H, W),
        joints_2d (B, T, 24, 2), joints_3d (B, T, 24, 3), smpl_pose (B, T, 72), focal and
        principal_point. ``smpl_pose`` is the axis-angle of the local joint rotations that drive
        this skeleton (SMPL's parameterisation; the rest pose is ours, not SMPL's mesh).
    """
    g = default_generator(generator)
    check_interval("distance", distance, low=0.5)
    check_interval("height", height, low=0.5)
    b, t, (h, w) = batch_size, num_frames, size
    if b < 0 or t < 1:
        raise ValueError(f"batch_size, num_frames: expected >= 0 and >= 1, got {b}, {t}")

    f = float(focal) if focal is not None else 600.0 * w / 320
    heights = uniform(g, b, height[0], height[1])
    proportion = uniform(g, (b, 3), 0.92, 1.08)
    kinds = torch.randint(len(MOTIONS), (b, 2), generator=g)
    mix = uniform(g, b) < 0.25  # a smooth blend of two movements
    freq = uniform(g, b, 0.6, 1.4) * 2 * math.pi * 0.9  # radians per second
    phase0 = uniform(g, b, 0, 2 * math.pi)
    amp = uniform(g, (b, 2), 0.7, 1.2)
    heading = uniform(g, b, -math.pi, math.pi)
    dist = uniform(g, b, distance[0], distance[1])
    lateral = uniform(g, b, -0.22, 0.22)  # radians off the optical axis (half FOV is 0.26)
    cam_height = uniform(g, b, 0.8, 1.6)
    pitch = uniform(g, b, -0.12, 0.12)
    palette = torch.cat([uniform(g, (b, 1, 3), 0.35, 0.95) * torch.tensor([1.0, 0.8, 0.65]),
                         uniform(g, (b, 3, 3), 0.05, 0.95)], 1)  # fmt: skip
    light = torch.nn.functional.normalize(uniform(g, (b, 3), -1, 1) + torch.tensor([0, -1.0, -1.5]))
    blend_mid = uniform(g, b, 0.3, 0.7) * t

    dev = torch.device(device)
    seconds = torch.arange(t, dtype=torch.float32) / FPS
    phase = phase0[:, None] + freq[:, None] * seconds
    e0, lift0, sp0, yr0 = motion_angles(kinds[:, 0], phase, amp[:, 0])
    e1, lift1, sp1, yr1 = motion_angles(kinds[:, 1], phase, amp[:, 1])
    wgt = torch.sigmoid((torch.arange(t) - blend_mid[:, None]) / 3.0) * mix[:, None]  # (B, T)
    euler = e0 + wgt[..., None, None] * (e1 - e0)
    lift = lift0 + wgt * (lift1 - lift0)
    speed = sp0[:, None] + wgt * (sp1 - sp0)[:, None]
    yaw = heading[:, None] + torch.cumsum((yr0[:, None] + wgt * (yr1 - yr0)[:, None]) / FPS, 1)

    scale = (heights / REST_HEIGHT)[:, None] * proportion[:, _GROUP]  # (B, 24)
    offsets = REST_OFFSETS * scale[..., None]
    local = euler_to_matrix(euler)
    local[:, :, 0] = _rot(1, yaw) @ local[:, :, 0]
    pos, _ = forward_kinematics(local, offsets)  # (B, T, 25, 3), root at origin
    radii_scale = (heights / REST_HEIGHT)[:, None, None]
    foot_r = JOINT_RADIUS[[J["left_foot"], J["right_foot"]]].max() * radii_scale[:, :, 0]
    feet = pos[:, :, [J["left_ankle"], J["right_ankle"], J["left_foot"], J["right_foot"]], 1]
    ground = feet.min(-1).values - foot_r  # root height above the lowest foot
    forward = torch.stack((torch.sin(yaw), torch.cos(yaw)), -1)  # walk along the heading
    travel = torch.cumsum(speed[..., None] * forward / FPS, 1)
    travel = travel - travel[:, t // 2 : t // 2 + 1]
    root = torch.stack(
        (
            dist * torch.tan(lateral) + travel[:, :, 0].T,
            -ground.T + lift.T,
            -dist + travel[:, :, 1].T,
        )
    ).permute(2, 1, 0)  # (B, T, 3) in world (y-up); the camera looks along world -z
    world = pos + root[:, :, None]
    # World -> camera: a half turn about x (a rotation, so left stays left), camera at
    # (0, cam_height, 0), then pitched about its x axis.
    cam = torch.stack(
        (world[..., 0], cam_height[:, None, None] - world[..., 1], -world[..., 2]), -1
    )
    cam = (_rot(0, pitch)[:, None, None] @ cam[..., None])[..., 0]

    focal_t = torch.full((b, 2), f)
    center_t = torch.tensor([w / 2, h / 2]).expand(b, 2).clone()
    prim = torch.tensor([(a, bb) for a, bb, *_ in PRIMITIVES])
    radii = torch.tensor([(ra, rb) for _, _, ra, rb, _ in PRIMITIVES]) * radii_scale
    cls = torch.tensor([c for *_, c in PRIMITIVES])
    cam_d = cam.to(dev)
    rgb, mask, depth = render_capsules(
        cam_d[:, :, prim[:, 0]], cam_d[:, :, prim[:, 1]], radii.to(dev), cls.to(dev),
        palette.to(dev), light.to(dev), focal_t.to(dev), center_t.to(dev), (h, w),
    )  # fmt: skip
    joints_3d = cam_d[:, :, :NUM_SMPL_JOINTS]
    pose = rotation_matrix_to_axis_angle(local.reshape(-1, 3, 3)).reshape(b, t, 72)
    return Clip(
        person_rgb=rgb,
        person_mask=mask,
        person_depth=depth,
        joints_3d=joints_3d.contiguous(),
        joints_2d=project(joints_3d, focal_t.to(dev), center_t.to(dev)).contiguous(),
        smpl_pose=pose.to(dev),
        focal=focal_t.to(dev),
        principal_point=center_t.to(dev),
    )
