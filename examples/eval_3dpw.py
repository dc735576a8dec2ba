"""Evaluate a Motion HMR checkpoint on 3DPW (SPEC R30-R33), or on a built-in 3DPW-format set.

    python examples/eval_3dpw.py                                   # built-in set, cpu-smoke run
    python examples/eval_3dpw.py --checkpoint runs/x/latest.pt --data-root /data/3DPW

Only load 3DPW pickles you trust: unpickling can run code.
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))

from motion_hmr.builtin_3dpw import write_builtin_3dpw  # noqa: E402
from motion_hmr.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from motion_hmr.config import Config  # noqa: E402
from motion_hmr.evaluate import (  # noqa: E402
    Protocol,
    aggregate,
    draw_predictions,
    nan_mean,
    predict_track,
    score_track,
)
from motion_hmr.trainer import build_model, pick_device  # noqa: E402

from simcomp.data.pw3d import load_split  # noqa: E402
from simcomp.data.synthetic import person_clips  # noqa: E402
from simcomp.flow import DENSE_ESTIMATORS, concrete_names  # noqa: E402

METRICS = """\
What the columns mean (millimetres, the 14 LSP joints, per scored frame):
  PA-MPJPE  mean joint error after Procrustes alignment (rotation, scale, translation): the
            paper's metric, and what the example's 3-D loss trains.
  MPJPE     mean joint error after subtracting the pelvis only: it also counts scale and
            orientation, which the Procrustes-aligned loss never teaches, so a trained model
            can score worse here than the mean pose.
  PCK       share of joints within --pck-threshold metres after Procrustes alignment.
  accel     acceleration error (HMMR): |x[t-1] - 2 x[t] + x[t+1]| of prediction minus truth,
            pelvis-centred; nan when a track has no run of 3 consecutive scored frames.
A frame is scored when at least --min-visible joints are detected above --confidence."""


def mean_pose(n=64) -> np.ndarray:
    """The mean-pose baseline: the average root-centred pose of the built-in training people."""
    clip = person_clips(n, 8, (120, 160), torch.Generator().manual_seed(1))
    j = clip.joints_3d - clip.joints_3d[..., :1, :]
    return j.mean((0, 1)).double().numpy()


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults after each option; the epilog's layout kept."""


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=_Formatter,
        epilog=METRICS,
    )
    ap.add_argument("--checkpoint", default="runs/cpu-smoke/latest.pt",
                    help="a latest.pt written by train_motion_hmr.py")  # fmt: skip
    ap.add_argument(
        "--data-root",
        default=None,
        help="3DPW folder (sequenceFiles/, imageFiles/); unset: the built-in set",
    )
    ap.add_argument("--builtin-root", default="runs/builtin_3dpw",
                    help="where the built-in 3DPW-format set is written once")  # fmt: skip
    ap.add_argument("--split", default="test", choices=("train", "validation", "test"),
                    help="3DPW split")  # fmt: skip
    ap.add_argument("--skip-bad", action=argparse.BooleanOptionalAction, default=False,
                    help="skip unreadable sequence files with a warning")  # fmt: skip
    ap.add_argument("--out", default=None,
                    help="JSON results; unset: eval_3dpw.json next to the checkpoint")  # fmt: skip
    ap.add_argument("--device", default="auto", help="auto (CUDA when there is one), cpu, cuda")
    ap.add_argument("--flow", default=None, choices=sorted(set(DENSE_ESTIMATORS) - {"auto"}),
                    help="crop flow estimator; unset: the checkpoint's")  # fmt: skip
    for f in Protocol.__dataclass_fields__.values():
        flag = "--" + f.name.replace("_", "-")
        help_ = Protocol.HELP[f.name]
        if isinstance(f.default, bool):  # type=bool would read "False" as True
            ap.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default,
                            help=help_)  # fmt: skip
        elif f.name == "averaging":
            ap.add_argument(flag, choices=("frame", "person", "sequence"), default=f.default,
                            help=help_)  # fmt: skip
        else:
            ap.add_argument(flag, type=type(f.default), default=f.default, help=help_)
    args = ap.parse_args(argv)
    proto = Protocol(**{k: getattr(args, k) for k in Protocol.__dataclass_fields__})
    ckpt = Path(args.checkpoint)
    device = pick_device(args.device)
    try:
        state = load_checkpoint(ckpt, device)
    except CheckpointError as err:
        ap.error(f"--checkpoint: {err}")
    cfg = Config.from_dict(state["config"])
    if args.flow is not None:
        cfg = dataclasses.replace(cfg, flow=args.flow)
    cfg = dataclasses.replace(cfg, flow=concrete_names("auto", cfg.flow, device)[1])
    model = build_model(cfg).to(device).eval()
    model.load_state_dict(state["model"])
    root = Path(args.data_root) if args.data_root else write_builtin_3dpw(args.builtin_root)
    tracks = load_split(root, args.split, skip_bad=args.skip_bad)
    print(f"protocol: {proto.describe()}; data: {root} ({len(tracks)} tracks); "
          f"joints: SMPL kinematic, LSP-14 order; crop flow: {cfg.flow}")  # fmt: skip
    mean = mean_pose()
    rows = {"model": [], "mean_pose": []}
    for i, track in enumerate(tqdm(tracks, desc="eval", unit="track")):
        pred = predict_track(model, track, cfg, proto, device)
        for name, p in (("model", pred), ("mean_pose", np.broadcast_to(mean, pred.shape))):
            r = score_track(np.ascontiguousarray(p), track, proto)
            r.update(sequence=track.sequence, person=f"{track.sequence}/{track.actor}")
            rows[name].append(r)
        if i == 0:
            draw_predictions(track, pred, ckpt.parent / "predictions.png")
    results = {"protocol": proto.__dict__, "checkpoint": str(ckpt), "data": str(root)}
    print(f"\n{'sequence':<24}{'PA-MPJPE':>10}{'MPJPE':>10}{'PCK':>8}{'accel':>8}  (mm, model)")
    for r in rows["model"]:
        s = r["scored"]
        print(f"{r['person']:<24}{nan_mean(r['pa_mpjpe'][s]):>10.1f}{nan_mean(r['mpjpe'][s]):>10.1f}"
              f"{nan_mean(r['pck'][s]):>8.2f}{nan_mean(r['accel']):>8.1f}")  # fmt: skip
    for name, rs in rows.items():
        results[name] = aggregate(rs, proto)
        m = results[name]
        print(f"{'overall ' + name:<24}{m['pa_mpjpe']:>10.1f}{m['mpjpe']:>10.1f}{m['pck']:>8.2f}"
              f"{m['accel']:>8.1f}")  # fmt: skip
    print(METRICS)
    out = Path(args.out) if args.out else ckpt.parent / "eval_3dpw.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out} and {ckpt.parent / 'predictions.png'}")
    return results


if __name__ == "__main__":
    main()
