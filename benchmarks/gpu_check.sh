#!/usr/bin/env bash
# One device session's checks, in the order they matter: the GPU tests, where slic_video's
# time goes at batch 32 (connectivity steps, profiler), the preset's traffic and launches
# (the merge's share under SLIC), the batch-32 benchmarks.
#
#   bash benchmarks/gpu_check.sh [OUT]     (wheels in .whl/ are installed first, if present)
#   BASE=base0/src bash benchmarks/gpu_check.sh   (also measures slic_video on that src/ first)
set -o pipefail
out=${1:-${OUT:-out/gpu}}
mkdir -p "$out"
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/src:$PWD
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
timeout "${TEST_S:-200}" python3 -m pytest tests -q ${TEST_ARGS:--x} -p no:cacheprovider -m "not slow" \
    -k "cuda or gpu" 2>&1 | tail -n 25 | tee "$out/gpu-tests.log"
if [ -n "$BASE" ]; then  # the same measure on another tree's src/ first (before -> after)
    PYTHONPATH=/tmp/site:$BASE:$PWD timeout 60 python3 benchmarks/connectivity_share.py \
        --device cuda --batch 32 --json "$out/share-base.json" 2>&1 | grep -v "^USDT\|^ERROR:"
fi
timeout 90 python3 benchmarks/connectivity_share.py --device cuda --batch 32 --parts \
    --profile "${PROFILE_ROWS:-20}" --json "$out/share.json" 2>&1 | grep -v "^USDT\|^ERROR:\|^WARNING:" | tee "$out/share.log"
timeout 60 python3 benchmarks/traffic.py --device cuda --batch 32 --launches \
    --json "$out/traffic.json" 2>&1 | grep -v "^USDT\|^ERROR:\|^WARNING:" | tee "$out/traffic.log"
timeout "${BENCH_S:-150}" python3 -m pytest benchmarks/bench_occlusion.py \
    benchmarks/bench_pipeline.py --benchmark-only -q -p no:cacheprovider -k "${BENCH_K:-cuda-32}" \
    --benchmark-json "$out/bench.json" 2>&1 | grep -v "^USDT\|^ERROR:" | tail -n 30
