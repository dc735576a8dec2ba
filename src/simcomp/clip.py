"""The one data contract: :class:`Clip`, a batch of B clips of T frames on one device.

A plain frozen dataclass of tensors rather than tensordict's ``@tensorclass``: no extra
dependency, fields keep their own dtypes (bool masks, +inf depth) without a batch-size
negotiation, validation runs once at construction with messages that name the field, and
``params`` (nested dicts of per-sample tensors) lives beside the tensors without being coerced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from ._checks import check_tensor

# field -> (shape pattern, dtype kind). Named sizes must agree across fields.
FIELDS: dict[str, tuple[tuple, str]] = {
    "background": (("B", "T", 3, "H", "W"), "float"),
    "person_rgb": (("B", "T", 3, "H", "W"), "float"),
    "person_mask": (("B", "T", "H", "W"), "bool"),
    "person_depth": (("B", "T", "H", "W"), "float"),
    "joints_2d": (("B", "T", "J", 2), "float"),
    "joints_3d": (("B", "T", "J", 3), "float"),
    "visible": (("B", "T", "J"), "bool"),
    "camera_shift": (("B", "T", 2), "float"),
    "occluder": (("B", "T", "H", "W"), "bool"),
    "total_occlusion": (("B", "T"), "bool"),
    "frames": (("B", "T", 3, "H", "W"), "float"),
    "boxes": (("B", "T", 4), "float"),
    "smpl_pose": (("B", "T", 72), "float"),
    "smpl_shape": (("B", "T", 10), "float"),
    "crop_joints_2d": (("B", "T", "J", 2), "float"),
    "inputs": (("B", "P", None, "S", "S"), "float"),
    "focal": (("B", 2), "float"),
    "principal_point": (("B", 2), "float"),
    "valid": (("B",), "bool"),
}


#: The RGB fields, float (B, T, 3, H, W) in [0, 1].
IMAGE_FIELDS = ("background", "person_rgb", "frames")


@dataclasses.dataclass(frozen=True, eq=False)
class Clip:
    """A batch of B clips of T frames, every tensor on one device.

    Fields are optional (None) until a source or a transform makes them. Shapes:

    - background, person_rgb, frames: float ``(B, T, 3, H, W)`` in [0, 1]
    - person_mask, occluder: bool ``(B, T, H, W)``; person_depth: float ``(B, T, H, W)``,
      metres to the body surface, +inf off the body
    - joints_2d ``(B, T, J, 2)`` pixels (x, y); joints_3d ``(B, T, J, 3)`` camera frame, metres
      (x right, y down, z forward); visible bool ``(B, T, J)``
    - camera_shift ``(B, T, 2)``: a static scene point at pixel p in frame T//2 is at
      p + camera_shift[t] in frame t (R2)
    - total_occlusion bool ``(B, T)``; boxes ``(B, T, 4)`` as (x0, y0, x1, y1) pixels
    - smpl_pose ``(B, T, 72)``, smpl_shape ``(B, T, 10)``; focal and principal_point ``(B, 2)``
      pixels, the pinhole intrinsics of the person's camera
    - crop_joints_2d ``(B, T, J, 2)``: joints_2d in the pixels of their frame's crop (boxes)
    - inputs ``(B, P, C, S, S)``: the network input of each of the P = T - 1 paired boxes
      (R21-R24; channel order in :func:`simcomp.transforms.input_channels`)
    - valid bool ``(B,)``: False for a clip that cannot train (its person never in frame);
      set by :class:`~simcomp.transforms.PersonCrop`, None until then
    - params: ``{transform name: {param: tensor with leading B}}``, what each transform drew

    Raises:
        TypeError: a field is not a tensor, or has the wrong dtype.
        ValueError: a field's shape disagrees with the others, or fields are on different
            devices, or the clip is empty (no field, B = 0 is allowed, T = 0 is not).

    Example:
        >>> import torch
        >>> clip = Clip(background=torch.rand(2, 4, 3, 8, 8))
        >>> clip.batch_size, clip.num_frames, clip.image_size
        (2, 4, (8, 8))
        >>> clip[1:].batch_size
        1

    """

    background: torch.Tensor | None = None
    person_rgb: torch.Tensor | None = None
    person_mask: torch.Tensor | None = None
    person_depth: torch.Tensor | None = None
    joints_2d: torch.Tensor | None = None
    joints_3d: torch.Tensor | None = None
    visible: torch.Tensor | None = None
    camera_shift: torch.Tensor | None = None
    occluder: torch.Tensor | None = None
    total_occlusion: torch.Tensor | None = None
    frames: torch.Tensor | None = None
    boxes: torch.Tensor | None = None
    smpl_pose: torch.Tensor | None = None
    smpl_shape: torch.Tensor | None = None
    crop_joints_2d: torch.Tensor | None = None
    inputs: torch.Tensor | None = None
    focal: torch.Tensor | None = None
    principal_point: torch.Tensor | None = None
    valid: torch.Tensor | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        sizes: dict[str, int] = {}
        device = None
        present = list(self.items())
        if not present:
            raise ValueError("Clip: expected at least one field, got none")
        for name, value in present:
            shape, dtype = FIELDS[name]
            check_tensor(name, value, shape, sizes, dtype=dtype)
            if device is None:
                device, first = value.device, name
            elif value.device != device:
                raise ValueError(
                    f"{name}: expected device {device} (as {first}), got {value.device}; "
                    "move every field with clip.to(device)"
                )
        if sizes.get("T", 1) == 0:
            raise ValueError("Clip: expected at least one frame (T >= 1), got T=0")
        if not isinstance(self.params, dict):
            raise TypeError(f"params: expected a dict, got {type(self.params).__name__}")
        object.__setattr__(self, "_sizes", sizes)
        object.__setattr__(self, "_device", device)

    # --- introspection -------------------------------------------------------------------
    def items(self) -> Iterator[tuple[str, torch.Tensor]]:
        """Yield ``(name, tensor)`` for every field that is set (params excluded)."""
        for name in FIELDS:
            value = getattr(self, name)
            if value is not None:
                yield name, value

    @property
    def batch_size(self) -> int:
        """B, the number of clips."""
        return self._sizes["B"]

    @property
    def num_frames(self) -> int | None:
        """T, the number of frames per clip, or None when no per-frame field is set."""
        return self._sizes.get("T")

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(H, W) of the image fields, or None when no image field is set."""
        return (self._sizes["H"], self._sizes["W"]) if "H" in self._sizes else None

    @property
    def num_joints(self) -> int | None:
        """J, or None when no joint field is set."""
        return self._sizes.get("J")

    @property
    def device(self) -> torch.device:
        """The device every field lives on."""
        return self._device

    def require(self, *names: str, by: str = "this transform") -> None:
        """Raise a ValueError naming the missing fields and who needs them."""
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise ValueError(
                f"{by} needs Clip fields {missing}, but they are None; "
                "build them first (see simcomp.data) or run the transform that makes them"
            )

    def as_dict(self) -> dict[str, torch.Tensor]:
        """The fields that are set, as plain tensors (``Clip(**clip.as_dict())`` rebuilds it).

        Example:
            >>> Clip(background=torch.zeros(1, 2, 3, 4, 4)).as_dict()["background"].shape
            torch.Size([1, 2, 3, 4, 4])
        """
        return dict(self.items())

    # --- new clips ---------------------------------------------------------------------------
    def replace(self, **changes: Any) -> Clip:
        """A new Clip with some fields replaced (validated again); the others are shared."""
        unknown = set(changes) - set(FIELDS) - {"params"}
        if unknown:
            raise TypeError(f"replace: unknown Clip fields {sorted(unknown)}")
        return dataclasses.replace(self, **changes)

    def with_params(self, name: str, params: dict[str, torch.Tensor]) -> Clip:
        """A new Clip whose ``params[name]`` is ``params``."""
        return dataclasses.replace(self, params={**self.params, name: params})

    def to(self, device: torch.device | str) -> Clip:
        """Move every field and every recorded param to ``device``."""
        fields = {n: v.to(device) for n, v in self.items()}
        return dataclasses.replace(
            self, **fields, params=_map_params(self.params, lambda t: t.to(device))
        )

    def __getitem__(self, index: int | slice | torch.Tensor | Sequence[int]) -> Clip:
        """Index or slice along the batch; an int keeps the batch dimension (size 1)."""
        if isinstance(index, int):
            if not -self.batch_size <= index < self.batch_size:
                raise IndexError(
                    f"index: {index} is out of range for a batch of {self.batch_size} clips"
                )
            index = index % self.batch_size
            index = slice(index, index + 1)
        fields = {n: v[index] for n, v in self.items()}
        return dataclasses.replace(
            self, **fields, params=_map_params(self.params, lambda t: t[index])
        )

    def __len__(self) -> int:
        return self.batch_size

    @staticmethod
    def cat(clips: Sequence[Clip]) -> Clip:
        """Concatenate clips along the batch; they must set the same fields and params."""
        if not clips:
            raise ValueError("Clip.cat: expected at least one clip, got an empty sequence")
        names = [n for n, _ in clips[0].items()]
        for i, c in enumerate(clips[1:], 1):
            other = [n for n, _ in c.items()]
            if other != names:
                raise ValueError(f"Clip.cat: clip {i} sets fields {other}, clip 0 sets {names}")
        fields = {n: torch.cat([getattr(c, n) for c in clips]) for n in names}
        return Clip(**fields, params=_cat_params([c.params for c in clips]))


def _pad_to_common(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Pad per-sample params to the largest size in every dim but the batch's, with zeros.

    Params padded within a batch (SLIC's seed grids: K is the batch's largest, with a validity
    flag that pads with False) then concatenate across batches of different largest K.
    """
    if len({t.shape[1:] for t in tensors}) == 1:
        return tensors
    if len({t.ndim for t in tensors}) != 1:
        raise ValueError("Clip.cat: params of different ranks cannot be concatenated")
    target = [max(t.shape[d] for t in tensors) for d in range(1, tensors[0].ndim)]
    out = []
    for t in tensors:
        pad = []
        for d in reversed(range(1, t.ndim)):
            pad += [0, target[d - 1] - t.shape[d]]
        out.append(torch.nn.functional.pad(t, pad) if t.dtype != torch.bool else
                   torch.nn.functional.pad(t.to(torch.uint8), pad).bool())  # fmt: skip
    return out


def _map_params(params: Any, fn) -> Any:
    if isinstance(params, torch.Tensor):
        return fn(params)
    if isinstance(params, dict):
        return {k: _map_params(v, fn) for k, v in params.items()}
    return params


def _cat_params(items: list) -> Any:
    first = items[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(_pad_to_common(items))
    if isinstance(first, dict):
        keys = list(first)
        for i, it in enumerate(items[1:], 1):
            if not isinstance(it, dict) or list(it) != keys:
                raise ValueError(f"Clip.cat: params of clip {i} have keys that differ from clip 0")
        return {k: _cat_params([it[k] for it in items]) for k in keys}
    return first
