#!/usr/bin/env bash
# Discriminative tasks on the reference teacher (issue 4): linear probe, conv probe, full fine-tune,
# the same ViT trained from scratch, random forest and logistic regression; full data and few-shot.
# Needs the reference teacher of benchmarks/teacher_reference.sh.  Writes benchmarks/results/discriminative/.
#   TASKS=activity bash benchmarks/discriminative_reference.sh     (about 40 min on 2 cores)
# POOL: what the linear probe, the fine-tuned teacher and the supervised ViT read; "stats" is what the
# validation subjects chose for the teacher (benchmarks/results/suite/classifiers.md).
# FLIP_P / HIDE_P: augmentation of the rows that train the whole ViT (fine-tune and supervised), which the
# validation subjects chose (benchmarks/results/discriminative/augment/); 0 0 gives the tables made before it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
OUT=${OUT:-runs/ref}
RES=${RES:-benchmarks/results/discriminative}
POOL=${POOL:-stats}
FLIP_P=${FLIP_P:-0.5}
HIDE_P=${HIDE_P:-0.5}
mkdir -p "$RES"
for task in ${TASKS:-activity exercise}; do
  /usr/bin/time -f "$task: %e s wall" $BIN/lsm-edge evaluate --task "$task" --teacher "$OUT/teacher" \
    --data "$OUT/data" --pool "$POOL" --flip-p "$FLIP_P" --hide-p "$HIDE_P" --out "$RES" 2>&1 | grep -v "^[IW]0000\|^WARNING: All log\|^To enable\|rebuild TensorFlow"
done
$BIN/python benchmarks/machine.py > "$RES/machine.txt"
