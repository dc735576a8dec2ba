"""Built-in data: procedural person clips over real-photo background clips, seeded and batched.

``python -m simcomp.data.synthetic --out preview.png`` writes a contact sheet of a few
generated clips.
"""

from __future__ import annotations

import argparse
import dataclasses

import torch
from torch.utils.data import Dataset

from ..clip import Clip
from .backgrounds import PHOTOS, background_clips
from .humans import MOTIONS, person_clips
from .paired import merge

__all__ = ["MOTIONS", "PHOTOS", "SyntheticClips", "background_clips", "merge", "person_clips"]


@dataclasses.dataclass
class SyntheticClips(Dataset):
    """A map-style Dataset of whole batches: item ``i`` is a Clip of person + background clips.

    Batches are generated whole (batched rendering beats per-sample work), so use it with
    ``DataLoader(dataset, batch_size=None)``. Item ``i`` depends only on ``(seed, i)``: workers
    and ranks get distinct, reproducible streams by taking distinct indices (a
    ``DistributedSampler`` does). Person and background clips come from two independent
    streams, so any person meets any background.

    Args:
        length: number of batches.
        batch_size: clips per batch.
        num_frames: T.
        size: (H, W).
        seed: base seed.
        dtype: float dtype of the image fields.
        static_background: R4's static mode for the backgrounds.
        photos: indices into ``PHOTOS`` for the backgrounds (default: all).
    """

    length: int = 1000
    batch_size: int = 8
    num_frames: int = 31
    size: tuple[int, int] = (240, 320)
    seed: int = 0
    dtype: torch.dtype = torch.float32
    static_background: bool = False
    photos: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Clip:
        if not 0 <= index < self.length:
            raise IndexError(f"index: expected in [0, {self.length}), got {index}")
        key = (self.seed * 1_000_003 + index) * 2  # deterministic across processes
        person_gen = torch.Generator().manual_seed(key)
        bg_gen = torch.Generator().manual_seed(key + 1)
        n, t = self.batch_size, self.num_frames
        clip = merge(
            person_clips(n, t, self.size, person_gen),
            background_clips(n, t, self.size, bg_gen, static=self.static_background,
                             photos=self.photos),
        )  # fmt: skip
        cast = {k: v.to(self.dtype) for k, v in clip.items() if v.is_floating_point()}
        return clip.replace(**cast)


def main(argv: list[str] | None = None) -> None:
    """Write a contact sheet of a few generated clips."""
    from ..viz import GREEN, contact_sheet, with_legend

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="preview.png", help="PNG to write")
    ap.add_argument("--clips", type=int, default=3, help="clips in the sheet, one row each")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    import numpy as np
    from PIL import Image

    clip = SyntheticClips(length=1, batch_size=args.clips, seed=args.seed)[0]
    rows = [
        contact_sheet(clip, i, max_frames=6, columns=6, legend=False)
        for i in range(clip.batch_size)
    ]
    lines = ["procedural people over real photos with a known camera path; "
             f"{args.clips} clips of {clip.num_frames} frames, every 6th shown"]  # fmt: skip
    sheet = with_legend(np.concatenate(rows), [(GREEN, "keypoint")], lines)
    Image.fromarray(sheet).save(args.out)
    print(f"wrote {args.out}: {args.clips} clips of {clip.num_frames} frames, every 6th shown")


if __name__ == "__main__":
    main()
