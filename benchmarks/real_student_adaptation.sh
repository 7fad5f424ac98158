#!/usr/bin/env bash
# Issue 9: adapt the int8 student beside its teacher (what a user with a few days of their own data
# does before shipping a .tflite), then score both students, zero-shot and adapted, on the real
# recordings.  Steps:
#   1. evaluate-real adapts the teacher on each set's adaptation subjects (train --init);
#   2. distill --init continues the simulator-distilled student from that adapted teacher on the same
#      adaptation windows, with the teacher adaptation's budget: 200 steps of 16 windows, and a fifth
#      of the recipe's peak lr, as train --init's 2e-4 is a fifth of pretraining's 1e-3;
#   3. both students go to int8, calibrated on their run's training windows;
#   4. evaluate-real scores everything on the scored subjects only (the adaptation subject never).
# Needs a teacher run and a student distilled from it:
#   TEACHER=runs/long/micro_s2400 STUDENT=runs/long/conv64_distilled OUT=runs/long/real_student \
#     bash benchmarks/real_student_adaptation.sh            (about 5 min on 2 cores)
# Writes benchmarks/results/real/adapted_student/ (real.md, real.json, fills_*.png, machine.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
TEACHER=${TEACHER:?a teacher run}
STUDENT=${STUDENT:?a student run distilled from TEACHER}
OUT=${OUT:-runs/real_student}
DATA=${DATA:-../shared/data/real}
RES=${RES:-benchmarks/results/real/adapted_student}
quiet() { tr '\r' '\n' | grep -v "^distilling\|^[IW]0000\|^WARNING: All log\|^To enable\|rebuild TensorFlow\|^INFO: Created" || true; }
mkdir -p "$OUT/artifacts" "$RES"
name=$(basename "$STUDENT")
# 1. the adapted teacher and the adaptation windows (cached in $OUT/eval once made)
[ -f "$OUT/eval/adapted_teacher/model.keras" ] || $BIN/lsm-edge evaluate-real --data "$DATA" --teacher "$TEACHER" \
  --adapt-steps 200 --horizons 60 --out "$OUT/eval" --quiet 2>&1 | quiet >/dev/null
# 2. the student follows its teacher's adaptation
[ -f "$OUT/${name}_adapted/model.keras" ] || $BIN/lsm-edge distill --init "$STUDENT" \
  --teacher "$OUT/eval/adapted_teacher" --data "$OUT/eval/adapt_data" --student distill/conv64.toml \
  --steps 200 --batch-size 16 --lr 4e-4 --warmup-steps 20 --out "$OUT/${name}_adapted" --quiet 2>&1 | quiet
# 3. int8 files
for run in "$STUDENT" "$OUT/${name}_adapted"; do
  f="$OUT/artifacts/$(basename "$run")_int8.tflite"
  [ -f "$f" ] || $BIN/lsm-edge convert "$run" --quant int8 --out "$f" 2>&1 | quiet | grep -- "->"
done
# 4. every method on the scored subjects
$BIN/lsm-edge evaluate-real --data "$DATA" --teacher "$TEACHER" --artifacts "$OUT/artifacts" --adapt-steps 200 \
  --out "$OUT/eval" --quiet 2>&1 | quiet >/dev/null
cp "$OUT"/eval/{real.md,real.json,fills_fitabase.png,fills_actigraphy.png,activity_confusion.png} "$RES/"
$BIN/python benchmarks/machine.py > "$RES/machine.txt"
cat "$RES/real.md"
