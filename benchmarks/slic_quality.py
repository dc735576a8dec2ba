"""slic_video beside scikit-image's slic on the issue's quality measures, with and without R7.

    python -m benchmarks.slic_quality [--pan 6]     (from the repository root)

Built-in backgrounds (31 x 240 x 320 unless ``--frames``/``--size`` say otherwise, a pan of up
to ``--pan`` px/frame), n_segments 10, 20, 30 with two seeds each; per labelling: superpixels
per frame, explained variation of the colours, temporal coherence (footprints moved by the
true camera motion), the fraction of pixels outside their supervoxel's largest 6-connected
piece, and the smallest supervoxel over the mean size.
"Compensated" gives SLIC the camera-compensated coordinates of R7; "plain" the raw ones.

``--photos real`` measures instead on clips panned across real photos that the built-in set
does not use (scikit-image's clock, moon, page, text and microaneurysms, and a second pan of
the moon; ``--names`` and ``--first-seed`` pan across others, such as the built-in set's own
photos, with other seeds), R7's coordinates only, with a last column: the adjusted Rand
index between simcomp's and scikit-image's labellings of the same features, and "merge ARI":
the same between simcomp's small-piece merge and scikit-image's own, run on the same labels
(simcomp's k-means), and "ARI sk merge": scikit-image's labelling against simcomp's k-means
followed by scikit-image's own merge (what the ARI would be were the merge scikit-image's
search itself). ``--downsample`` sets slic_video's sampling step (default: its own choice;
1: every k-means iteration on the pixels, as scikit-image's).
"""

import argparse
import time

import numpy as np
import torch

from simcomp.cpu import reuse_freed_memory
from simcomp.data.synthetic import background_clips
from simcomp.functional.connectivity import connected_and_merged
from simcomp.functional.occlusion import slic_features
from simcomp.functional.slic import slic_seeds, slic_skimage, slic_video
from simcomp.metrics import (
    adjusted_rand_index,
    explained_variation,
    fragmented_share,
    temporal_coherence,
)

REAL_PHOTOS = ("clock", "moon", "page", "text", "microaneurysms", "moon")

COLUMNS = ("per frame", "explained var", "coherence", "fragmented", "min/mean size", "s/clip")


def measures(lab: torch.Tensor, colour: torch.Tensor, shift: torch.Tensor) -> list[float]:
    sizes = torch.bincount(lab.flatten())
    sizes = sizes[sizes > 0]
    per_frame = np.mean([len(torch.unique(frame)) for frame in lab])
    return [per_frame, explained_variation(lab, colour), temporal_coherence(lab, shift),
            fragmented_share(lab), float(sizes.min() / sizes.float().mean())]  # fmt: skip


def real_photo_clip(name: str, seed: int, frames: int, size: tuple[int, int], pan: float):
    """A clip panned across a scikit-image photo: background (1, T, 3, H, W), camera_shift."""
    import skimage.data

    img = torch.from_numpy(getattr(skimage.data, name)()).float() / 255
    img = img[..., None].expand(*img.shape, 3) if img.ndim == 2 else img[..., :3]
    canvas = torch.nn.functional.interpolate(
        img.permute(2, 0, 1)[None], size=(600, 800), mode="bilinear", antialias=True
    )
    g = torch.Generator().manual_seed(seed)
    velocity = (torch.rand(2, generator=g) * 2 - 1) * pan  # px/frame, (x, y)
    t = torch.arange(frames).float()[:, None] - frames // 2
    centre = torch.tensor([400.0, 300.0]) + t * velocity  # window centre per frame
    h, w = size
    ys, xs = torch.meshgrid(torch.arange(h) - h / 2 + 0.5, torch.arange(w) - w / 2 + 0.5,
                            indexing="ij")  # fmt: skip
    px = xs[None] + centre[:, 0, None, None]
    py = ys[None] + centre[:, 1, None, None]
    grid = torch.stack((px / 400 - 1, py / 300 - 1), -1)
    clip = torch.nn.functional.grid_sample(
        canvas.expand(frames, -1, -1, -1), grid, align_corners=False
    ).clamp(0, 1)
    shift = -(centre - centre[frames // 2])  # a static point moves against the window (R2)
    return clip[None], shift[None]


def _both_merges(feats, seeds, valid, step, downsample):
    """simcomp's small-piece merge and scikit-image's own, on the same k-means labels."""
    from skimage.segmentation._slic import _enforce_label_connectivity_cython

    raw = slic_video(feats, seeds, valid, step, downsample=downsample, enforce_connectivity=False)
    min_size = int(0.5 * raw[0].numel() / int(valid.sum()))  # scikit-image's, max_size unused
    ours = connected_and_merged(raw, torch.tensor([float(min_size)]))[0]
    lab = raw[0].numpy().astype(np.intp)
    theirs = _enforce_label_connectivity_cython(lab, min_size, lab.size + 1, start_label=0)
    return ours, torch.from_numpy(theirs)


def real_photos(args) -> None:
    rows: dict[int, list[list[float]]] = {}
    for n in (10, 20, 30):
        for i, name in enumerate(args.names.split(",")):
            seed = args.first_seed + i
            background, shift = real_photo_clip(name, seed, args.frames, tuple(args.size), args.pan)
            feats = slic_features(background, shift, torch.tensor([5e-4]))
            seeds, valid, step = slic_seeds((args.frames, *args.size), [n])
            colour = background[0].permute(0, 2, 3, 1)
            ours = slic_video(feats, seeds, valid, step, downsample=args.downsample)[0]
            ref = slic_skimage(feats, [n])[0]
            ari = adjusted_rand_index(ours, ref)
            merged, theirs = _both_merges(feats, seeds, valid, step, args.downsample)
            merge = adjusted_rand_index(merged, theirs)
            their_merge = adjusted_rand_index(theirs, ref)
            for key, lab in (("simcomp", ours), ("scikit-image", ref)):
                row = measures(lab, colour, shift[0]) + [ari, merge, their_merge]
                rows.setdefault((n, key), []).append(row)
    header = (*COLUMNS[:-1], "ARI", "merge ARI", "ARI sk merge")
    print(f"{'n':<5}{'labelling':<14}" + "".join(f"{c:>15}" for c in header))
    for (n, name), values in rows.items():
        means = np.mean(values, 0)
        print(f"{n:<5}{name:<14}" + "".join(f"{v:>15.4f}" for v in means))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pan", type=float, default=6.0)
    ap.add_argument("--frames", type=int, default=31)
    ap.add_argument("--size", type=int, nargs=2, default=(240, 320), metavar=("H", "W"))
    ap.add_argument("--photos", choices=("builtin", "real"), default="builtin")
    ap.add_argument("--downsample", type=int, default=None, help="slic_video's sampling step")
    ap.add_argument(
        "--names",
        default=",".join(REAL_PHOTOS),
        help="--photos real: scikit-image photos to pan across (comma-separated)",
    )
    ap.add_argument("--first-seed", type=int, default=0, help="--photos real: the pans' seeds")
    args = ap.parse_args()
    reuse_freed_memory()
    if args.photos == "real":
        real_photos(args)
        return
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
                        lab = slic_video(feats, seeds, valid, step, downsample=args.downsample)[0]
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
