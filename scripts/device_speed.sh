#!/usr/bin/env bash
# Issue 17's GPU figures in one call on a lent GPU machine: the CUDA tests, then
# training ours vs plain PyTorch (eager and compiled) and generation (cache, compiled,
# transformers). Every part has its own time limit, so one that hangs cannot eat the rest,
# and each writes its own log under $OUT as soon as it ends.
#   OUT=/tmp/speed-out bash scripts/device_speed.sh              # on the GPU machine (run with timeout_s 600)
#   DEVICE=cpu OUT=/tmp/speed-out bash scripts/device_speed.sh   # a dry run here (GPU tests skip)
set -uo pipefail
OUT=${OUT:-/tmp/speed-out}; DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
start=$(date +%s)

part() {  # part NAME SECONDS COMMAND...: run with a limit, log to $OUT/NAME.log, say how it went
  local name=$1 limit=$2; shift 2
  local began=$(date +%s)
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local status=$?
  echo "== $name: exit $status after $(( $(date +%s) - began )) s (limit $limit s)" | tee -a "$OUT/summary.txt"
  tail -25 "$OUT/$name.log" >> "$OUT/summary.txt"
}

(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || echo "no nvidia-smi";
 python -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)") \
  > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

if [ "$DEVICE" = cuda ]; then
  # 150 + 210 + 210 s: the whole call stays under the device's 600 s per command.
  part gpu_tests 150 python -m pytest -q -rs tests/test_gpu.py tests/test_gpu_training.py
  part bench_training 210 python benchmarks/bench_training.py --device cuda --quick --no-mfu
  part bench_generation 210 python benchmarks/bench_generation.py --device cuda --quick
else
  part gpu_tests 240 python -m pytest -q -rs tests/test_gpu.py tests/test_gpu_training.py
  part bench_training 600 env OMP_NUM_THREADS=1 python benchmarks/bench_training.py --device cpu --quick --no-mfu
  part bench_generation 600 env OMP_NUM_THREADS=1 python benchmarks/bench_generation.py --device cpu --quick --threads 1
fi
echo "all parts: $(( $(date +%s) - start )) s" | tee -a "$OUT/summary.txt"
