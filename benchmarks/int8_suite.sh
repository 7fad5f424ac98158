#!/usr/bin/env bash
# Full-integer students (issue 39), from the released real teacher (pretrained/real_conv96x5) on the train people:
#  1. candidates of the intconv family (distill/intconv.toml with the overrides below), each converted with every
#     op int8 (convert --quant int8 --strict); quantization-aware fine-tuning (--qat) of three of them;
#  2. the choice, on the validation people only: the int8 file with the largest 60-minute heart-rate
#     interpolation gain over linear (evaluate-real --people val; benchmarks/int8_bars.py select);
#  3. the chosen file (float and int8 I/O) beside the teacher's float32 file and the released conv student's
#     dynamic-range and full-int8 files: x86 latency, emulated cortex-a53 / cortex-a76 instructions and parity,
#     the retention report and Pareto chart, and evaluate-real on the test people (heart rate per set, activity
#     probes on aw_fb).
#   bash benchmarks/int8_suite.sh        (about 60 min on 2 cores; needs `make arm` once, as root)
# Writes benchmarks/results/int8/: selection.md, val/, bench_x86.*, arm.*, report.*, pareto.png, real/, bars.md;
# and pretrained/real_student_intconv/ (the chosen run, its int8 and int8-I/O files, MODEL_CARD.md; EXTRA: a
# paragraph for the card's limits).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
OUT=${OUT:-runs/int8}
DATA=${DATA:-runs/real/corpus}  # lsm-edge data import ../shared/data/real (split by person: train / val / test)
REAL=${REAL:-../shared/data/real}
TEACHER=pretrained/real_conv96x5
RES=benchmarks/results/int8
CORES=cortex-a53,cortex-a76
mkdir -p "$OUT/candidates" "$OUT/artifacts" "$RES"
[ -d "$DATA" ] || $BIN/lsm-edge data import "$REAL" --out "$DATA" > /dev/null
declare -A CAND=(  # name -> distill options over distill/intconv.toml
  [intconv32]="--dim 32 --norm false" [intconv48]="--dim 48 --norm false" [intconv64]="--dim 64 --norm false"
  [intconv48n]="--dim 48 --norm true" [intconv64n]="--dim 64 --norm true"
  [intconv48n_9k]="--dim 48 --norm true --steps 9000 --warmup-steps 300"
  [intconv48n_18k]="--dim 48 --norm true --steps 18000 --warmup-steps 600 --checkpoint-every 1000")
distil() {  # name, options...
  local name=$1; shift
  [ -f "$OUT/$name/model.keras" ] || $BIN/lsm-edge distill --teacher $TEACHER --student distill/intconv.toml \
    --data "$DATA" --out "$OUT/$name" --quiet "$@"
  [ -f "$OUT/candidates/${name}_int8.tflite" ] || $BIN/lsm-edge convert "$OUT/$name" --quant int8 --strict \
    --data "$DATA" --out "$OUT/candidates/${name}_int8.tflite" > /dev/null
}
for name in "${!CAND[@]}"; do distil "$name" ${CAND[$name]}; done
for name in intconv48n intconv64n intconv48n_9k; do  # quantization-aware fine-tuning, 1,000 steps
  distil "${name}_qat" --init "$OUT/$name" --qat true --steps 1000 --warmup-steps 50 --lr 2e-4
done
WITH=""; for f in "$OUT"/candidates/*_int8.tflite; do n=$(basename "$f" _int8.tflite); WITH="$WITH --with $OUT/$n"; done
[ -f "$RES/val/real.json" ] || $BIN/lsm-edge evaluate-real --data "$REAL" --teacher $TEACHER --artifacts "$OUT/candidates" \
  $WITH --adapt-steps 0 --horizons 60 --people val --out "$RES/val" --quiet > /dev/null
CHOSEN=$($BIN/python benchmarks/int8_bars.py select "$RES/val" --out "$RES/selection.md")
ART=$OUT/artifacts
rm -f "$ART"/intconv*.tflite  # a previous run's choice
cp "$OUT/candidates/${CHOSEN}_int8.tflite" "$ART/"
[ -f "$ART/${CHOSEN}_int8io.tflite" ] || $BIN/lsm-edge convert "$OUT/$CHOSEN" --quant int8 --io int8 --strict \
  --data "$DATA" --out "$ART/${CHOSEN}_int8io.tflite" > /dev/null
[ -f "$ART/teacher_float32.tflite" ] || $BIN/lsm-edge convert $TEACHER --quant float32 --out "$ART/teacher_float32.tflite"
for q in dynamic int8; do
  [ -f "$ART/conv64_$q.tflite" ] || $BIN/lsm-edge convert pretrained/real_student_conv64 --quant $q --data "$DATA" \
    --out "$ART/conv64_$q.tflite" > /dev/null
done
$BIN/lsm-edge bench "$ART"/*.tflite --threads 1 --runs 300 --warmup 20 --signature impute \
  --json "$RES/bench_x86.json" > "$RES/bench_x86.md"
$BIN/lsm-edge bench --arm $CORES --signature impute --arm-calls 20 "$ART"/*.tflite --json "$RES/arm.json" > "$RES/arm.md"
$BIN/lsm-edge report --teacher $TEACHER --artifacts "$ART" --data "$DATA" --windows 512 --bench "$RES/bench_x86.json" \
  --arm $CORES --arm-bench "$RES/arm.json" --arm-windows 64 --out "$RES" > /dev/null
$BIN/lsm-edge evaluate-real --data "$REAL" --teacher $TEACHER --artifacts "$ART" --with "$OUT/$CHOSEN" --adapt-steps 0 \
  --horizons 60 --out "$RES/real" --quiet > /dev/null
$BIN/python benchmarks/int8_bars.py bars "$RES" > "$RES/bars.md"
$BIN/python benchmarks/machine.py > "$RES/machine.json"
# the release: the chosen run without optimizer state, its two files, a model card from the test people's figures
REL=pretrained/real_student_intconv
rm -rf "$REL" && $BIN/python benchmarks/release_run.py "$OUT/$CHOSEN" "$REL"
cp "$ART/${CHOSEN}_int8.tflite" "$ART/${CHOSEN}_int8io.tflite" "$REL/"
$BIN/python benchmarks/model_card.py "$REL" --corpus "$DATA" --eval "$RES/real/real.json" --method "$CHOSEN" \
  --artifact "$REL/${CHOSEN}_int8.tflite" --artifact "$REL/${CHOSEN}_int8io.tflite" --extra "${EXTRA:-}" \
  --out "$REL/MODEL_CARD.md"
cat "$RES/bars.md"
