"""Checkpoints that cannot run code: written atomically, read with ``weights_only=True``.

A checkpoint is a dict of tensors and plain Python values (model and optimizer state dicts,
the step, the config as a dict, the CPU RNG state). ``torch.load(..., weights_only=False)``
would unpickle arbitrary objects, so a crafted ``latest.pt`` could run a shell command on load;
``weights_only=True`` refuses anything but tensors and containers of plain values.
"""

from __future__ import annotations

from pathlib import Path

import torch

KEYS = ("model", "optimizer", "step", "config", "rng")


class CheckpointError(ValueError):
    """A checkpoint file that is missing, unreadable, unsafe or not one of ours."""


def save_checkpoint(folder: Path, state: dict) -> Path:
    """Write ``folder/latest.pt`` atomically (a temporary file, then a rename)."""
    tmp = folder / "latest.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(folder / "latest.pt")
    return folder / "latest.pt"


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """Read a trainer checkpoint safely.

    Raises:
        CheckpointError: one line naming the path and what is wrong (missing, truncated,
            empty, holding objects other than tensors and plain values, or lacking a key).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"{path}: no checkpoint there (train one with "
            "`python examples/train_motion_hmr.py --preset cpu-smoke`)"
        )
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # truncated zip, empty file, refused globals: several types
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise CheckpointError(
            f"{path}: not a readable simcomp checkpoint ({type(err).__name__}: {first[:200]})"
        ) from None
    if not isinstance(state, dict) or any(k not in state for k in KEYS):
        have = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"{path}: expected a trainer checkpoint with keys {list(KEYS)}, got {have} "
            "(a bare state dict? save with the trainer)"
        )
    return state
