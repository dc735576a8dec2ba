"""simcomp in your own trainer: plain tensors, COCO-17 keypoints, no depth (issue 16's check)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_plain_tensors_example_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, "-W", "error", "examples/own_data.py", str(tmp_path / "o.png")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'visible': (2, 8, 17)" in done.stdout and (tmp_path / "o.png").exists()


def test_data_depends_on_no_transform():  # layering: data/ -> clip, joints, _random only
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in (ROOT / "src/simcomp/data").glob("*.py")
        for line in path.read_text().splitlines()
        if line.lstrip().startswith(("from ..transforms", "import simcomp.transforms"))
    ]
    assert offenders == []
