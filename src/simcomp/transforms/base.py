"""The transform base: draw parameters on the CPU from a seeded generator, then apply them.

In the style of kornia.augmentation (``generate_parameters`` -> ``apply_transform``), with one
difference: randomness comes from an explicit CPU ``torch.Generator``, never the global RNG, so
one seed gives one augmentation on any device, and the recorded params replay it exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import torch
from torch import nn

from .._checks import check_range
from .._contract import check_clip, mark_checked
from .._device import upload
from .._random import default_generator, uniform
from ..clip import Clip
from ..joints import JointLayout

Params = dict[str, torch.Tensor]
__all__ = ["ClipTransform", "Compose", "Params", "default_generator", "keep_unapplied", "uniform"]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class ClipTransform(nn.Module):
    """Base of every simcomp transform.

    Subclasses implement :meth:`generate_params` (draw, CPU only) and :meth:`apply` (pure
    given the params). ``forward`` draws whether each sample is transformed (probability
    ``p``), draws the params, moves them to the clip's device, applies them, keeps the input
    where a sample was not drawn, and records the params in ``clip.params[self.name]``.

    Args:
        p: probability per sample that the transform is applied.
        name: key under which params are recorded (default: the class name in snake case).

    Shape:
        Whatever the subclass documents; every param has a leading batch dimension ``B``.

    """

    #: Clip fields this transform needs; checked before drawing.
    requires: tuple[str, ...] = ()
    #: The joint layout the transform names joints by (None: it takes any joints).
    layout: JointLayout | None = None
    #: The smallest image side the transform works on.
    min_image_size: int = 0

    def __init__(self, p: float = 1.0, name: str | None = None) -> None:
        super().__init__()
        self.p = check_range("p", float(p), 0.0, 1.0)
        self.name = name or _snake(type(self).__name__)

    def generate_params(self, clip: Clip, generator: torch.Generator) -> Params:
        """Draw this transform's params for every sample, on the CPU. Override."""
        return {}

    def apply_transform(self, clip: Clip, params: Params) -> Clip:  # pragma: no cover
        """Apply drawn params (already on the clip's device). Override.

        It may add outcomes to ``params`` (what it decided per sample, such as R10's ``kept``):
        they are recorded with the draws, and recomputed on replay.

        Named as kornia names it: ``apply`` is ``nn.Module.apply(fn)``, which a model holding
        a pipeline calls to initialise its weights.
        """
        raise NotImplementedError

    def extra_repr(self) -> str:
        """The constructor's settings, for ``print(pipeline)``."""
        import inspect

        names = [n for n in inspect.signature(type(self).__init__).parameters if n != "self"]
        shown = [f"{n}={getattr(self, n)!r}" for n in names if hasattr(self, n)]
        return ", ".join(shown)

    @property
    def joint_layout(self) -> JointLayout | None:
        """The layout that the clip's joints must follow here (None: any)."""
        return self.layout

    def draw(self, clip: Clip, generator: torch.Generator | None = None) -> Params:
        """All params of one call: ``applied`` (bool, B) and the subclass's own.

        With ``p`` of 1 (or 0) nothing is drawn for ``applied``, so a deterministic transform
        leaves the generator as it found it.
        """
        generator = default_generator(generator)
        b = clip.batch_size
        if self.p in (0.0, 1.0):
            applied = torch.full((b,), self.p == 1.0)
        else:
            applied = torch.rand(b, generator=generator) < self.p
        return {"applied": applied, **self.generate_params(clip, generator)}

    def forward(
        self,
        clip: Clip,
        generator: torch.Generator | None = None,
        params: Mapping[str, torch.Tensor] | None = None,
    ) -> Clip:
        """Draw (or take ``params`` to replay), apply, and record.

        Args:
            clip: the input batch; not modified.
            generator: a CPU ``torch.Generator``; None draws a seed from torch's global RNG.
            params: params recorded by an earlier call (``out.params[self.name]``) to replay.

        Returns:
            A new Clip.

        """
        if not isinstance(clip, Clip):
            raise TypeError(f"clip: expected a simcomp.Clip, got {type(clip).__name__}")
        clip.require(*self.requires, by=type(self).__name__)
        check_clip(clip, type(self).__name__, self.joint_layout, self.min_image_size)
        if params is None:
            params = self.draw(clip, generator)
        if "applied" not in params or params["applied"].shape != (clip.batch_size,):
            raise ValueError(
                f"params: expected params recorded by {type(self).__name__} for a batch of "
                f"{clip.batch_size} (with 'applied' of shape ({clip.batch_size},)), "
                f"got keys {sorted(params)}"
            )
        everyone = _all_true(params["applied"])  # before the upload: no sync
        # Host-to-device without a stream sync: the draws are fresh CPU tensors nobody mutates.
        params = {k: upload(v, clip.device) for k, v in params.items()}
        out = self.apply_transform(clip, params)
        if not everyone:  # the recorded draw decides which samples stay, not this p
            out = keep_unapplied(clip, out, params["applied"])
        return mark_checked(out.with_params(self.name, params))


def _all_true(applied: torch.Tensor) -> bool:
    """Whether every sample was applied; on a device, assume not (a check would sync)."""
    return bool(applied.all()) if applied.device.type == "cpu" else False


def keep_unapplied(before: Clip, after: Clip, applied: torch.Tensor) -> Clip:
    """Fields of ``after``, except the samples where ``applied`` is False, taken from ``before``.

    Fields that ``before`` lacks are kept from ``after``: a transform that creates a field
    must itself give unapplied samples its neutral value.
    """
    changes = {}
    for name, new in after.items():
        old = getattr(before, name)
        if old is not None and new is not old:
            mask = applied.view(-1, *([1] * (new.ndim - 1)))
            changes[name] = torch.where(mask, new, old)
    return after.replace(**changes) if changes else after


class Compose(nn.Module):
    """Chain transforms; replay a whole recorded chain from ``out.params``.

    Args:
        transforms: the transforms, applied in order; their names must be unique.

    Example:
        >>> import torch
        >>> from simcomp import Clip
        >>> from simcomp.transforms import Compose
        >>> chain = Compose([])
        >>> clip = Clip(background=torch.rand(1, 2, 3, 4, 4))
        >>> chain(clip).batch_size
        1

    """

    def __init__(self, transforms: Iterable[ClipTransform]) -> None:
        super().__init__()
        self.transforms = nn.ModuleList(transforms)
        names = [t.name for t in self.transforms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"transforms: names must be unique to record params, got duplicates {dupes}; "
                "give each a distinct name=..."
            )

    def forward(
        self,
        clip: Clip,
        generator: torch.Generator | None = None,
        params: Mapping[str, Mapping[str, torch.Tensor]] | None = None,
    ) -> Clip:
        """Run each transform in order with one generator, or replay ``params``."""
        generator = default_generator(generator) if params is None else None
        for t in self.transforms:
            if params is not None and t.name not in params:
                raise ValueError(f"params: no recorded params for transform {t.name!r}")
            clip = t(clip, generator, None if params is None else params[t.name])
        return clip
