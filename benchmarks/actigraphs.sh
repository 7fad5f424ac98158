#!/usr/bin/env bash
# Issue "Bring your actigraph": the bars, on ../shared/data/actigraphs (real exports of 8 device families).
#   1. `lsm-edge data import` recognises every file and lists device, epoch, channels and minutes; the same on
#      a second folder of other exports (other languages, software versions, epochs: benchmarks/actigraph_variants.py).
#   2. `lsm-edge evaluate-real --adapt-per-set`: the real-pretrained model adapted to each family (on its earlier
#      part, or on its other people) against linear interpolation on 60-minute gaps of the activity channel
#      (in the device's unit), skin temperature and light.
# Usage: benchmarks/actigraphs.sh [OUT]   (default runs/actigraphs; results copied to benchmarks/results/actigraphs)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/actigraphs}
DATA=${ACTIGRAPHS:-../shared/data/actigraphs}
RES=benchmarks/results/actigraphs
BIN=.venv/bin
mkdir -p "$OUT" "$RES"
rm -rf "$OUT/import" "$OUT/variants" "$OUT/variants_import"
{ echo "\$ lsm-edge data import $DATA --out $OUT/import"; $BIN/lsm-edge data import "$DATA" --out "$OUT/import"; } | tee "$RES/import.txt"
$BIN/python benchmarks/actigraph_variants.py "$DATA" "$OUT/variants"
{ echo "\$ python benchmarks/actigraph_variants.py $DATA $OUT/variants && lsm-edge data import $OUT/variants --out $OUT/variants_import"
  $BIN/lsm-edge data import "$OUT/variants" --out "$OUT/variants_import"; } | tee "$RES/import_variants.txt"
$BIN/lsm-edge evaluate-real --data "$DATA" --teacher pretrained/real_conv96x5 --adapt-steps 200 --adapt-per-set \
  --horizons 60 --out "$OUT/eval" --quiet > /dev/null
cp "$OUT/eval/real.json" "$OUT/eval/real.md" "$RES/"
cp "$OUT"/eval/fills_*_log_energy.png "$OUT"/eval/fills_*_skin_temperature.png "$RES/" 2>/dev/null || true
$BIN/python benchmarks/actigraph_bars.py "$RES/real.json" > "$RES/bars.md"
cat "$RES/bars.md"
