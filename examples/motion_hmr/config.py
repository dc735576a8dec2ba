"""The trainer's configuration: a dataclass with the paper's defaults, presets, and the CLI."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from simcomp.flow import CAMERA_ESTIMATORS, DENSE_ESTIMATORS


@dataclasses.dataclass
class Config:
    """Every knob of a run; saved as ``config.json`` in the run folder."""

    out: str = "runs/motion_hmr"
    steps: int = 20000
    batch_size: int = 3  # clips per step (the paper's)
    num_frames: int = 31  # SPEC: 31-frame clips
    image_size: tuple[int, int] = (240, 320)
    crop_size: int = 224
    lr: float = 1e-4  # Adam
    model: str = "motion_hmr"  # or temporal_hmr (HMMR-style), lifter (VideoPose3D-style)
    arch: str = "resnet50"
    hidden: int = 1024
    weights: str | None = None  # local ImageNet weights (.pth state dict); never downloaded
    smpl_dir: str | None = None  # folder with smpl/SMPL_NEUTRAL.pkl; None: joint head
    inputs: tuple[str, ...] = ("flow", "keypoints")  # Table 1
    estimator: str = "auto"  # camera motion: sparse-lk, dis, phase; auto: by device, recorded
    flow: str = "auto"  # crop flow: dis, lucas-kanade; auto: by device, recorded as its name
    occlusion: bool = True  # Table 2
    tracking: bool = True
    static_background: bool = False
    dann_weight: float = 0.0  # R29: > 0 adds the domain adversary (needs dann_target)
    dann_target: str | None = None  # folder of real videos: the target domain for DANN
    surreal: str | None = None  # SURREAL root; None: built-in procedural people
    backgrounds: str | None = None  # folder of background videos; None: built-in photos
    skip_bad: bool = False  # skip unreadable SURREAL clips with a warning (videos always are)
    w2d: float = 1.0
    w3d: float = 1.0
    w3d_root: float = 0.0  # > 0 adds a pelvis-relative 3-D term: scale and orientation count
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # mixed precision on CUDA
    log_every: int = 10
    checkpoint_every: int = 500
    resume: bool = False
    sheet: bool = True  # contact sheet of the first augmented batch
    dump_rank_weights: bool = False  # every rank saves its final weights (to test DDP)

    def save(self, folder: Path) -> None:
        """Write ``config.json``."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(dataclasses.asdict(self), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> Config:
        """Read a ``config.json`` (tuples restored)."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        """A config from a saved dict (JSON or a checkpoint's): lists back to tuples, unknown
        keys dropped, missing ones at their defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v
                      for k, v in data.items() if k in names})  # fmt: skip


PRESETS = {
    "paper": {},
    # Finishes in minutes on a 2-core CPU and shows the loss falling.
    "cpu-smoke": dict(
        steps=200,
        batch_size=2,
        num_frames=8,
        image_size=(120, 160),
        crop_size=96,
        arch="resnet18",
        hidden=128,
        lr=3e-4,
        log_every=20,
        checkpoint_every=100,
        out="runs/cpu-smoke",
    ),  # fmt: skip
}


HELP = {
    "out": "run folder: config.json, log.csv, latest.pt and the pictures",
    "steps": "training steps (optimizer updates)",
    "batch_size": "clips per step (the paper: 3)",
    "num_frames": "frames per clip, T (the paper: 31); the network sees T - 1 pairs",
    "image_size": "frame height and width, two numbers (built-in data and video crops)",
    "crop_size": "side of the person crops fed to the network (HMR: 224)",
    "lr": "Adam learning rate",
    "model": "motion_hmr (the paper's: ResNet + BiLSTM), temporal_hmr (HMMR-style: 1-D "
    "temporal convolutions in place of the LSTM), lifter (VideoPose3D-style: dilated temporal "
    "convolutions over the 2-D keypoints; needs --inputs keypoints)",
    "arch": "backbone: resnet50 (the paper), resnet18 or resnet34",
    "hidden": "width of the regressor's hidden layers",
    "weights": "local ImageNet weights for the backbone (.pth state dict); never downloaded",
    "smpl_dir": "folder with smpl/SMPL_NEUTRAL.pkl: predict SMPL; unset: a joint head",
    "inputs": "network inputs (Table 1): any of rgb, flow, keypoints",
    "estimator": "camera-motion estimator: sparse-lk, dis, phase, or auto (sparse-lk on the "
    "CPU, phase on a "
    "GPU); the checkpoint records the one used and the evaluator uses it",
    "flow": "crop flow estimator: dis (DIS medium), dis-ultrafast-full, lucas-kanade, or auto "
    "(dis-ultrafast-full on the CPU, lucas-kanade on a GPU); recorded like --estimator",
    "occlusion": "supervoxel occlusion (Table 2: --no-occlusion)",
    "tracking": "the person moves with the camera (Table 2: --no-tracking)",
    "static_background": "one background frame repeated (Table 2)",
    "dann_weight": "weight of the domain adversary (R29); > 0 needs --dann-target",
    "dann_target": "folder of real videos: the target domain for the adversary",
    "surreal": "SURREAL root (cmu/<split>/run*/...); unset: built-in procedural people",
    "backgrounds": "folder of background videos (Kinetics-style); unset: built-in photos",
    "skip_bad": "skip unreadable SURREAL clips with a warning instead of stopping",
    "w2d": "weight of the 2-D reprojection loss",
    "w3d": "weight of the Procrustes-aligned 3-D loss",
    "w3d_root": "weight of a pelvis-relative 3-D loss (unaligned: teaches scale and "
    "orientation, so MPJPE means something); 0: the paper's loss only",
    "seed": "seed of the data, the augmentation and the initial weights",
    "device": "auto (CUDA when there is one), cpu, cuda or cuda:N",
    "amp": "mixed precision on CUDA",
    "log_every": "steps per log.csv row",
    "checkpoint_every": "steps per checkpoint (also at the end and on SIGTERM/SIGINT)",
    "resume": "continue the run in --out from its latest.pt",
    "sheet": "write inputs.png and network_inputs.png of the first batch",
    "dump_rank_weights": "every rank saves its final weights (to test DDP)",
}
MIN_IMAGE, MIN_CROP = 16, 16


def validate(cfg: Config) -> Config:
    """Refuse settings the trainer cannot run, before anything is written.

    Raises:
        ValueError: naming the option, what it needs and what came.
    """

    def need(ok: bool, option: str, want: str, got) -> None:
        if not ok:
            raise ValueError(f"--{option.replace('_', '-')}: expected {want}, got {got}")

    need(len(cfg.image_size) == 2, "image_size", "two numbers (height width)", cfg.image_size)
    need(min(cfg.image_size) >= MIN_IMAGE, "image_size", f"sides >= {MIN_IMAGE}", cfg.image_size)
    need(cfg.crop_size >= MIN_CROP, "crop_size", f">= {MIN_CROP}", cfg.crop_size)
    need(cfg.num_frames >= 2, "num_frames", ">= 2 (the network sees pairs)", cfg.num_frames)
    need(cfg.batch_size >= 1, "batch_size", ">= 1", cfg.batch_size)
    need(cfg.steps >= 1, "steps", ">= 1", cfg.steps)
    need(cfg.lr > 0, "lr", "> 0", cfg.lr)
    need(cfg.log_every >= 1 and cfg.checkpoint_every >= 1, "log_every",
         "log and checkpoint intervals >= 1", (cfg.log_every, cfg.checkpoint_every))  # fmt: skip
    need(cfg.arch in ARCHS, "arch", f"one of {ARCHS}", repr(cfg.arch))
    need(cfg.model in MODELS, "model", f"one of {MODELS}", repr(cfg.model))
    need(cfg.model != "lifter" or "keypoints" in cfg.inputs, "inputs",
         "keypoints among them for --model lifter", cfg.inputs)  # fmt: skip
    need(cfg.model != "lifter" or cfg.dann_weight == 0, "dann_weight",
         "0 for --model lifter (no image features to adapt)", cfg.dann_weight)  # fmt: skip
    kinds = {"rgb", "flow", "keypoints"}
    need(bool(cfg.inputs) and set(cfg.inputs) <= kinds, "inputs", f"some of {sorted(kinds)}",
         cfg.inputs)  # fmt: skip
    need(cfg.estimator in CAMERA_ESTIMATORS, "estimator", ", ".join(CAMERA_ESTIMATORS),
         repr(cfg.estimator))  # fmt: skip
    need(cfg.flow in DENSE_ESTIMATORS, "flow", ", ".join(DENSE_ESTIMATORS),
         repr(cfg.flow))  # fmt: skip
    for option in ("weights", "smpl_dir", "surreal", "backgrounds", "dann_target"):
        path = getattr(cfg, option)
        need(path is None or Path(path).exists(), option, "an existing path", repr(path))
    need(cfg.dann_weight == 0 or cfg.dann_target is not None, "dann_target",
         "a folder when --dann-weight > 0", None)  # fmt: skip
    return cfg


ARCHS = ("resnet18", "resnet34", "resnet50")
MODELS = ("motion_hmr", "temporal_hmr", "lifter")


def parse(argv: list[str] | None = None) -> Config:
    """``--preset NAME`` then ``--field value`` overrides for every Config field, validated."""
    presets = "; ".join(
        f"{name}: " + (", ".join(f"{k}={v}" for k, v in values.items()) or "the paper's settings")
        for name, values in PRESETS.items()
    )
    ap = argparse.ArgumentParser(
        description="Train Motion HMR on clips simcomp builds on the fly.",
        epilog="Defaults shown are the paper preset's; --preset changes them first, then "
        "the options given.",
    )
    ap.add_argument("--preset", choices=sorted(PRESETS), default="paper",
                    help=f"starting settings ({presets}) (default: paper)")  # fmt: skip
    defaults = Config()
    for f in dataclasses.fields(Config):
        flag = "--" + f.name.replace("_", "-")
        shown = getattr(defaults, f.name)
        kw = {"default": None, "help": f"{HELP[f.name]} (default: {shown})"}
        if f.type in ("bool", bool):
            ap.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
        elif "tuple" in str(f.type):
            ap.add_argument(flag, nargs="+", **kw)
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            ap.add_argument(flag, type=kind, **kw)
    args = vars(ap.parse_args(argv))
    values = dict(PRESETS[args.pop("preset")])
    for name, value in args.items():
        if value is not None:
            values[name] = value
    if "image_size" in values:
        try:
            values["image_size"] = tuple(int(v) for v in values["image_size"])
        except ValueError:
            ap.error(f"--image-size: expected two integers, got {values['image_size']}")
    if "inputs" in values:
        values["inputs"] = tuple(values["inputs"])
    try:
        return validate(Config(**values))
    except ValueError as err:
        ap.error(str(err))
