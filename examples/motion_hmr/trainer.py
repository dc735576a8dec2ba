"""The training loop: simcomp's preset on the training device, Motion HMR, Adam, checkpoints."""

from __future__ import annotations

import csv
import dataclasses
import os
import signal
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from simcomp import Clip
from simcomp.cpu import reuse_freed_memory
from simcomp.data.synthetic import PHOTOS, background_clips, merge, person_clips
from simcomp.flow import concrete_names
from simcomp.presets import doersch2019
from simcomp.transforms import MotionInputs, input_channels
from simcomp.viz import contact_sheet, input_sheet

from .checkpoint import load_checkpoint, save_checkpoint
from .config import Config, validate
from .loss import motion_hmr_loss
from .model import KeypointLifter, MotionHMR

TRAIN_PHOTOS = tuple(range(len(PHOTOS) - 3))  # the evaluator keeps the last three apart


def pick_device(name: str) -> torch.device:
    """ "auto": CUDA when there is one (this rank's GPU under torchrun), else the CPU."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def build_model(cfg: Config) -> torch.nn.Module:
    """The model a config describes (shared with the evaluator).

    ``--model``: "motion_hmr" (the paper's), "temporal_hmr" (HMMR's 1-D temporal convolutions
    in place of the LSTM), "lifter" (a VideoPose3D-style lifter of the 2-D keypoints).
    """
    channels = input_channels(cfg.inputs)
    if cfg.model == "lifter":
        heat = [i for i, name in enumerate(channels) if name.startswith("heatmap_")]
        return KeypointLifter(heat, cfg.hidden)
    smpl = None
    if cfg.smpl_dir:
        import smplx

        smpl = smplx.create(cfg.smpl_dir, model_type="smpl")
    temporal = "conv" if cfg.model == "temporal_hmr" else "lstm"
    return MotionHMR(
        len(channels), cfg.arch, cfg.weights, cfg.hidden, smpl, cfg.dann_weight, temporal
    )


def build_pipeline(cfg: Config):
    """The augmentation (presets.doersch2019 with the config's switches)."""
    return doersch2019(
        occlusion=cfg.occlusion, tracking=cfg.tracking, static_background=cfg.static_background,
        inputs=cfg.inputs, crop_size=cfg.crop_size, estimator=cfg.estimator, flow=cfg.flow,
    )  # fmt: skip


class ClipSource:
    """Batches of person + background clips: built-in generators on the device, or readers."""

    def __init__(self, cfg: Config, device: torch.device, rank: int, world: int) -> None:
        self.cfg, self.device, self.rank, self.world = cfg, device, rank, world
        self.loader = None
        if cfg.surreal or cfg.backgrounds:
            from simcomp.data import PairedClips, SurrealClips, VideoFolder, collate_clips

            if not (cfg.surreal and cfg.backgrounds):
                raise ValueError(
                    "--surreal and --backgrounds go together (or neither: built-in data)"
                )
            pairs = PairedClips(
                SurrealClips(cfg.surreal, cfg.num_frames, seed=cfg.seed + rank,
                             skip_bad=cfg.skip_bad),  # fmt: skip
                VideoFolder(cfg.backgrounds, cfg.num_frames, cfg.image_size, cfg.seed + rank),
                length=10**9, seed=cfg.seed + 7919 * rank,
            )  # fmt: skip
            self.loader = iter(DataLoader(pairs, cfg.batch_size, collate_fn=collate_clips))

    def batch(self, step: int) -> Clip:
        """The batch of a step; distinct per rank, reproducible per (seed, rank, step)."""
        if self.loader is not None:
            return next(self.loader).to(self.device)
        g = torch.Generator().manual_seed((self.cfg.seed * 100_003 + step) * self.world + self.rank)
        n, t, size = self.cfg.batch_size, self.cfg.num_frames, tuple(self.cfg.image_size)
        return merge(
            person_clips(n, t, size, g, device=self.device),
            background_clips(n, t, size, g, device=self.device, photos=TRAIN_PHOTOS),
        )


class TargetDomain:
    """Real video clips for the DANN adversary (R29), as network inputs of a centred box.

    They have no labels: the adversary only learns to tell their per-frame features from the
    synthetic ones, and the reversed gradient teaches the backbone not to.
    """

    def __init__(self, cfg: Config, device: torch.device, rank: int) -> None:
        from simcomp.data import VideoFolder, collate_clips

        if not cfg.dann_target:
            raise ValueError("--dann-weight > 0 needs --dann-target FOLDER of real videos")
        videos = VideoFolder(cfg.dann_target, cfg.num_frames, cfg.image_size, cfg.seed + rank)
        sampler = torch.utils.data.RandomSampler(videos, replacement=True, num_samples=10**9)
        self.loader = iter(
            DataLoader(videos, cfg.batch_size, sampler=sampler, collate_fn=collate_clips)
        )
        self.inputs = MotionInputs(kinds=cfg.inputs, crop_size=cfg.crop_size)
        self.device = device

    def batch(self) -> torch.Tensor:
        """Inputs (B, T-1, C, S, S) of the next real clips, cropped at a centred square."""
        clip = next(self.loader).to(self.device)
        b, t = clip.batch_size, clip.num_frames
        h, w = clip.image_size
        side = min(h, w)
        box = torch.tensor([(w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2])
        clip = clip.replace(frames=clip.background, boxes=box.to(self.device).expand(b, t, 4))
        if "keypoints" in self.inputs.kinds:  # real videos come without detections: no heatmaps
            clip = clip.replace(
                crop_joints_2d=torch.zeros(b, t, 24, 2, device=self.device),
                visible=torch.zeros(b, t, 24, dtype=torch.bool, device=self.device),
            )
        return self.inputs(clip).inputs


def domain_loss(model: MotionHMR, source_features: torch.Tensor, target_inputs: torch.Tensor):
    """DANN: the adversary's logistic loss (synthetic 0, real 1) through gradient reversal."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    src = model.domain_logits(source_features)
    tgt = model.domain_logits(model.features(target_inputs))
    return bce(src, torch.zeros_like(src)) + bce(tgt, torch.ones_like(tgt))


def train(cfg: Config) -> Path:
    """Run training; returns the run folder.

    It holds config.json, log.csv, latest.pt, and pictures of the first augmented batch:
    inputs.png (the composite) and network_inputs.png (flow and heatmaps per pair).
    """
    validate(cfg)  # before anything is written
    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    device = pick_device(cfg.device)
    if device.type == "cpu":
        reuse_freed_memory()  # batched clips' temporaries: reuse, don't page-fault anew
    if world > 1:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    out = Path(cfg.out)
    model = build_model(cfg).to(device)
    optim = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start = 0
    latest = out / "latest.pt"
    state = load_checkpoint(latest, device) if cfg.resume else None
    # "auto" estimators become the names used on this device, so the checkpoint says which
    # flow the model learnt from (a resumed run keeps its checkpoint's).
    names = concrete_names(cfg.estimator, cfg.flow, device)
    if state is not None:
        names = tuple(state["config"].get(k, n) if getattr(cfg, k) == "auto" else n
                      for k, n in zip(("estimator", "flow"), names, strict=True))  # fmt: skip
    cfg = dataclasses.replace(cfg, estimator=names[0], flow=names[1])
    if state is not None:
        refuse_conflicts(cfg, state["config"], latest)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optimizer"])
        start = state["step"]
        torch.set_rng_state(state["rng"])
    net = model if world == 1 else torch.nn.parallel.DistributedDataParallel(model)
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    pipe, source = build_pipeline(cfg), ClipSource(cfg, device, rank, world)
    if cfg.dann_weight > 0 and world > 1:
        raise ValueError("--dann-weight: the adversary runs in single-process training only")
    target = TargetDomain(cfg, device, rank) if cfg.dann_weight > 0 else None
    if rank == 0:
        cfg.save(out)
    log = _Log(out / "log.csv", enabled=rank == 0, keep_until=start)
    bar = _progress(start, cfg.steps, rank == 0)
    tick, window = time.perf_counter(), []
    stop = _StopRequest()
    for step in range(start, cfg.steps):
        g = torch.Generator().manual_seed((cfg.seed * 999_983 + step) * world + rank)
        with torch.no_grad():
            clip = pipe(source.batch(step), g)
        if step == start and cfg.sheet and rank == 0:
            contact_sheet(clip, 0, out / "inputs.png", max_frames=8)
            input_sheet(clip, 0, out / "network_inputs.png", kinds=cfg.inputs)
        model.train()
        with torch.autocast(device.type, enabled=use_amp):
            predictions = net(clip.inputs)
        loss, parts = motion_hmr_loss(
            predictions, clip, cfg.crop_size, cfg.w3d, cfg.w2d, cfg.w3d_root
        )
        if target is not None:
            with torch.autocast(device.type, enabled=use_amp):
                parts["domain"] = domain_loss(model, predictions["features"], target.batch())
            loss = loss + parts["domain"]
        optim.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optim)
        scaler.update()
        rates = occlusion_rates(clip)
        window.append(torch.stack([loss.detach(), *parts.values(), *rates.values()]))
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            rate = cfg.batch_size * world * len(window) / (time.perf_counter() - tick)
            means = torch.stack(window).mean(0).tolist()  # one sync per log line
            tick, window = time.perf_counter(), []
            row = {"step": step + 1,
                   **dict(zip(["loss", *parts, *rates], means, strict=True)),
                   "clips_per_s": rate}  # fmt: skip
            log.write(row)
            bar.set_postfix(loss=f"{row['loss']:.4f}", clips_s=f"{rate:.2f}")
        bar.update(1)
        last = step + 1 == cfg.steps or stop.requested
        if rank == 0 and ((step + 1) % cfg.checkpoint_every == 0 or last):
            _save(out, model, optim, step + 1, cfg)
        if stop.requested:
            bar.write(f"{stop.requested}: checkpointed step {step + 1} to {latest}; "
                      "continue with --resume")  # fmt: skip
            break
    stop.restore()
    bar.close()
    if cfg.dump_rank_weights:
        torch.save(model.state_dict(), out / f"weights_rank{rank}.pt")
    if world > 1:
        torch.distributed.destroy_process_group()
    return out


# Options a resumed run may change: how long, where and how it reports; nothing it learns from.
RESUMABLE = {"steps", "resume", "device", "log_every", "checkpoint_every", "sheet",
             "dump_rank_weights"}  # fmt: skip


def occlusion_rates(clip) -> dict[str, torch.Tensor]:
    """Shares of the batch's clips that R10 kept occluded and that got a total occlusion.

    Read from the params the transforms record; absent steps give 0.
    """
    zero = torch.zeros((), device=clip.device)
    kept = clip.params.get("superpixel_occlusion", {}).get("kept")
    total = clip.params.get("total_occlusion", {}).get("occluded")
    return {
        "occluded_share": kept.float().mean() if kept is not None else zero,
        "total_occlusion_share": total.float().mean() if total is not None else zero,
    }


def refuse_conflicts(cfg: Config, saved: dict, path: Path) -> None:
    """Refuse a resume whose options differ from the checkpoint's (other than ``RESUMABLE``).

    Applying them would make config.json say one thing while the optimizer state says another.
    """
    theirs = Config.from_dict(saved)
    differ = [
        f"--{k.replace('_', '-')} {getattr(cfg, k)!r} (checkpoint: {getattr(theirs, k)!r})"
        for k in cfg.__dataclass_fields__
        if k not in RESUMABLE and getattr(cfg, k) != getattr(theirs, k)
    ]
    if differ:
        raise ValueError(
            f"--resume: {path} was trained with other options: {'; '.join(differ)}. "
            "Drop them to continue that run, or start a new one with another --out"
        )


class _StopRequest:
    """SIGTERM / SIGINT (a preempted job, Ctrl-C): finish the step, checkpoint, then stop."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested: str | None = None
        self.previous = {}
        try:
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread: signals cannot be caught here
            self.previous.clear()

    def _handle(self, signum, frame) -> None:
        self.requested = signal.Signals(signum).name

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _save(out: Path, model, optim, step: int, cfg: Config) -> None:
    state = {"model": model.state_dict(), "optimizer": optim.state_dict(), "step": step,
             "config": dataclasses.asdict(cfg), "rng": torch.get_rng_state()}  # fmt: skip
    save_checkpoint(out, state)


class _Log:
    """CSV log (and TensorBoard when it is installed), written by rank 0 only."""

    def __init__(self, path: Path, enabled: bool, keep_until: int = 0) -> None:
        """Start a log, or continue one: rows after step ``keep_until`` (logged after the
        checkpoint a run resumes from) are dropped, so a resumed run logs each step once."""
        self.path, self.enabled, self.writer, self.tb = path, enabled, None, None
        if not enabled:
            return
        kept = []
        if keep_until > 0 and path.exists():
            with open(path, newline="") as f:
                kept = [r for r in csv.DictReader(f) if int(r["step"]) <= keep_until]
        self.file = open(path, "w", newline="")  # noqa: SIM115
        if kept:
            self.writer = csv.DictWriter(self.file, fieldnames=list(kept[0]))
            self.writer.writeheader()
            self.writer.writerows(kept)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(path.parent / "tb"))
        except ImportError:
            pass

    def write(self, row: dict) -> None:
        if not self.enabled:
            return
        if self.writer is None:
            self.writer = csv.DictWriter(self.file, fieldnames=list(row))
            if self.file.tell() == 0:
                self.writer.writeheader()
        self.writer.writerow(row)
        self.file.flush()
        if self.tb is not None:
            for k, v in row.items():
                if k != "step":
                    self.tb.add_scalar(k, v, row["step"])


def _progress(start: int, total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=start, disable=not enabled, desc="train", unit="step")
