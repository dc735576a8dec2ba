"""Pair person clips and background clips drawn independently (68K x 300K in the paper)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch.utils.data import Dataset

from ..clip import Clip


def merge(person: Clip, background: Clip) -> Clip:
    """One Clip with the fields of both (person fields win where both are set)."""
    fields = {n: v for n, v in background.items()}
    fields.update(dict(person.items()))
    return Clip(**fields)


def collate_clips(clips: Sequence[Clip]) -> Clip:
    """``collate_fn`` for a DataLoader of single clips: concatenate along the batch."""
    return Clip.cat(list(clips))


class PairedClips(Dataset):
    """Item ``i``: a random person clip merged with an independently drawn background clip.

    Both sources are Datasets of Clips with B = 1 (e.g. ``surreal.SurrealClips``-style readers,
    :class:`~simcomp.data.videos.VideoFolder`). Draws depend only on ``(seed, i)``, so workers
    and ranks get distinct, reproducible pairs by index.

    Args:
        persons: Dataset of person Clips.
        backgrounds: Dataset of background Clips (same T, H, W).
        length: number of items.
        seed: base seed.
    """

    def __init__(self, persons: Dataset, backgrounds: Dataset, length: int, seed: int = 0):
        if len(persons) == 0 or len(backgrounds) == 0:
            raise ValueError("persons, backgrounds: expected non-empty datasets")
        self.persons, self.backgrounds, self.length, self.seed = persons, backgrounds, length, seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Clip:
        g = np.random.default_rng((self.seed, index))
        person = self.persons[int(g.integers(len(self.persons)))]
        background = self.backgrounds[int(g.integers(len(self.backgrounds)))]
        return merge(person, background)
