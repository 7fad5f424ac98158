#!/usr/bin/env bash
# Issue 37: does longer pretraining of the chosen family pay?  The conv family trained on the real train
# people for 1,500 / 3,000 / 6,000 steps (the released run has 12,000), each scored on the validation
# people at 60 minutes; the gain over the classical baselines against CPU minutes (curve.png, curve.md).
#   bash benchmarks/real_curve.sh          (about 30 min on 2 cores; needs runs/real/corpus and the
#                                           ViT run lending its statistics, from real_pretraining.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
REAL=${REAL:-../shared/data/real}
OUT=${OUT:-runs/real}
RES=benchmarks/results/real/pretraining/curve
STEPS=${STEPS:-1500 3000 6000}
mkdir -p "$RES"
resume_flag() { [ -f "$1/checkpoint/state.json" ] && echo --resume || true; }  # an interrupted run continues
for n in $STEPS; do
  run=$OUT/conv96x5_s$n
  [ -f "$run/model.keras" ] || $BIN/lsm-edge distill --teacher "$OUT/vit_micro" --student distill/conv64.toml \
    --data "$OUT/corpus" --out "$run" --use-teacher false --dim 96 --depth 5 --steps "$n" \
    --warmup-steps $((n / 20)) --checkpoint-every $((n / 6)) --quiet $(resume_flag "$run")
done
for run in $(for n in $STEPS; do echo "$OUT/conv96x5_s$n"; done) "$OUT/conv96x5"; do
  name=$(basename "$run")
  [ -f "$RES/$name.json" ] || { $BIN/lsm-edge evaluate-real --data "$REAL" --teacher "$run" --adapt-steps 0 \
    --people val --horizons 60 --out "$OUT/curve_$name" --quiet > /dev/null && cp "$OUT/curve_$name/real.json" "$RES/$name.json"; }
  cp "$run/log.csv" "$RES/${name}_train_log.csv"
done
$BIN/python benchmarks/real_curve.py "$RES" --out "$RES"
$BIN/python benchmarks/machine.py > "$RES/machine.txt"
