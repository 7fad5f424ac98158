#!/usr/bin/env bash
# The app contract (issue: the file is the app's whole contract): the released files reconverted self-contained
# (raw units in and out), measured against the metadata-version-1 release and its numpy runtime, from Python, C
# (x86 and emulated cortex-a53 / a76) and a web page (LiteRT.js in headless chromium).
#   bash benchmarks/apps.sh [OUT]        (needs make arm and make apps; about 30 minutes on 2 cores)
# Writes pretrained/*/*.tflite (reconverted) and benchmarks/results/apps/.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/apps}
V1=701322b   # the last commit whose files are metadata version 1
REAL=../shared/data/real
BIN=.venv/bin
mkdir -p "$OUT/real_v1" "$OUT/v1"
# 1. the corpus the released models were trained and calibrated on: ../shared/data/real before cgmacros/, t1d_uom/
for s in actigraphy aw_fb covid19 depresjon fitabase mmash psykose; do ln -sfn "$(realpath $REAL/$s)" "$OUT/real_v1/$s"; done
[ -f "$OUT/corpus/dataset.json" ] || $BIN/lsm-edge data import "$OUT/real_v1" --out "$OUT/corpus"
# 2. the version-1 files and runtime, as released at $V1
for f in real_conv96x5/conv96x5_float32.tflite real_student_conv64/student_conv64_dynamic.tflite \
         real_student_conv64/student_conv64_int8.tflite real_student_intconv/intconv48n_18k_int8.tflite \
         real_student_intconv/intconv48n_18k_int8io.tflite; do
  git show "$V1:pretrained/$f" > "$OUT/v1/$(basename $f)"
done
git show "$V1:lsm_edge/runtime.py" | sed -e 's/^from \.data\.windows import/from lsm_edge.data.windows import/' \
  -e 's/^from \.errors import/from lsm_edge.errors import/' -e 's/    from \.data\.dataset import/    from lsm_edge.data.dataset import/' \
  -e 's/    from \. import logs/    from lsm_edge import logs/' > "$OUT/runtime_v1.py"
# 3. the released files, reconverted with the settings they were released with (calibration: 400 training windows, seed 0)
P=pretrained
if [ -z "${SKIP_CONVERT:-}" ]; then
$BIN/lsm-edge convert $P/real_conv96x5 --quant float32 --out $P/real_conv96x5/conv96x5_float32.tflite
$BIN/lsm-edge convert $P/real_student_conv64 --quant dynamic --out $P/real_student_conv64/student_conv64_dynamic.tflite
$BIN/lsm-edge convert $P/real_student_conv64 --quant int8 --data "$OUT/corpus" --out $P/real_student_conv64/student_conv64_int8.tflite
$BIN/lsm-edge convert $P/real_student_intconv --quant int8 --strict --data "$OUT/corpus" \
  --out $P/real_student_intconv/intconv48n_18k_int8.tflite
$BIN/lsm-edge convert $P/real_student_intconv --quant int8 --io int8 --strict --data "$OUT/corpus" \
  --out $P/real_student_intconv/intconv48n_18k_int8io.tflite
fi
# 4. the bars
$BIN/python benchmarks/apps.py --v1 "$OUT/v1" --runtime-v1 "$OUT/runtime_v1.py" --data "$OUT/corpus" \
  --recordings $REAL/covid19 --out benchmarks/results/apps | tee "$OUT/apps.log"
