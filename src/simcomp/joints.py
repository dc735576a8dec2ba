"""Joint sets, the index maps between them, and :class:`JointLayout` (joint orders as data).

Every map is a tuple of indices into the source set, in the order of the target set, so
``joints[..., SMPL_TO_LSP14, :]`` gives the 14 evaluation joints from SMPL's 24. The layouts
``SMPL24``, ``LSP14``, ``COCO17`` and ``COCO18`` (or your own, ``JointLayout.from_names``) tell
the transforms which joints are legs and which are the evaluation joints; :func:`remap` moves
joints between layouts by name.
"""

from __future__ import annotations

import dataclasses

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
# The 14 evaluation joints (the 14 evaluation joints, R32) from SMPL's kinematic joints.
SMPL_TO_LSP14: tuple[int, ...] = (8, 5, 2, 1, 4, 7, 21, 19, 17, 16, 18, 20, 12, 15)

# The 12 heatmap joints (R23): the 14 minus neck and head, in LSP order.
HEATMAP_JOINT_NAMES: tuple[str, ...] = LSP14_JOINT_NAMES[:12]
SMPL_TO_HEATMAP12: tuple[int, ...] = SMPL_TO_LSP14[:12]

# Leg joints that R18 unhides: hips, knees, ankles (SMPL indices).
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


@dataclasses.dataclass(frozen=True)
class JointLayout:
    """A joint order as data: the names, which joints are legs, which give the evaluation joints.

    Transforms that name joints (R10's 14 evaluation joints, R18's legs, R23's 12 heatmaps)
    take a layout instead of assuming SMPL-24; a joint the layout lacks is left out of R10's
    count and gives an all-zero heatmap.

    Args:
        name: a short name for messages.
        names: one name per joint, in order (LSP / SMPL names: "left_hip", "right_ankle", ...).
        legs: indices of the hips, knees and ankles (R18).
        eval14: for each LSP-14 joint, its index here, or None when the layout lacks it.
        parents: optional kinematic parent of each joint (-1 for a root), for drawing.

    Example:
        >>> COCO17.eval14[:3], COCO17.legs
        ((16, 14, 12), (11, 12, 13, 14, 15, 16))
        >>> len(JointLayout.from_names("mine", ("left_hip", "right_hip", "nose")))
        3
    """

    name: str
    names: tuple[str, ...]
    legs: tuple[int, ...]
    eval14: tuple[int | None, ...]
    parents: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.names)
        if len(self.eval14) != 14:
            raise ValueError(f"eval14: expected 14 entries (LSP order), got {len(self.eval14)}")
        for field, values in (("legs", self.legs), ("eval14", self.eval14)):
            if any(i is not None and not 0 <= i < n for i in values):
                raise ValueError(f"{field}: expected indices below {n} (the joints), got {values}")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def heatmap12(self) -> tuple[int | None, ...]:
        """Indices of R23's 12 heatmap joints (ankles ... wrists), None where missing."""
        return self.eval14[:12]

    @classmethod
    def from_names(cls, name: str, names: tuple[str, ...], parents=None) -> JointLayout:
        """A layout of any joints named as LSP / SMPL name them; legs and eval14 by name."""
        names = tuple(names)
        legs = tuple(names.index(n) for n in LEG_JOINT_NAMES if n in names)
        eval14 = tuple(names.index(n) if n in names else None for n in LSP14_JOINT_NAMES)
        return cls(name, names, legs, eval14, parents)


def remap(
    joints, source: JointLayout, target: JointLayout, fill: float = -1.0
) -> tuple[object, object]:
    """Joints ``(..., J_source, C)`` in ``target``'s order ``(..., J_target, C)``, by name.

    Joints the source lacks are set to ``fill`` (outside any frame by default) and come back
    False in the mask, which is the ``visible`` they should get.

    Returns:
        (joints, present bool (J_target,)).

    Example:
        >>> import torch
        >>> coco = torch.arange(17.0).view(1, 17, 1)
        >>> lsp, present = remap(coco, COCO17, LSP14)
        >>> lsp[0, :3, 0].tolist(), present[-2:].tolist()
        ([16.0, 14.0, 12.0], [False, False])
    """
    import torch

    where = [source.names.index(n) if n in source.names else None for n in target.names]
    present = torch.tensor([i is not None for i in where], device=joints.device)
    picked = joints.index_select(-2, torch.tensor([i or 0 for i in where], device=joints.device))
    return torch.where(present[:, None], picked, torch.full_like(picked, fill)), present


SMPL24 = JointLayout("smpl24", SMPL_JOINT_NAMES, SMPL_LEG_JOINTS, SMPL_TO_LSP14, SMPL_PARENTS)
LSP14 = JointLayout.from_names("lsp14", LSP14_JOINT_NAMES)
COCO17 = JointLayout.from_names("coco17", COCO17_JOINT_NAMES)
COCO18 = JointLayout.from_names("coco18", COCO18_JOINT_NAMES)
LAYOUTS = {layout.name: layout for layout in (SMPL24, LSP14, COCO17, COCO18)}
