#!/usr/bin/env bash
# A small sweep for the shipped mini-GPT and mini-BERT on one GPU, one process per variant; the
# best of each kind (same steps and batch) is scored and packed for the trip back.
set -uo pipefail
OUT=${OUT:-/tmp/sweep-out}; RUN=${RUN:-/tmp/sweep}; BUDGET=${BUDGET:-330}; STEPS=${STEPS:-4000}
mkdir -p "$OUT" "$RUN"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MINITRANSFORMERS_CACHE=${MINITRANSFORMERS_CACHE:-$PWD/.cache/minitransformers}
declare -A VARIANTS=(
  [gpt-a]="gpt --dropout 0.2 --set learning_rate=6e-4"
  [gpt-b]="gpt --dropout 0.3 --set learning_rate=6e-4"
  [gpt-c]="gpt --dropout 0.3 --set learning_rate=1e-3"
  [bert-a]="bert --dropout 0.1 --set learning_rate=6e-4"
  [bert-b]="bert --dropout 0.1 --set learning_rate=1e-3"
  [bert-c]="bert --dropout 0.0 --set learning_rate=1e-3"
)
start=$(date +%s)
for name in "${!VARIANTS[@]}"; do
  set -- ${VARIANTS[$name]}; kind=$1; shift
  python scripts/train_shipped.py --only $kind --output "$RUN/$name" --no-card --steps "$STEPS" \
    --time-budget "$BUDGET" "$@" > "$OUT/$name.log" 2>&1 &
done
wait
echo "sweep took $(( $(date +%s) - start )) s"
for name in $(printf '%s\n' "${!VARIANTS[@]}" | sort); do
  echo "== $name: ${VARIANTS[$name]}"; tr '\r' '\n' < "$OUT/$name.log" | grep -E "^step [0-9]+:|Error|^(gpt|bert) " | awk 'NR%4==0 || /Error|^(gpt|bert) /' | tail -6
done
python - <<'PY'
import json, os, shutil
run = os.environ.get("RUN", "/tmp/sweep")
best = {}
for name in sorted(os.listdir(run)):
    kind = name.split("-")[0]
    folder = f"{run}/{name}/mini-{kind}-shakespeare"
    try:
        v = json.load(open(f"{folder}/training.json"))["validation"]
    except Exception as error:
        print(name, "no result", error); continue
    score = -v["loss"] if kind == "gpt" else v["masked_accuracy"] + 0.1 * v["nsp_accuracy"]
    print(name, json.dumps(v))
    if kind not in best or score > best[kind][0]:
        best[kind] = (score, name, folder)
os.makedirs("/tmp/final", exist_ok=True)
for kind, (score, name, folder) in best.items():
    print("chosen", kind, name)
    shutil.copytree(folder, f"/tmp/final/{os.path.basename(folder)}")
    open(f"/tmp/final/{os.path.basename(folder)}/variant.txt", "w").write(name + "\n")
PY
python scripts/evaluate_shipped.py /tmp/final/mini-gpt-shakespeare /tmp/final/mini-bert-shakespeare --device cuda --famous-lines
cat "$OUT"/*.log > "$OUT/logs.txt"; rm "$OUT"/*-?.log
tar -C /tmp/final -cf - . | split -b 15M - "$OUT/weights.tar.part-"
ls -la "$OUT"
