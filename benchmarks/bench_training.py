"""How much of a Motion HMR training step the augmentation takes (issue goal: under 5% on a GPU).

One step of ``examples/train_motion_hmr.py`` at the paper's settings (3 clips of 31 frames,
ResNet-50 on 224 x 224 crops, Adam, mixed precision on CUDA) is timed in two parts on the same
batch: ``presets.doersch2019`` on the raw clips, and the model's forward, loss, backward and
optimiser step on what it made. The summary prints the augmentation's share of the sum.
"""

import sys
import time
from pathlib import Path

import pytest
import torch

from benchmarks.conftest import FRAMES, QUICK, SHARES, SIZE, report, timed
from simcomp.data.synthetic import SyntheticClips

pytest.importorskip("torchvision", reason="the trainer example needs the 'examples' extra")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from motion_hmr.config import Config  # noqa: E402
from motion_hmr.loss import motion_hmr_loss  # noqa: E402
from motion_hmr.trainer import build_model, build_pipeline  # noqa: E402

SMALL = dict(arch="resnet18", hidden=64, crop_size=64) if QUICK else {}
CFG = Config(num_frames=FRAMES, image_size=SIZE, **SMALL)


@pytest.fixture(scope="module")
def raw_clips():
    return SyntheticClips(1, CFG.batch_size, CFG.num_frames, CFG.image_size, seed=2)[0]


def test_motion_hmr_step(benchmark, device, raw_clips):
    torch.manual_seed(0)
    model = build_model(CFG).to(device).train()
    optim = torch.optim.Adam(model.parameters(), lr=CFG.lr)
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    pipe, raw = build_pipeline(CFG), raw_clips.to(device)
    g = torch.Generator().manual_seed(0)

    def augment():
        with torch.no_grad():
            return pipe(raw, g)

    clip = augment()

    def step():
        with torch.autocast(device.type, enabled=amp):
            predictions = model(clip.inputs)
        loss, _ = motion_hmr_loss(predictions, clip, CFG.crop_size)
        optim.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optim)
        scaler.update()

    rounds = 1 if QUICK or device.type == "cpu" else 10
    benchmark.pedantic(timed(device, step), rounds=rounds, warmup_rounds=1)
    step_s = report(benchmark, CFG.batch_size, "motion_hmr_train_step", device, CFG.batch_size)
    if step_s:  # None under --benchmark-disable: nothing to compare with
        SHARES[str(device)] = (_mean_seconds(timed(device, augment), rounds), step_s)


def _mean_seconds(fn, rounds):
    fn()
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds
