"""The trainer's configuration: a dataclass with the paper's defaults, presets, and the CLI."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path


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
    arch: str = "resnet50"
    hidden: int = 1024
    weights: str | None = None  # local ImageNet weights (.pth state dict); never downloaded
    smpl_dir: str | None = None  # folder with smpl/SMPL_NEUTRAL.pkl; None: joint head
    inputs: tuple[str, ...] = ("flow", "keypoints")  # Table 1
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
        data = json.loads(Path(path).read_text())
        for f in dataclasses.fields(cls):
            if isinstance(data.get(f.name), list):
                data[f.name] = tuple(data[f.name])
        return cls(
            **{k: v for k, v in data.items() if k in {f.name for f in dataclasses.fields(cls)}}
        )


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


def parse(argv: list[str] | None = None) -> Config:
    """``--preset NAME`` then ``--field value`` overrides for every Config field."""
    ap = argparse.ArgumentParser(description="Train Motion HMR on clips simcomp builds on the fly.")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="paper")
    for f in dataclasses.fields(Config):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            ap.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        elif "tuple" in str(f.type):
            ap.add_argument(flag, nargs="+", default=None)
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            ap.add_argument(flag, type=kind, default=None)
    args = vars(ap.parse_args(argv))
    values = dict(PRESETS[args.pop("preset")])
    for name, value in args.items():
        if value is not None:
            values[name] = value
    if "image_size" in values:
        values["image_size"] = tuple(int(v) for v in values["image_size"])
    if "inputs" in values:
        values["inputs"] = tuple(values["inputs"])
    return Config(**values)
