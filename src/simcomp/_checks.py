"""One shared checker for shapes, dtypes, devices and values at the library's boundary.

Every message names the argument, what was expected and what came, so a user can fix the call
without reading our source.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Dim = int | str | None  # an exact size, a named size that must agree across arguments, or any


def check_tensor(
    name: str,
    x: object,
    shape: Sequence[Dim],
    sizes: dict[str, int] | None = None,
    *,
    dtype: str | torch.dtype | None = None,
    device: torch.device | None = None,
    finite: bool = False,
) -> torch.Tensor:
    """Check one tensor and bind the named sizes of ``shape`` in ``sizes``.

    Args:
        name: the argument or field name used in messages.
        x: the value to check.
        shape: one entry per dimension: an int (exact), a str (a named size, bound on first use
            and then required to match), or None (any size).
        sizes: named sizes bound so far; updated in place.
        dtype: "float", "bool", "int", "uint8" or an exact torch dtype.
        device: required device, if any.
        finite: reject NaN (and +-inf) values.

    Returns:
        ``x`` unchanged.

    Raises:
        TypeError: ``x`` is not a tensor, or has the wrong dtype.
        ValueError: wrong rank, size, device, or non-finite values.

    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    sizes = {} if sizes is None else sizes
    want = "(" + ", ".join("*" if d is None else str(d) for d in shape) + ")"
    if x.ndim != len(shape):
        raise ValueError(f"{name}: expected shape {want}, got {tuple(x.shape)}")
    for axis, (dim, got) in enumerate(zip(shape, x.shape, strict=True)):
        if dim is None:
            continue
        if isinstance(dim, str):
            bound = sizes.setdefault(dim, got)
            if bound != got:
                raise ValueError(
                    f"{name}: expected shape {want} with {dim}={bound} (from an earlier field), "
                    f"got {tuple(x.shape)} ({dim}={got} at dim {axis})"
                )
        elif dim != got:
            raise ValueError(f"{name}: expected shape {want}, got {tuple(x.shape)}")
    if dtype is not None:
        ok = (
            {
                "float": x.is_floating_point(),
                "bool": x.dtype == torch.bool,
                "int": not x.is_floating_point() and not x.is_complex() and x.dtype != torch.bool,
                "uint8": x.dtype == torch.uint8,
            }.get(dtype, x.dtype == dtype)
            if isinstance(dtype, str)
            else x.dtype == dtype
        )
        if not ok:
            raise TypeError(f"{name}: expected dtype {dtype}, got {x.dtype}")
    if device is not None and x.device != torch.device(device):
        raise ValueError(
            f"{name}: expected device {device}, got {x.device}; move it with .to({str(device)!r})"
        )
    if finite and x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return x


def check_range(name: str, value: float, low: float, high: float) -> float:
    """Check ``low <= value <= high`` for a scalar argument."""
    if not (low <= value <= high):
        raise ValueError(f"{name}: expected a value in [{low}, {high}], got {value}")
    return value


def check_interval(name: str, interval: Sequence[float], low: float = -float("inf")) -> tuple:
    """Check a ``(min, max)`` pair with ``low <= min <= max``."""
    if len(interval) != 2 or not (low <= interval[0] <= interval[1]):
        raise ValueError(f"{name}: expected (min, max) with {low} <= min <= max, got {interval}")
    return (interval[0], interval[1])
