#!/usr/bin/env bash
# The reference CPU teacher (issue 3): simulate, pretrain the micro recipe, evaluate against the
# baselines and the alternative inference path.  Writes benchmarks/results/teacher/.
#   bash benchmarks/teacher_reference.sh          (about 25-30 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
OUT=${OUT:-runs/ref}
RES=benchmarks/results/teacher
[ -d "$OUT/data" ] || $BIN/lsm-edge data simulate --subjects 150 --days 14 --seed 0 --out "$OUT/data"
$BIN/lsm-edge train --recipe train/micro.toml --data "$OUT/data" --out "$OUT/teacher" --quiet --resume \
  || $BIN/lsm-edge train --recipe train/micro.toml --data "$OUT/data" --out "$OUT/teacher" --quiet
$BIN/lsm-edge evaluate --teacher "$OUT/teacher" --data "$OUT/data" --windows 512 --compare-hidden --out "$RES"
cp "$OUT/teacher/log.csv" "$RES/train_log.csv"
cp "$OUT/teacher/config.json" "$RES/teacher_config.json"
