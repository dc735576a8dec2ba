"""The Motion HMR example (SPEC R25-R29): model, loss, selection, smplx path, DDP."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("torchvision", reason="the trainer example needs the 'examples' extra")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))

from motion_hmr.config import Config, parse  # noqa: E402
from motion_hmr.loss import motion_hmr_loss  # noqa: E402
from motion_hmr.model import MotionHMR, per_frame, rot6d_to_matrix  # noqa: E402
from motion_hmr.trainer import build_pipeline  # noqa: E402

from simcomp.data.synthetic import background_clips, merge, person_clips  # noqa: E402
from simcomp.transforms import input_channels  # noqa: E402

TINY = dict(
    arch="resnet18", hidden=32, crop_size=64, num_frames=4, image_size=(60, 80), batch_size=2
)


def _batch(cfg, seed=0):
    g = torch.Generator().manual_seed(seed)
    clip = merge(
        person_clips(2, cfg.num_frames, cfg.image_size, g),
        background_clips(2, cfg.num_frames, cfg.image_size, g),
    )
    return build_pipeline(cfg)(clip, g)


def test_optimisation_steps_lower_the_loss():  # SPEC R28
    cfg = Config(**TINY)
    torch.manual_seed(0)
    model = MotionHMR(len(input_channels(cfg.inputs)), cfg.arch, hidden=cfg.hidden)
    clip = _batch(cfg)
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(8):
        torch.manual_seed(1)  # the same dropout masks each step: a fixed problem
        loss, parts = motion_hmr_loss(model(clip.inputs), clip, cfg.crop_size)
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.8 * losses[0]
    assert set(parts) == {"current_3d", "current_2d", "next_3d", "next_2d"}


def test_the_loss_skips_clips_marked_invalid():  # a person never in frame teaches nothing
    cfg = Config(**TINY)
    torch.manual_seed(0)
    model = MotionHMR(len(input_channels(cfg.inputs)), cfg.arch, hidden=cfg.hidden).eval()
    clip = _batch(cfg)
    with torch.no_grad():
        pred = model(clip.inputs)
        first = {h: {k: v[:1] for k, v in pred[h].items()} for h in ("current", "next")}
        alone, _ = motion_hmr_loss(
            first, clip[0].replace(valid=torch.tensor([True])), cfg.crop_size
        )
        flagged = clip.replace(valid=torch.tensor([True, False]))
        both, _ = motion_hmr_loss(pred, flagged, cfg.crop_size)
    assert alone > 0
    torch.testing.assert_close(both, alone)


def test_pairs_to_frames_selection():  # SPEC R27, SPEC R21
    b, p = 2, 30
    current = torch.arange(p).float().view(1, p, 1).expand(b, p, 1)
    preds = {"current": {"joints": current}, "next": {"joints": current + 1}}
    frames = per_frame(preds)  # 30 pairs -> 60 predictions -> 31 poses
    assert frames.shape == (b, 31, 1)
    assert torch.equal(frames[0, :, 0], torch.arange(31).float())


def test_model_shapes_and_rotations():  # SPEC R25, SPEC R26, SPEC R27
    model = MotionHMR(16, "resnet18", hidden=32)
    out = model(torch.randn(1, 3, 16, 64, 64))
    assert out["current"]["joints"].shape == (1, 3, 24, 3)
    assert out["next"]["rotations"].shape == (1, 3, 24, 3, 3)
    assert out["features"].shape == (1, 3, 512)
    r = rot6d_to_matrix(torch.randn(5, 6))
    torch.testing.assert_close(
        r @ r.transpose(-1, -2), torch.eye(3).expand(5, 3, 3), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(5))


def test_dann_reverses_gradients():  # SPEC R29
    model = MotionHMR(3, "resnet18", hidden=32, dann_weight=2.0)
    feats = torch.randn(2, 3, 512, requires_grad=True)
    model.domain_logits(feats).sum().backward()
    plain = feats.grad.clone()
    feats.grad = None
    model.domain(feats).sum().backward()
    torch.testing.assert_close(plain, -2.0 * feats.grad)


def _tiny_smpl(folder: Path, v=40):
    """A few-vertex SMPL model file with smplx 0.1.28's keys (see shared FORMATS.md)."""
    rng = np.random.default_rng(0)
    joints_from = rng.random((24, v))
    data = {
        "v_template": rng.normal(size=(v, 3)), "shapedirs": rng.normal(size=(v, 3, 10)) * 0.01,
        "posedirs": rng.normal(size=(v, 3, 207)) * 0.001,
        "J_regressor": joints_from / joints_from.sum(1, keepdims=True),
        "weights": np.full((v, 24), 1 / 24),
        "kintree_table": np.array([[-1] + [0] * 23, list(range(24))]),
        "f": np.array([[0, 1, 2], [2, 3, 4]]),
    }  # fmt: skip
    (folder / "smpl").mkdir(parents=True)
    with open(folder / "smpl" / "SMPL_NEUTRAL.pkl", "wb") as f:
        pickle.dump(data, f, protocol=2)


def test_smplx_path_with_a_toy_model(tmp_path):  # SPEC R27
    smplx = pytest.importorskip("smplx", reason="the smplx path needs the 'smpl' extra")
    _tiny_smpl(tmp_path)
    from smplx.vertex_ids import vertex_ids

    ids = {name: i % 40 for i, name in enumerate(vertex_ids["smplh"])}  # fit the 40 vertices
    smpl = smplx.create(str(tmp_path), model_type="smpl", vertex_ids=ids)
    model = MotionHMR(16, "resnet18", hidden=32, smpl=smpl)
    out = model(torch.randn(1, 2, 16, 64, 64))
    assert out["current"]["joints"].shape == (1, 2, 24, 3)
    assert model.joint_head is None
    out["current"]["joints"].sum().backward()  # differentiable through the body model


def test_config_presets_and_overrides(tmp_path):
    cfg = parse(
        ["--preset", "cpu-smoke", "--steps", "7", "--inputs", "rgb", "keypoints", "--no-amp"]
    )
    assert (cfg.steps, cfg.arch, cfg.inputs, cfg.amp) == (
        7,
        "resnet18",
        ("rgb", "keypoints"),
        False,
    )
    cfg.save(tmp_path)
    assert Config.load(tmp_path / "config.json") == cfg


def test_torchrun_two_processes_keep_identical_weights(tmp_path):  # SPEC R25-R29 under DDP
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-port", "29517", str(EXAMPLES / "train_motion_hmr.py"), "--preset", "cpu-smoke",
           "--steps", "2", "--batch-size", "1", "--num-frames", "3", "--image-size", "48", "64",
           "--crop-size", "48", "--device", "cpu", "--out", str(out), "--dump-rank-weights",
           "--no-sheet"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    a = torch.load(out / "weights_rank0.pt")
    b = torch.load(out / "weights_rank1.pt")
    # parameters are synchronised; BatchNorm running statistics are per rank between forwards
    params = [k for k in a if "running_" not in k and "num_batches" not in k]
    assert len(params) > 50 and all(torch.equal(a[k], b[k]) for k in params)
    assert (out / "latest.pt").exists() and (out / "log.csv").exists()


def test_eval_windows_cover_every_frame():  # SPEC R30
    from motion_hmr.evaluate import windows

    for n in (5, 31, 32, 62, 70):
        covered = set()
        for s in windows(n, 31):
            assert s >= 0 and s + min(31, n) <= n
            covered.update(range(s, s + min(31, n)))
        assert covered == set(range(n))


def test_eval_averaging_per_person_then_over_persons():  # SPEC R31, SPEC R33
    from motion_hmr.evaluate import Protocol, aggregate

    def row(person, values, scored):
        v = np.array(values, float)
        return {
            "person": person,
            "sequence": person,
            "scored": np.array(scored, bool),
            "pa_mpjpe": v,
            "mpjpe": v,
            "pck": v,
            "accel": np.array([np.nan]),
        }

    rows = [row("a", [10, 10, 10, 99], [1, 1, 1, 0]), row("b", [40], [1])]
    assert aggregate(rows, Protocol(averaging="person"))["pa_mpjpe"] == 25.0  # (10 + 40) / 2
    assert aggregate(rows, Protocol(averaging="frame"))["pa_mpjpe"] == 17.5  # unscored 99 dropped
    assert np.isnan(aggregate(rows, Protocol())["accel"])


def test_evaluator_end_to_end_on_the_builtin_set(tmp_path):  # SPEC R30-R33
    import eval_3dpw
    from motion_hmr.trainer import train

    cfg = Config(
        **{**TINY, "num_frames": 3}, steps=1, out=str(tmp_path / "run"), sheet=False, device="cpu"
    )
    run = train(cfg)
    from motion_hmr import builtin_3dpw

    root = builtin_3dpw.write_builtin_3dpw(tmp_path / "b3dpw", sequences=2, frames=12)
    assert len(list((root / "imageFiles/builtin_00").glob("*.jpg"))) == 12
    results = eval_3dpw.main(["--checkpoint", str(run / "latest.pt"), "--data-root", str(root),
                              "--clip-length", "8"])  # fmt: skip
    for name in ("model", "mean_pose"):
        assert 0 < results[name]["pa_mpjpe"] < 1000
    assert (run / "eval_3dpw.json").exists() and (run / "predictions.png").exists()


def test_dann_training_step_with_real_videos(tmp_path):  # SPEC R29
    import cv2
    from motion_hmr.trainer import train

    folder = tmp_path / "videos"
    folder.mkdir()
    writer = cv2.VideoWriter(
        str(folder / "real.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (80, 60)
    )
    for i in range(8):
        writer.write(np.random.default_rng(i).integers(0, 255, (60, 80, 3), dtype=np.uint8))
    writer.release()
    cfg = Config(
        **{**TINY, "num_frames": 3, "inputs": ("rgb",)},
        steps=2,
        out=str(tmp_path / "run"),
        sheet=False,
        device="cpu",
        dann_weight=0.5,
        dann_target=str(folder),
        log_every=1,
    )
    run = train(cfg)
    log = (run / "log.csv").read_text()
    assert "domain" in log.splitlines()[0]
    with pytest.raises(ValueError, match="--dann-target: expected a folder when --dann-weight > 0"):
        train(Config(**TINY, steps=1, out=str(tmp_path / "r2"), device="cpu", dann_weight=1.0))
