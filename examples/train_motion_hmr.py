"""Train Motion HMR (SPEC R25-R29) on clips that simcomp builds on the fly.

python examples/train_motion_hmr.py --preset cpu-smoke      # minutes on a 2-core CPU
python examples/train_motion_hmr.py                         # the paper's settings
torchrun --nproc-per-node 4 examples/train_motion_hmr.py    # several GPUs (DDP)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from motion_hmr.checkpoint import CheckpointError  # noqa: E402
from motion_hmr.config import parse  # noqa: E402
from motion_hmr.trainer import train  # noqa: E402

if __name__ == "__main__":
    try:
        run = train(parse())
    except CheckpointError as err:  # a missing or unreadable --resume checkpoint: one line
        sys.exit(f"train_motion_hmr.py: error: {err}")
    print(f"run folder: {run} (config.json, log.csv, latest.pt, inputs.png, network_inputs.png)")
