#!/usr/bin/env bash
# Issue "Bring your actigraph": the bars, on ../shared/data/actigraphs (real exports of 8 device families).
#   1. `lsm-edge data import` recognises every file and lists device, epoch, channels and minutes; the same on
#      a second folder of other exports (other languages, software versions, epochs: benchmarks/actigraph_variants.py).
#   2. the real-pretrained model (pretrained/real_conv96x5) adapted to each family on its own (--adapt-per-set):
#      adaptation steps chosen per family on the validation part (--people val), then scored once on the test
#      part, against linear interpolation on 60-minute gaps of the activity channel (in the device's unit) and of
#      skin temperature; light by the baselines.  benchmarks/actigraph_bars.py writes selection.md and bars.md.
# Usage: benchmarks/actigraphs.sh [OUT]   (default runs/actigraphs; results copied to benchmarks/results/actigraphs)
# About 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/actigraphs}
DATA=${ACTIGRAPHS:-../shared/data/actigraphs}
RES=benchmarks/results/actigraphs
BIN=.venv/bin
STEPS="200 1000 3000"
mkdir -p "$OUT" "$RES"
rm -rf "$OUT/import" "$OUT/variants" "$OUT/variants_import"
{ echo "\$ lsm-edge data import $DATA --out $OUT/import"; $BIN/lsm-edge data import "$DATA" --out "$OUT/import"; } | tee "$RES/import.txt"
$BIN/python benchmarks/actigraph_variants.py "$DATA" "$OUT/variants"
{ echo "\$ python benchmarks/actigraph_variants.py $DATA $OUT/variants && lsm-edge data import $OUT/variants --out $OUT/variants_import"
  $BIN/lsm-edge data import "$OUT/variants" --out "$OUT/variants_import"; } | tee "$RES/import_variants.txt"
for s in $STEPS; do
  [ -f "$OUT/val_$s/real.json" ] || $BIN/lsm-edge evaluate-real --data "$DATA" --teacher pretrained/real_conv96x5 \
    --adapt-steps "$s" --adapt-per-set --people val --horizons 60 --out "$OUT/val_$s" --quiet > /dev/null
done
$BIN/python benchmarks/actigraph_bars.py select --out "$RES/chosen.json" "$OUT"/val_*/real.json | tee "$RES/selection.md"
mkdir -p "$RES/test"
for s in $(python3 -c "import json,sys; print(' '.join(map(str, sorted(set(json.load(open(sys.argv[1])).values())))))" "$RES/chosen.json"); do
  [ -f "$OUT/test_$s/real.json" ] || $BIN/lsm-edge evaluate-real --data "$DATA" --teacher pretrained/real_conv96x5 \
    --adapt-steps "$s" --adapt-per-set --horizons 60 --out "$OUT/test_$s" --quiet > /dev/null
  mkdir -p "$RES/test/$s"
  cp "$OUT/test_$s/real.json" "$OUT/test_$s/real.md" "$RES/test/$s/"
  cp "$OUT"/test_$s/fills_*_log_energy.png "$OUT"/test_$s/fills_*_skin_temperature.png "$RES/test/$s/" 2>/dev/null || true
done
$BIN/python benchmarks/actigraph_bars.py bars "$RES/chosen.json" "$RES"/test/*/real.json | tee "$RES/bars.md"
