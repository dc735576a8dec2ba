"""slic_video beside scikit-image's slic on the issue's quality measures, with and without R7.

    python -m benchmarks.slic_quality [--pan 6]     (from the repository root)

Built-in backgrounds (31 x 240 x 320 unless ``--frames``/``--size`` say otherwise, a pan of up
to ``--pan`` px/frame), n_segments 10, 20, 30 with two seeds each; per labelling: superpixels
per frame, explained variation of the colours, temporal coherence (footprints moved by the
true camera motion), the fraction of pixels outside their supervoxel's largest 6-connected
piece, and the smallest supervoxel over the mean size.
"Compensated" gives SLIC the camera-compensated coordinates of R7; "plain" the raw ones.
"""

import argparse
import time

import numpy as np
import torch

from simcomp.cpu import reuse_freed_memory
from simcomp.data.synthetic import background_clips
from simcomp.functional.occlusion import slic_features
from simcomp.functional.slic import slic_seeds, slic_skimage, slic_video
from simcomp.metrics import explained_variation, fragmented_share, temporal_coherence

COLUMNS = ("per frame", "explained var", "coherence", "fragmented", "min/mean size", "s/clip")


def measures(lab: torch.Tensor, colour: torch.Tensor, shift: torch.Tensor) -> list[float]:
    sizes = torch.bincount(lab.flatten())
    sizes = sizes[sizes > 0]
    per_frame = np.mean([len(torch.unique(frame)) for frame in lab])
    return [per_frame, explained_variation(lab, colour), temporal_coherence(lab, shift),
            fragmented_share(lab), float(sizes.min() / sizes.float().mean())]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pan", type=float, default=6.0)
    ap.add_argument("--frames", type=int, default=31)
    ap.add_argument("--size", type=int, nargs=2, default=(240, 320), metavar=("H", "W"))
    args = ap.parse_args()
    reuse_freed_memory()
    rows: dict[tuple[str, str], list[list[float]]] = {}
    for compensated in (True, False):
        for n in (10, 20, 30):
            for seed in (0, 1):
                g = torch.Generator().manual_seed(50 + seed)
                clip = background_clips(1, args.frames, tuple(args.size), g, max_pan=args.pan)
                shift = clip.camera_shift if compensated else torch.zeros_like(clip.camera_shift)
                feats = slic_features(clip.background, shift, torch.tensor([5e-4]))
                seeds, valid, step = slic_seeds((args.frames, *args.size), [n])
                colour = clip.background[0].permute(0, 2, 3, 1)
                for name in ("simcomp", "scikit-image"):
                    start = time.perf_counter()
                    if name == "simcomp":
                        lab = slic_video(feats, seeds, valid, step)[0]
                    else:
                        lab = slic_skimage(feats, [n])[0]
                    took = time.perf_counter() - start
                    key = ("compensated" if compensated else "plain", name)
                    rows.setdefault(key, []).append(
                        measures(lab, colour, clip.camera_shift[0]) + [took]
                    )
    print(f"{'coordinates':<13}{'labelling':<14}" + "".join(f"{c:>15}" for c in COLUMNS))
    for (coords, name), values in rows.items():
        means = np.mean(values, 0)
        print(f"{coords:<13}{name:<14}" + "".join(f"{v:>15.4f}" for v in means))


if __name__ == "__main__":
    main()
