"""Background clips from a folder of videos (Kinetics-style), read with OpenCV.

The paper's procedure: a random T-frame window, resized so one side matches the target
exactly, then randomly cropped to it (240 x 320). Videos too short or unreadable are skipped
with a warning that names the file; the index of frame counts is built once and cached.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..clip import Clip
from .surreal import read_video

VIDEO_SUFFIXES = (".mp4", ".avi", ".webm", ".mkv", ".mov")
INDEX_NAME = ".simcomp_video_index.json"


def frame_count(path: Path) -> int:
    """Frames OpenCV reports for a video; 0 when it cannot open it."""
    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    cap.release()
    return n


def resize_and_crop(
    frames: np.ndarray, size: tuple[int, int], u: tuple[float, float]
) -> np.ndarray:
    """Resize (T, H, W, 3) so it covers ``size`` with one side exact, then crop at fractions u."""
    h, w = frames.shape[1:3]
    th, tw = size
    scale = max(th / h, tw / w)
    nh, nw = max(th, round(h * scale)), max(tw, round(w * scale))
    resized = np.stack([cv2.resize(f, (nw, nh), interpolation=cv2.INTER_AREA) for f in frames])
    y0, x0 = int(u[0] * (nh - th + 1)), int(u[1] * (nw - tw + 1))
    return resized[:, y0 : y0 + th, x0 : x0 + tw]


class VideoFolder(Dataset):
    """Random T-frame background windows from every video under ``root`` (recursively).

    Item ``i`` is a Clip (B = 1) with ``background`` (1, T, 3, H, W); it depends only on
    ``(seed, i)``, so workers and ranks draw distinct, reproducible windows by index.

    Args:
        root: folder of videos.
        num_frames: T.
        size: (H, W) after resize and crop.
        seed: base seed of the window and crop draws.
        cache: where the frame-count index is kept (default: ``root/.simcomp_video_index.json``).
    """

    def __init__(
        self,
        root: str | Path,
        num_frames: int = 31,
        size: tuple[int, int] = (240, 320),
        seed: int = 0,
        cache: str | Path | None = None,
    ) -> None:
        self.root, self.num_frames, self.size, self.seed = Path(root), num_frames, size, seed
        if not self.root.is_dir():
            raise FileNotFoundError(f"root: {self.root} is not a folder of videos")
        self.cache = Path(cache) if cache is not None else self.root / INDEX_NAME
        self.videos = [(p, n) for p, n in self._index() if self._usable(p, n)]
        if not self.videos:
            raise ValueError(
                f"root: no readable video of at least {num_frames} frames under {root}"
            )

    def _index(self) -> list[tuple[Path, int]]:
        files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
        cached = {}
        if self.cache.exists():
            try:
                cached = json.loads(self.cache.read_text())
            except ValueError:
                warnings.warn(f"{self.cache}: unreadable index, rebuilding it", stacklevel=3)
        key = lambda p: f"{p.relative_to(self.root)}:{p.stat().st_mtime_ns}"  # noqa: E731
        counts = {key(p): cached.get(key(p)) for p in files}
        for p in files:
            if counts[key(p)] is None:
                counts[key(p)] = frame_count(p)
        if counts != cached:
            try:
                self.cache.write_text(json.dumps(counts))
            except OSError:
                pass  # a read-only data set still works, just without the cache
        return [(p, counts[key(p)]) for p in files]

    def _usable(self, path: Path, count: int) -> bool:
        if count < self.num_frames:
            why = "cannot be read" if count == 0 else f"has {count} frames"
            warnings.warn(f"{path}: skipped, it {why} (need {self.num_frames})", stacklevel=3)
            return False
        return True

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> Clip:
        g = np.random.default_rng((self.seed, index))
        for attempt in range(len(self.videos)):  # a video whose count lied: warn, take the next
            path, count = self.videos[(index + attempt) % len(self.videos)]
            start = int(g.integers(0, count - self.num_frames + 1))
            try:
                frames = read_video(path, start, self.num_frames)
                break
            except ValueError as e:
                warnings.warn(f"{path}: skipped at read time ({e})", stacklevel=2)
        else:
            raise ValueError(f"root: none of the {len(self.videos)} videos could be read")
        frames = resize_and_crop(frames, self.size, tuple(g.random(2)))
        bg = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)[None]
        return Clip(background=bg)
