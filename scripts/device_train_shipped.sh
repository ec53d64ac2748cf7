#!/usr/bin/env bash
# Train the three shipped checkpoints at once on one GPU, one process each, then score them
# and pack them for the trip back (the lent GPU machine returns files of at most 15 MiB).
# Nothing depends on it: the shipped mini-BERT and mini-GPT were trained on a 2-core CPU with
# scripts/train_shipped.py (their cards say so); only the character-level GPT came from a GPU.
#   OUT=/tmp/out bash scripts/device_train_shipped.sh          # BUDGET=seconds per model, STEPS=n
set -uo pipefail
OUT=${OUT:-/tmp/shipped-out}; RUN=${RUN:-/tmp/shipped}; BUDGET=${BUDGET:-330}
mkdir -p "$OUT" "$RUN"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MINITRANSFORMERS_CACHE=${MINITRANSFORMERS_CACHE:-$PWD/.cache/minitransformers}
extra=(); [ -n "${STEPS:-}" ] && extra=(--steps "$STEPS")
(nvidia-smi --query-gpu=name,memory.total --format=csv; python -c "import torch; print(torch.__version__)") 2>&1
start=$(date +%s)
for kind in char gpt bert; do
  ( python scripts/train_shipped.py --only $kind --output "$RUN" --no-card --time-budget "$BUDGET" "${extra[@]}" \
      || { echo "== $kind failed compiled; again eager"; left=$(( BUDGET - ($(date +%s) - start) ));
           python scripts/train_shipped.py --only $kind --output "$RUN" --no-card --eager \
             --time-budget $(( left > 60 ? left : 60 )) "${extra[@]}"; } ) > "$OUT/train_$kind.log" 2>&1 &
done
wait
echo "training took $(( $(date +%s) - start )) s"
for kind in char gpt bert; do echo "== $kind"; grep -E "step [0-9]+:|Error|error|saving" "$OUT/train_$kind.log" | tail -8; done
python scripts/evaluate_shipped.py "$RUN"/mini-gpt-shakespeare "$RUN"/mini-bert-shakespeare "$RUN"/char-gpt-shakespeare \
  --device "${DEVICE:-cuda}" --famous-lines --json "$OUT/evaluation.json"
cat "$OUT"/train_*.log > "$OUT/logs.txt" && rm "$OUT"/train_*.log
tar -C "$RUN" --exclude=_checkpoints -cf - . | split -b 15M - "$OUT/weights.tar.part-"
ls -la "$OUT"
