#!/usr/bin/env bash
# Is the issue-3 bar reachable by a learned imputer in 30 CPU minutes?  Two dilated-conv imputers (the
# conv student family over 5-minute tokens) trained on the masks alone, no teacher signal
# (`distill --use-teacher false`; the teacher run only lends its normalisation statistics), scored
# beside the reference teacher on lsm-edge evaluate's windows and masks, then on all test windows
# over three mask draws.  Needs benchmarks/teacher_reference.sh first.  About 85 min on 2 cores.
#   bash benchmarks/learned_imputer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
OUT=${OUT:-runs/ref}
RES=benchmarks/results/teacher/learned_imputer
mkdir -p "$RES"
train() {  # NAME DIM DEPTH STEPS SEED
  [ -f "$OUT/imputers/$1/model.keras" ] || $BIN/lsm-edge distill --teacher "$OUT/teacher" --student distill/conv64.toml \
    --data "$OUT/data" --out "$OUT/imputers/$1" --use-teacher false --dim "$2" --depth "$3" --steps "$4" \
    --warmup-steps $(($4 / 20)) --checkpoint-every 2000 --seed "$5" --quiet
  cp "$OUT/imputers/$1/log.csv" "$RES/$1_train_log.csv"
}
train conv64x4_20min 64 4 20000 0
train conv96x5_25min 96 5 18000 0
train conv96x5_25min_seed1 96 5 18000 1  # the same run, another seed: the margin over 15 % is small
runs=(--run "teacher=$OUT/teacher" --run "conv64x4_20min=$OUT/imputers/conv64x4_20min"
      --run "conv96x5_25min=$OUT/imputers/conv96x5_25min" --run "conv96x5_25min_seed1=$OUT/imputers/conv96x5_25min_seed1")
$BIN/python benchmarks/teacher_steps.py --data "$OUT/data" "${runs[@]}" --out "$RES/learned_imputer.md"
$BIN/python benchmarks/teacher_steps.py --data "$OUT/data" "${runs[@]}" --windows 0 --seeds 3 \
  --task "interpolation 60 min" --task "extrapolation 60 min" --task "sensor 60 min" --out "$RES/all_test_windows.md"
$BIN/python benchmarks/machine.py > "$RES/machine.txt"
