"""Joint sets and the index maps between them (orders as in shared FORMATS.md).

Every map is a tuple of indices into the source set, in the order of the target set, so
``joints[..., SMPL_TO_LSP14, :]`` gives the 14 evaluation joints from SMPL's 24.
"""

from __future__ import annotations

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip
NUM_SMPL_JOINTS = len(SMPL_JOINT_NAMES)

# Kinematic tree of SMPL: parent of each joint (-1 for the root).
SMPL_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
)  # fmt: skip

LSP14_JOINT_NAMES: tuple[str, ...] = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "neck", "head",
)  # fmt: skip
# Bones between the LSP-14 joints, for drawing: legs, hips, arms, shoulders to neck, head.
LSP14_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (6, 7), (7, 8), (9, 10), (10, 11),
    (8, 12), (9, 12), (2, 8), (3, 9), (12, 13),
)  # fmt: skip
# The 14 evaluation joints (SPEC "14 evaluation joints", R32) from SMPL's kinematic joints.
SMPL_TO_LSP14: tuple[int, ...] = (8, 5, 2, 1, 4, 7, 21, 19, 17, 16, 18, 20, 12, 15)

# The 12 heatmap joints (SPEC R23): the 14 minus neck and head, in LSP order.
HEATMAP_JOINT_NAMES: tuple[str, ...] = LSP14_JOINT_NAMES[:12]
SMPL_TO_HEATMAP12: tuple[int, ...] = SMPL_TO_LSP14[:12]

# Leg joints that SPEC R18 unhides: hips, knees, ankles (SMPL indices).
LEG_JOINT_NAMES: tuple[str, ...] = (
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
SMPL_LEG_JOINTS: tuple[int, ...] = tuple(SMPL_JOINT_NAMES.index(n) for n in LEG_JOINT_NAMES)

# OpenPose COCO-18, the order of 3DPW's `poses2d`.
COCO18_JOINT_NAMES: tuple[str, ...] = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
    "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
    "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
# COCO-18 -> LSP 14; None where COCO has no such joint (head top).
COCO18_TO_LSP14: tuple[int | None, ...] = (10, 9, 8, 11, 12, 13, 4, 3, 2, 5, 6, 7, 1, None)

# MS-COCO 17.
COCO17_JOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
# COCO-17 -> LSP 14; None for neck and head top, which COCO-17 lacks.
COCO17_TO_LSP14: tuple[int | None, ...] = tuple(
    COCO17_JOINT_NAMES.index(n) if n in COCO17_JOINT_NAMES else None for n in LSP14_JOINT_NAMES
)

# Left/right mirror of SMPL's joints, for label swaps (SURREAL) and flips.
SMPL_FLIP: tuple[int, ...] = tuple(
    SMPL_JOINT_NAMES.index(n.replace("left", "@").replace("right", "left").replace("@", "right"))
    for n in SMPL_JOINT_NAMES
)
