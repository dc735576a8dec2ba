"""The paper's ablations on one budget: train and evaluate every row, several seeds each.

    python examples/ablate.py --budget cpu-smoke --seeds 0 1     # minutes per row on 2 cores
    python examples/ablate.py --budget tiny --seeds 0            # seconds (what CI runs)

Rows: Table 2 (full; no occlusions; no tracking and no occlusions; static background and no
occlusions), Table 1's input rows (RGB, flow, keypoints, RGB + keypoints; flow + keypoints is
"full"), Table 3's clip lengths (8, 16, 31, 56; the budget's own length is "full"), and two
baselines on the same data: a VideoPose3D-style keypoint lifter and an HMMR-style temporal
encoder. Each row is trained with ``examples/train_motion_hmr.py``'s trainer and scored by
``examples/eval_3dpw.py`` on the built-in 3DPW-format set (or ``--data-root``). Writes
``ablation.csv`` (one line per row and seed), ``ablation.png`` (PA-MPJPE per row, a dot per
seed) and prints the table beside the paper's numbers.

At the paper's scale (a GPU, SURREAL, Kinetics-style backgrounds and 3DPW): ``--budget paper
--surreal ROOT --backgrounds FOLDER --data-root 3DPW --weights resnet50.pth`` trains 20,000
steps per row and seed (a few hours each on one GPU).
"""

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_3dpw  # noqa: E402
from motion_hmr.config import PRESETS, Config  # noqa: E402
from motion_hmr.trainer import train  # noqa: E402

# row -> (config changes, paper's PA-MPJPE on 3DPW in mm, table)
ROWS = {
    "full": ({}, 74.7, "Table 2"),
    "no occlusions": ({"occlusion": False}, 77.2, "Table 2"),
    "no tracking, no occlusions": ({"occlusion": False, "tracking": False}, 80.3, "Table 2"),
    "static background, no occlusions": (
        {"occlusion": False, "static_background": True}, 88.9, "Table 2"),
    "RGB only": ({"inputs": ("rgb",)}, 105.6, "Table 1"),
    "flow only": ({"inputs": ("flow",)}, 100.1, "Table 1"),
    "keypoints only": ({"inputs": ("keypoints",)}, 77.6, "Table 1"),
    "RGB + keypoints": ({"inputs": ("rgb", "keypoints")}, 82.4, "Table 1"),
    "clip length 8": ({"num_frames": 8}, 79.0, "Table 3"),
    "clip length 16": ({"num_frames": 16}, 77.8, "Table 3"),
    "clip length 31": ({"num_frames": 31}, 74.7, "Table 3"),
    "clip length 56": ({"num_frames": 56}, 76.2, "Table 3"),
    "VideoPose3D-style lifter": ({"model": "lifter", "inputs": ("keypoints",)}, 157.0, "Table 1"),
    "HMMR-style temporal encoder": ({"model": "temporal_hmr", "inputs": ("rgb",)}, 80.1,
                                    "Table 1"),
}  # fmt: skip

BUDGETS = {
    "tiny": dict(PRESETS["cpu-smoke"], steps=2, batch_size=1, image_size=(48, 64), crop_size=32,
                 hidden=16, num_frames=4),
    "cpu-smoke": dict(PRESETS["cpu-smoke"]),
    "paper": dict(PRESETS["paper"]),
}  # fmt: skip


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--budget", choices=sorted(BUDGETS), default="cpu-smoke",
                    help="training settings of every row")  # fmt: skip
    ap.add_argument("--steps", type=int, default=None, help="steps per run; unset: the budget's")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds per row")
    ap.add_argument("--rows", nargs="+", default=None, choices=sorted(ROWS), metavar="ROW",
                    help="a subset of the rows; unset: all")  # fmt: skip
    ap.add_argument("--out", default="runs/ablation", help="folder for runs, CSV and plot")
    ap.add_argument("--data-root", default=None, help="a 3DPW folder; unset: the built-in set")
    ap.add_argument("--surreal", default=None, help="SURREAL root for training")
    ap.add_argument("--backgrounds", default=None, help="background videos for training")
    ap.add_argument("--weights", default=None, help="local ImageNet weights for the ResNet")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda")
    args = ap.parse_args(argv)
    out = Path(args.out)
    base = dict(BUDGETS[args.budget], device=args.device, sheet=False, surreal=args.surreal,
                backgrounds=args.backgrounds, weights=args.weights)  # fmt: skip
    if args.steps is not None:
        base["steps"] = args.steps
    builtin = out / "builtin_3dpw"
    results = []
    for name in args.rows or list(ROWS):
        changes, paper, table = ROWS[name]
        for seed in args.seeds:
            cfg = Config(**{**base, **changes, "seed": seed,
                            "out": str(out / _slug(name) / f"seed{seed}")})  # fmt: skip
            run = train(cfg)
            scores = eval_3dpw.main(
                ["--checkpoint", str(run / "latest.pt"), "--clip-length", str(cfg.num_frames),
                 "--device", args.device]
                + (["--data-root", args.data_root] if args.data_root
                   else ["--builtin-root", str(builtin)])
            )["model"]  # fmt: skip
            results.append({"row": name, "table": table, "seed": seed, "paper": paper,
                            "steps": cfg.steps, **{k: scores[k] for k in
                                                   ("pa_mpjpe", "mpjpe", "pck")}})  # fmt: skip
    _write(results, out)
    print(summary(results))
    return results


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def summary(results: list[dict]) -> str:
    """The table: row, PA-MPJPE mean and spread over seeds, and the paper's number."""
    lines = [f"{'row':<36}{'PA-MPJPE (mm)':>16}{'seeds':>7}{'paper':>8}  table"]
    for name in dict.fromkeys(r["row"] for r in results):
        rows = [r for r in results if r["row"] == name]
        v = np.array([r["pa_mpjpe"] for r in rows])
        spread = f"{v.mean():.1f} ± {v.std():.1f}" if len(v) > 1 else f"{v.mean():.1f}"
        lines.append(f"{name:<36}{spread:>16}{len(v):>7}{rows[0]['paper']:>8.1f}  "
                     f"{rows[0]['table']}")  # fmt: skip
    return "\n".join(lines)


def _write(results: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "ablation.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    names = list(dict.fromkeys(r["row"] for r in results))
    values = [r["pa_mpjpe"] for r in results] + [r["paper"] for r in results]
    top = max(values) * 1.1
    w, h, left = 900, 28 * len(names) + 50, 280
    img = np.full((h, w, 3), 255, np.uint8)
    scale = (w - left - 20) / top
    for i, name in enumerate(names):
        y = 30 + 28 * i
        cv2.putText(img, name, (6, y + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
        rows = [r for r in results if r["row"] == name]
        paper = left + int(rows[0]["paper"] * scale)
        cv2.line(img, (paper, y - 9), (paper, y + 9), (0, 0, 220), 2)  # the paper: red tick
        for r in rows:  # each seed: a blue dot
            cv2.circle(img, (left + int(r["pa_mpjpe"] * scale), y), 5, (220, 90, 0), -1)
    cv2.putText(img, f"PA-MPJPE (mm), 0 to {top:.0f}; blue: a seed, red: the paper",
                (left, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)  # fmt: skip
    cv2.imwrite(str(out / "ablation.png"), img)


if __name__ == "__main__":
    main()
