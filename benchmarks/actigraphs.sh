#!/usr/bin/env bash
# Issue "Bring your actigraph": the bars, on ../shared/data/actigraphs (real exports of 8 device families).
#   1. `lsm-edge data import` recognises every file and lists device, epoch, channels and minutes; the same on
#      a second folder of other exports (other languages, software versions, epochs: benchmarks/actigraph_variants.py).
#   2. the real-pretrained model (pretrained/real_conv96x5) adapted to each family on its own (--adapt-per-set):
#      adaptation steps and normalisation chosen per family on the validation part (--people val), then scored once on the test
#      part, against linear interpolation on 60-minute gaps of the activity channel (in the device's unit) and of
#      skin temperature; light by the baselines.  benchmarks/actigraph_bars.py writes selection.md and bars.md.
# Usage: benchmarks/actigraphs.sh [OUT]   (default runs/actigraphs; results copied to benchmarks/results/actigraphs)
# About 40 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/actigraphs}
DATA=${ACTIGRAPHS:-../shared/data/actigraphs}
RES=benchmarks/results/actigraphs
BIN=.venv/bin
STEPS="200 1000 3000"
NORMS="init own"
mkdir -p "$OUT" "$RES"
rm -rf "$OUT/import" "$OUT/variants" "$OUT/variants_import"
{ echo "\$ lsm-edge data import $DATA --out $OUT/import"; $BIN/lsm-edge data import "$DATA" --out "$OUT/import"; } | tee "$RES/import.txt"
$BIN/python benchmarks/actigraph_variants.py "$DATA" "$OUT/variants"
{ echo "\$ python benchmarks/actigraph_variants.py $DATA $OUT/variants && lsm-edge data import $OUT/variants --out $OUT/variants_import"
  $BIN/lsm-edge data import "$OUT/variants" --out "$OUT/variants_import"; } | tee "$RES/import_variants.txt"
for n in $NORMS; do for s in $STEPS; do
  [ -f "$OUT/val_${n}_$s/real.json" ] || $BIN/lsm-edge evaluate-real --data "$DATA" --teacher pretrained/real_conv96x5 \
    --adapt-steps "$s" --adapt-norm "$n" --adapt-per-set --people val --horizons 60 --out "$OUT/val_${n}_$s" --quiet > /dev/null
done; done
$BIN/python benchmarks/actigraph_bars.py select --out "$RES/chosen.json" "$OUT"/val_*/real.json | tee "$RES/selection.md"
mkdir -p "$RES/test"
# each chosen "<steps> steps, <norm> norm" once on the test part
for c in $(python3 -c "import json,sys; print(' '.join(sorted({v.split()[2] + '_' + v.split()[0] for v in json.load(open(sys.argv[1])).values()})))" "$RES/chosen.json"); do
  n=${c%_*}; s=${c#*_}
  [ -f "$OUT/test_$c/real.json" ] || $BIN/lsm-edge evaluate-real --data "$DATA" --teacher pretrained/real_conv96x5 \
    --adapt-steps "$s" --adapt-norm "$n" --adapt-per-set --horizons 60 --out "$OUT/test_$c" --quiet > /dev/null
  mkdir -p "$RES/test/$c"
  cp "$OUT/test_$c/real.json" "$OUT/test_$c/real.md" "$RES/test/$c/"
  cp "$OUT"/test_$c/fills_*_log_energy.png "$OUT"/test_$c/fills_*_skin_temperature.png "$RES/test/$c/" 2>/dev/null || true
done
$BIN/python benchmarks/actigraph_bars.py bars "$RES/chosen.json" "$RES"/test/*/real.json | tee "$RES/bars.md"
