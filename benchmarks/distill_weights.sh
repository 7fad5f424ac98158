#!/usr/bin/env bash
# Loss-weight sweep of the ViT-pico student (issue 5: "the defaults are what you measured best"):
# the embedding-matching weight c at 0 and 1 beside the default 0.1 (benchmarks/distill_reference.sh),
# same teacher, data, steps and masks; generative evaluation on the teacher's 512 windows and masks.
#   bash benchmarks/distill_weights.sh        (about 35 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
OUT=${OUT:-runs/ref}
RES=benchmarks/results/distill/weights
mkdir -p "$RES"
quiet() { tr '\r' '\n' | grep -v "^distilling\|^evaluating\|^[IW]0000\|^WARNING: All log\|^To enable\|rebuild TensorFlow" || true; }
for w in 0 1; do
  run="$OUT/students/vit_pico_embed$w"
  [ -f "$run/model.keras" ] || $BIN/lsm-edge distill --teacher "$OUT/teacher" --student distill/vit_pico.toml \
    --data "$OUT/data" --out "$run" --w-embed $w --quiet 2>&1 | quiet
done
# one evaluation, default horizons: the same windows and masks as the teacher's and the other students'
$BIN/lsm-edge evaluate --teacher "$OUT/teacher" --with "$OUT/students/vit_pico_embed0" \
  --with "$OUT/students/vit_pico_embed1" --data "$OUT/data" --windows 512 --out "$RES" 2>&1 | quiet
