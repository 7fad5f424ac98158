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
# the classifiers: per model, the candidate with the best accuracy on the validation subjects
# (benchmarks/choose_classifier.py; the comparison goes to suite/classifiers.md)
rm -f "$RES/classifiers.md"
choose() { $BIN/python benchmarks/choose_classifier.py --record "$RES/classifiers.md" "$@"; }
fresh() {  # drop a model's cached artifacts that carry another classifier than the one chosen
  $BIN/python -c "
import sys, pathlib
from lsm_edge.runtime import read_metadata
art, name, clf = sys.argv[1:]
for f in pathlib.Path(art).glob(name + '_*.tflite'):
    if read_metadata(f.read_bytes()).get('classifiers', {}).get('activity', {}).get('path') != clf:
        print('stale, reconverting:', f); f.unlink()" "$ART" "$1" "$2"
}
TCLF=$(choose "$REF/clf/activity_teacher" "$REF/clf/activity_teacher_e30" "$REF/clf/activity_teacher_stats_e30")
echo "teacher classifier: $TCLF"
fresh teacher "$TCLF"
convert "$REF/teacher" teacher "$TCLF" float32 float16 dynamic wo-int8 int8 int4
for s in vit_pico_distilled vit_pico_alone conv64_distilled conv64_alone; do
  [ -f "$REF/students/$s/model.keras" ] && clf=$(choose "$REF/clf/activity_${s}_e30" "$REF/clf/activity_${s}_stats_e30" \
    "$REF/clf/activity_${s}_stats_kde30_e30") || { echo "skip $s (not trained)"; continue; }
  echo "$s classifier: $clf"
  fresh "$s" "$clf"
  convert "$REF/students/$s" "$s" "$clf" float32 dynamic wo-int8 int8
done
$BIN/lsm-edge bench "$ART"/*.tflite --threads 1,2,4 --runs 100 --warmup 10 --json "$RES/bench.json" \
  --signature impute 2>&1 | quiet | tee "$RES/bench.md"
$BIN/lsm-edge report --teacher "$REF/teacher" --artifacts "$ART" --data "$REF/data" --windows "$WINDOWS" \
  --bench "$RES/bench.json" --out "$RES" 2>&1 | quiet
$BIN/python benchmarks/machine.py > "$RES/machine.json"
