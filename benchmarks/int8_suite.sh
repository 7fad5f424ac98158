#!/usr/bin/env bash
# Full-integer students (issue 39): the intconv family distilled from the released real teacher, converted with
# every op int8 (--strict), beside the teacher's float32 file and the released conv student's dynamic-range and
# full-int8 files: x86 latency, emulated cortex-a53 / cortex-a76 instructions and parity, the retention report
# and Pareto chart, and evaluate-real on the test people (heart rate per set, activity probes on aw_fb).
#   bash benchmarks/int8_suite.sh        (needs `make arm` once, as root, for the ARM columns)
# Writes benchmarks/results/int8/: bench_x86.{json,md}, arm.{json,md}, report.{md,json}, pareto.png,
# real/real.{json,md}, bars.md (the issue's bars, computed from those files), machine.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
OUT=${OUT:-runs/int8}
DATA=${DATA:-runs/real/corpus}  # lsm-edge data import ../shared/data/real (its test split: the test people)
REAL=${REAL:-../shared/data/real}
TEACHER=pretrained/real_conv96x5
ART=$OUT/artifacts
RES=benchmarks/results/int8
CORES=cortex-a53,cortex-a76
mkdir -p "$ART" "$RES"
[ -d "$DATA" ] || $BIN/lsm-edge data import "$REAL" --out "$DATA" > /dev/null
for d in ${DIMS:-32 48}; do  # distilled from the real teacher on the train people, chosen on nothing else
  [ -f "$OUT/intconv$d/model.keras" ] || $BIN/lsm-edge distill --teacher $TEACHER --student "distill/intconv$d.toml" \
    --data "$DATA" --out "$OUT/intconv$d" --quiet
  [ -f "$ART/intconv${d}_int8.tflite" ] || $BIN/lsm-edge convert "$OUT/intconv$d" --quant int8 --strict \
    --data "$DATA" --out "$ART/intconv${d}_int8.tflite"
  [ -f "$ART/intconv${d}_int8io.tflite" ] || $BIN/lsm-edge convert "$OUT/intconv$d" --quant int8 --io int8 --strict \
    --data "$DATA" --out "$ART/intconv${d}_int8io.tflite"
done
[ -f "$ART/teacher_float32.tflite" ] || $BIN/lsm-edge convert $TEACHER --quant float32 --out "$ART/teacher_float32.tflite"
for q in dynamic int8; do
  [ -f "$ART/conv64_$q.tflite" ] || $BIN/lsm-edge convert pretrained/real_student_conv64 --quant $q --data "$DATA" \
    --out "$ART/conv64_$q.tflite"
done
$BIN/lsm-edge bench "$ART"/*.tflite --threads 1 --runs 300 --warmup 20 --signature impute \
  --json "$RES/bench_x86.json" > "$RES/bench_x86.md"
$BIN/lsm-edge bench --arm $CORES --signature impute --arm-calls 20 "$ART"/*.tflite --json "$RES/arm.json" > "$RES/arm.md"
$BIN/lsm-edge report --teacher $TEACHER --artifacts "$ART" --data "$DATA" --windows 512 --bench "$RES/bench_x86.json" \
  --arm $CORES --arm-bench "$RES/arm.json" --arm-windows 64 --out "$RES" > /dev/null
WITH=""; for d in ${DIMS:-32 48}; do WITH="$WITH --with $OUT/intconv$d"; done  # the Keras students: what PTQ loses
$BIN/lsm-edge evaluate-real --data "$REAL" --teacher $TEACHER --artifacts "$ART" $WITH --adapt-steps 0 --horizons 60 \
  --out "$RES/real" --quiet > /dev/null
$BIN/python benchmarks/int8_bars.py "$RES" > "$RES/bars.md"
$BIN/python benchmarks/machine.py > "$RES/machine.json"
cat "$RES/bars.md"
