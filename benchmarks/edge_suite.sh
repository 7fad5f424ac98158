#!/usr/bin/env bash
# The whole benchmark suite (issue 7) on the reference runs: the teacher and every student, each in
# every quantization variant that converts, each with its activity classifier; `lsm-edge bench` at
# 1, 2 and 4 threads; `lsm-edge report` against the teacher's float32 file.  Writes
# benchmarks/results/suite/ (report.md, report.json, pareto.png, bench.json, bench.md).
# Needs benchmarks/teacher_reference.sh and benchmarks/distill_reference.sh first.
#   bash benchmarks/edge_suite.sh            (about 30 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
REF=${REF:-runs/ref}
ART=${ART:-$REF/suite_artifacts}
RES=benchmarks/results/suite
WINDOWS=${WINDOWS:-512}
mkdir -p "$ART" "$RES"
quiet() { grep -v "^[IW]0000\|^WARNING: All log\|^To enable\|rebuild TensorFlow\|^INFO: Created TensorFlow" || true; }
convert() {  # run, artifact name prefix, classifier run, variants
  local run=$1 name=$2 clf=$3; shift 3
  for q in "$@"; do
    [ -f "$ART/${name}_$q.tflite" ] || $BIN/lsm-edge convert "$run" --quant "$q" --classifier "$clf" \
      --out "$ART/${name}_$q.tflite" 2>&1 | quiet || echo "$name $q: not converted"
  done
}
# the classifiers: the better of the teacher's 8- and 30-epoch fine-tunes; the students' 30-epoch ones
TCLF=$($BIN/python -c "
import json, sys; r = sys.argv[1]
print(max((json.load(open(f'{r}/clf/{n}/metrics.json'))['accuracy'], f'{r}/clf/{n}') for n in ('activity_teacher', 'activity_teacher_e30'))[1])" "$REF")
echo "teacher classifier: $TCLF"
convert "$REF/teacher" teacher "$TCLF" float32 float16 dynamic wo-int8 int8 int4
for s in vit_pico_distilled vit_pico_alone conv64_distilled conv64_alone; do
  clf="$REF/clf/activity_${s}_e30"
  [ -f "$REF/students/$s/model.keras" ] && [ -f "$clf/model.keras" ] || { echo "skip $s (not trained)"; continue; }
  convert "$REF/students/$s" "$s" "$clf" float32 dynamic wo-int8 int8
done
$BIN/lsm-edge bench "$ART"/*.tflite --threads 1,2,4 --runs 100 --warmup 10 --json "$RES/bench.json" \
  --signature impute 2>&1 | quiet | tee "$RES/bench.md"
$BIN/lsm-edge report --teacher "$REF/teacher" --artifacts "$ART" --data "$REF/data" --windows "$WINDOWS" \
  --bench "$RES/bench.json" --out "$RES" 2>&1 | quiet
$BIN/python benchmarks/machine.py > "$RES/machine.json"
