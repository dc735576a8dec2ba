"""One picture per transform of ``presets.doersch2019``, on the built-in data.

    python examples/gallery.py                      # docs/gallery/*.png, as in the README
    python examples/gallery.py --out /tmp/g --frames 5 --size 60 80   # a quick look

Each picture is the clip after one more step of the pipeline, with its legend: the input
(person and background as sampled), camera-tracked compositing, supervoxel occlusion, total
occlusion, keypoint visibility, the HMR crop, and the network inputs; then the whole clip as
``pipeline.png`` and ``pipeline.gif``. The seed is one whose clip shows every augmentation (an
occluder kept, a total occlusion drawn).
"""

import argparse
import sys
from pathlib import Path

import torch

from simcomp.data.synthetic import SyntheticClips
from simcomp.presets import doersch2019
from simcomp.transforms import Compose
from simcomp.viz import contact_sheet, input_sheet, save_gif


def main(argv=None) -> list[Path]:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    ap.add_argument("--out", default="docs/gallery", help="folder for the PNGs")
    ap.add_argument("--frames", type=int, default=31, help="frames per clip")
    ap.add_argument("--size", type=int, nargs=2, default=(240, 320), help="frame height width")
    ap.add_argument("--crop-size", type=int, default=112, help="side of the network's crops")
    ap.add_argument("--seed", type=int, default=0, help="augmentation seed")
    ap.add_argument("--batch", type=int, default=4, help="clips generated")
    ap.add_argument("--index", type=int, default=3, help="the clip shown")
    ap.add_argument("--show", type=int, default=4, help="frames per picture")
    args = ap.parse_args(argv)
    out = Path(args.out)
    clip = SyntheticClips(1, args.batch, args.frames, tuple(args.size), seed=0)[0]
    pipe = doersch2019(crop_size=args.crop_size)
    g = torch.Generator().manual_seed(args.seed)
    written = [out / "0_input.png"]
    contact_sheet(clip, args.index, written[0], max_frames=args.show, columns=args.show)
    for i, step in enumerate(pipe.transforms, 1):
        clip = Compose([step])(clip, g)
        path = out / f"{i}_{step.name}.png"
        if step.name == "motion_inputs":
            input_sheet(clip, args.index, path, kinds=step.kinds, max_pairs=args.show)
        else:
            contact_sheet(clip, args.index, path, max_frames=args.show, columns=args.show)
        written.append(path)
    written.append(out / "pipeline.png")  # the whole preset, more frames
    contact_sheet(clip, args.index, written[-1], max_frames=8, columns=4)
    written.append(save_gif(clip, out / "pipeline.gif", args.index))
    print("wrote", *written, sep="\n  ", file=sys.stdout)
    return written


if __name__ == "__main__":
    main()
