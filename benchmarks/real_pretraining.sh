#!/usr/bin/env bash
# Issue 37: pretrain on real people, choose on the validation people, report on the test people.
#   bash benchmarks/real_pretraining.sh choose     import, three candidates, scored on validation people
#   CHOSEN=runs/real/vit_micro bash benchmarks/real_pretraining.sh release
#                                                  distil + convert the chosen one, score on test people
#   CHOSEN=runs/real/conv96x5 bash benchmarks/real_pretraining.sh publish
#                                                  pretrained/real_<chosen> and pretrained/real_student_conv64:
#                                                  runs without optimizer state, .tflite files, model cards
# Every stage skips what is finished and resumes what was interrupted.  Candidates, each about 17-40
# minutes on 2 cores: the contract's ViT (micro recipe) on the real corpus; the conv family trained on
# the masks alone on the same corpus; the simulator-only reference teacher (the baseline that real
# pretraining must beat once adapted the same way: evaluate-real adapts it on the train people).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
REAL=${REAL:-../shared/data/real}
OUT=${OUT:-runs/real}
RES=benchmarks/results/real/pretraining
mkdir -p "$OUT" "$RES"
resume_flag() { [ -f "$1/checkpoint/state.json" ] && echo --resume || true; }  # an interrupted run continues
[ -f "$OUT/corpus/dataset.json" ] || $BIN/lsm-edge data import "$REAL" --out "$OUT/corpus" > "$RES/corpus.txt"

train_vit() {  # the contract's ViT, micro recipe, real people only
  $BIN/lsm-edge train --recipe train/micro.toml --data "$OUT/corpus" --steps 3000 --decay-steps 4800 \
    --out "$OUT/vit_micro" --quiet $(resume_flag "$OUT/vit_micro")
}
train_conv() {  # the conv family on the masks alone (the ViT run only lends its real-corpus statistics)
  [ -f "$OUT/conv96x5/model.keras" ] || $BIN/lsm-edge distill --teacher "$OUT/vit_micro" --student distill/conv64.toml \
    --data "$OUT/corpus" --out "$OUT/conv96x5" --use-teacher false --dim 96 --depth 5 --steps 12000 \
    --warmup-steps 600 --checkpoint-every 2000 --quiet
}
train_sim() {  # the simulator-only reference teacher (benchmarks/teacher_reference.sh's recipe)
  [ -d "$OUT/sim_data" ] || $BIN/lsm-edge data simulate --subjects 150 --days 14 --seed 0 --out "$OUT/sim_data" > /dev/null
  [ -f "$OUT/sim_teacher/model.keras" ] || $BIN/lsm-edge train --recipe train/micro.toml --data "$OUT/sim_data" \
    --out "$OUT/sim_teacher" --quiet
}

case "${1:-choose}" in
choose)
  [ -f "$OUT/vit_micro/model.keras" ] || train_vit
  train_sim
  train_conv
  for r in vit_micro conv96x5 sim_teacher; do cp "$OUT/$r/log.csv" "$RES/${r}_train_log.csv"; done
  $BIN/lsm-edge evaluate-real --data "$REAL" --teacher "$OUT/sim_teacher" --with "$OUT/vit_micro" \
    --with "$OUT/conv96x5" --people val --horizons 60 --out "$OUT/val" --quiet > /dev/null
  cp "$OUT/val/real.md" "$OUT/val/real.json" "$RES/" && mv "$RES/real.md" "$RES/val.md" && mv "$RES/real.json" "$RES/val.json"
  ;;
release)
  : "${CHOSEN:?set CHOSEN to the run chosen on the validation people}"
  NAME=$(basename "$CHOSEN")
  [ -f "$OUT/student_conv64/model.keras" ] || $BIN/lsm-edge distill --teacher "$CHOSEN" --student distill/conv64.toml \
    --data "$OUT/corpus" --steps 3000 --warmup-steps 150 --checkpoint-every 1000 --out "$OUT/student_conv64" --quiet
  mkdir -p "$OUT/artifacts"
  for q in int8 dynamic; do
    [ -f "$OUT/artifacts/student_conv64_$q.tflite" ] || $BIN/lsm-edge convert "$OUT/student_conv64" --quant $q \
      --out "$OUT/artifacts/student_conv64_$q.tflite" > /dev/null
  done
  [ -f "$OUT/artifacts/${NAME}_float32.tflite" ] || $BIN/lsm-edge convert "$CHOSEN" --quant float32 \
    --out "$OUT/artifacts/${NAME}_float32.tflite" > /dev/null
  cp "$OUT/student_conv64/log.csv" "$RES/student_conv64_train_log.csv"
  $BIN/lsm-edge evaluate-real --data "$REAL" --teacher "$OUT/sim_teacher" --with "$CHOSEN" --with "$OUT/student_conv64" \
    --artifacts "$OUT/artifacts" --people test --out "$OUT/test" --quiet > /dev/null
  cp "$OUT/test/real.md" "$RES/test.md" && cp "$OUT/test/real.json" "$RES/test.json"
  cp "$OUT"/test/*.png "$RES/"
  ;;
publish)
  : "${CHOSEN:?set CHOSEN to the run chosen on the validation people}"
  NAME=$(basename "$CHOSEN")
  T=pretrained/real_$NAME S=pretrained/real_student_conv64
  $BIN/python benchmarks/release_run.py "$CHOSEN" "$T"
  $BIN/python benchmarks/release_run.py "$OUT/student_conv64" "$S"
  cp "$OUT/artifacts/${NAME}_float32.tflite" "$T/" && cp "$OUT"/artifacts/student_conv64_{int8,dynamic}.tflite "$S/"
  $BIN/python benchmarks/real_bars.py "$RES/test.json" --models "$NAME" student_conv64_int8 "${NAME}_float32" \
    student_conv64_dynamic student_conv64 > "$RES/bars.md"
  EXTRA=${EXTRA:-}  # the bars' reading, written after looking at bars.md (the cards quote it under Limits)
  $BIN/python benchmarks/model_card.py "$T" --corpus "$OUT/corpus" --eval "$RES/test.json" --method "$NAME" \
    --artifact "$T/${NAME}_float32.tflite" --extra "$EXTRA" --out "$T/MODEL_CARD.md"
  $BIN/python benchmarks/model_card.py "$S" --corpus "$OUT/corpus" --eval "$RES/test.json" --method student_conv64 \
    --artifact "$S/student_conv64_int8.tflite" --artifact "$S/student_conv64_dynamic.tflite" --extra "$EXTRA" \
    --out "$S/MODEL_CARD.md"
  ;;
esac
$BIN/python benchmarks/machine.py > "$RES/machine.txt"
