"""Trainer and evaluator checkpoints: no code from files, resumable runs, one-line errors."""

import csv
import os
import signal
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("torchvision", reason="the trainer example needs the 'examples' extra")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))

from motion_hmr import trainer as trainer_module  # noqa: E402
from motion_hmr.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from motion_hmr.config import Config  # noqa: E402
from motion_hmr.trainer import train  # noqa: E402

TINY = dict(arch="resnet18", hidden=16, crop_size=48, num_frames=3, image_size=(48, 64),
            batch_size=1, sheet=False, device="cpu", log_every=1, checkpoint_every=100)  # fmt: skip


class _Payload:
    """An object whose unpickling runs a command (what a crafted checkpoint would carry)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_checkpoint_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "latest.pt"
    state = {"model": {}, "optimizer": {}, "step": 1, "config": {}, "rng": _Payload(marker)}
    torch.save(state, bad)
    with pytest.raises(CheckpointError, match=r"latest.pt: not a readable simcomp checkpoint"):
        load_checkpoint(bad)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content, message",
    [(b"", "not a readable"), (b"PK\x03\x04trunc", "not a readable"), (None, "expected a trainer")],
)
def test_unreadable_checkpoints_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "x.pt"
    if content is None:
        torch.save({"weight": torch.zeros(2)}, path)  # a bare state dict
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_evaluator_refuses_a_bad_checkpoint_in_one_line(tmp_path, capsys):
    import eval_3dpw

    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(SystemExit):
        eval_3dpw.main(["--checkpoint", str(tmp_path / "empty.pt")])
    assert "--checkpoint: " in capsys.readouterr().err


def test_evaluator_boolean_flags_parse_as_booleans():
    import eval_3dpw

    with pytest.raises(SystemExit):  # --use-campose-valid False used to switch it on
        eval_3dpw.main(["--use-campose-valid", "False"])


def test_resume_without_a_checkpoint_is_an_error(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint there"):
        train(Config(**TINY, steps=1, out=str(tmp_path / "run"), resume=True))
    assert not (tmp_path / "run" / "log.csv").exists()


def test_resume_refuses_options_that_conflict_with_the_checkpoint(tmp_path):
    out = str(tmp_path / "run")
    train(Config(**TINY, steps=1, out=out))
    with pytest.raises(ValueError, match=r"--lr 0.1 \(checkpoint: 0.0001\)"):
        train(Config(**TINY, steps=2, out=out, resume=True, lr=0.1))
    train(Config(**TINY, steps=2, out=out, resume=True))  # more steps: allowed


class _SignalAt:
    """A progress bar that delivers SIGTERM to this process after ``at`` steps."""

    def __init__(self, at: int) -> None:
        self.at, self.n = at, 0

    def update(self, k):
        self.n += k
        if self.n == self.at:
            os.kill(os.getpid(), signal.SIGTERM)

    def set_postfix(self, **kw):
        pass

    def write(self, text):
        pass

    def close(self):
        pass


def _steps(log: Path) -> list[int]:
    with open(log, newline="") as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


def test_sigterm_checkpoints_and_resume_is_bit_identical(tmp_path, monkeypatch):
    whole = train(Config(**TINY, steps=4, out=str(tmp_path / "whole")))
    out = str(tmp_path / "cut")
    monkeypatch.setattr(trainer_module, "_progress", lambda *a: _SignalAt(2))
    train(Config(**TINY, steps=4, out=out))  # SIGTERM after step 2: checkpoint, stop
    assert load_checkpoint(Path(out) / "latest.pt")["step"] == 2
    at_two = (Path(out) / "latest.pt").read_bytes()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored
    monkeypatch.undo()
    train(Config(**TINY, steps=4, out=out, resume=True))
    a, b = (load_checkpoint(Path(p) / "latest.pt") for p in (whole, out))
    assert a["step"] == b["step"] == 4
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert _steps(Path(out) / "log.csv") == [1, 2, 3, 4]  # continued, no step twice
    (Path(out) / "latest.pt").write_bytes(at_two)  # a crash after step 4 lost steps 3-4
    train(Config(**TINY, steps=4, out=out, resume=True))
    assert _steps(Path(out) / "log.csv") == [1, 2, 3, 4]


def test_every_trainer_option_has_help_and_its_default(capsys):
    from motion_hmr.config import parse

    with pytest.raises(SystemExit):
        parse(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in Config.__dataclass_fields__:
        flag = "--" + name.replace("_", "-")
        assert flag in text, flag
    assert text.count("(default: ") >= len(Config.__dataclass_fields__) + 1


def test_every_evaluator_option_has_help_and_its_default(capsys):
    import eval_3dpw

    with pytest.raises(SystemExit):
        eval_3dpw.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--checkpoint", "--data-root", "--builtin-root", "--split", "--skip-bad",
                 "--out", "--device", "--clip-length", "--min-visible", "--confidence",
                 "--use-campose-valid", "--averaging", "--pck-threshold"):  # fmt: skip
        assert f"{flag} " in text, flag
    assert text.count("(default: ") >= 13
    assert "PA-MPJPE" in text and "nan when" in text


@pytest.mark.parametrize(
    "argv, says",
    [(["--image-size", "120"], "--image-size: expected two numbers"),
     (["--image-size", "8", "8"], "sides >= 16"),
     (["--num-frames", "1"], "--num-frames: expected >= 2"),
     (["--surreal", "/no/such", "--backgrounds", "/no"], "--surreal: expected an existing path"),
     (["--arch", "vgg"], "--arch: expected one of")],
)  # fmt: skip
def test_bad_trainer_options_are_refused_before_anything_is_written(tmp_path, capsys, argv, says):
    from motion_hmr.config import parse

    with pytest.raises(SystemExit):
        parse([*argv, "--out", str(tmp_path / "run")])
    assert says in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
