#!/usr/bin/env bash
# Every artifact on emulated ARM cores (issue 33): a teacher and its students, each in every quantization
# variant that converts, run on emulated cortex-a53 and cortex-a76 beside this x86 machine.
#   bash benchmarks/arm_suite.sh sim    the simulator ViT teacher (pretrained/candidates/sim_teacher, the edge
#                                       suite's recipe) and its vit_pico and conv64 students, distilled here
#                                       (1,000 steps each, about 7 min each on 2 cores)
#   bash benchmarks/arm_suite.sh real   the released real teacher (pretrained/real_conv96x5) and its student
#                                       (pretrained/real_student_conv64)
# Each writes benchmarks/results/arm/<chain>/: bench_x86.json (latency), arm.json and arm_rerun.json (two
# counted runs: determinism), report.md / report.json / pareto.png (lsm-edge report --arm), determinism.md.
# Needs `make arm` once (as root).  As run for the committed results (2 cores, after the students exist):
#   RERUN='*int8' ARM_WINDOWS=32 bash benchmarks/arm_suite.sh sim     (about 50 min)
#   bash benchmarks/arm_suite.sh real                                 (about 30 min)
# The activity columns stay empty: the files carry no classifier (the generative path is what is compared).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
OUT=${OUT:-runs/arm}
CHAIN=${1:?usage: bash benchmarks/arm_suite.sh sim|real}
CORES=cortex-a53,cortex-a76
ART=$OUT/${CHAIN}_artifacts
RES=benchmarks/results/arm/$CHAIN
mkdir -p "$ART" "$RES"
convert() {  # run, artifact name prefix, variants
  local run=$1 name=$2; shift 2
  for q in "$@"; do
    [ -f "$ART/${name}_$q.tflite" ] || $BIN/lsm-edge convert "$run" --quant "$q" --out "$ART/${name}_$q.tflite" \
      || echo "$name $q: not converted"
  done
}
case $CHAIN in
  sim)
    TEACHER=pretrained/candidates/sim_teacher
    DATA=${DATA:-runs/real/sim_data}  # the data sim_teacher was trained on (its manifest names it)
    [ -d "$DATA" ] || $BIN/lsm-edge data simulate --subjects 150 --days 14 --seed 0 --out "$DATA" > /dev/null
    for s in vit_pico conv64; do
      [ -f "$OUT/students/$s/model.keras" ] || $BIN/lsm-edge distill --teacher "$TEACHER" --student "distill/$s.toml" \
        --data "$DATA" --out "$OUT/students/$s" --quiet
    done
    convert "$TEACHER" teacher float32 float16 dynamic wo-int8 int8 int4
    for s in vit_pico conv64; do convert "$OUT/students/$s" "$s" float32 dynamic wo-int8 int8; done
    ;;
  real)
    TEACHER=pretrained/real_conv96x5
    DATA=${DATA:-runs/real/corpus}  # lsm-edge data import ../shared/data/real (its test split: the test people)
    [ -d "$DATA" ] || $BIN/lsm-edge data import ../shared/data/real --out "$DATA" > /dev/null
    convert "$TEACHER" teacher float32 float16 dynamic wo-int8 int8 int4
    convert pretrained/real_student_conv64 conv64 float32 dynamic wo-int8 int8
    ;;
  *) echo "unknown chain $CHAIN (sim or real)"; exit 2 ;;
esac
[ -f "$RES/bench_x86.json" ] || $BIN/lsm-edge bench "$ART"/*.tflite --threads 1 --runs 100 --warmup 10 \
  --json "$RES/bench_x86.json" --signature impute > "$RES/bench_x86.md"
[ -f "$RES/arm.json" ] || $BIN/lsm-edge bench --arm $CORES --signature impute --arm-calls 20 "$ART"/*.tflite \
  --json "$RES/arm.json" > "$RES/arm.md"
# the same command again on the files matching RERUN (default all; the sim chain's ViT files take 40 s a run)
[ -f "$RES/arm_rerun.json" ] || $BIN/lsm-edge bench --arm $CORES --signature impute --arm-calls 20 \
  "$ART"/${RERUN:-*}.tflite --json "$RES/arm_rerun.json" > "$RES/arm_rerun.md"
$BIN/lsm-edge report --teacher "$TEACHER" --artifacts "$ART" --data "$DATA" --windows 512 \
  --bench "$RES/bench_x86.json" --arm $CORES --arm-bench "$RES/arm.json" --arm-windows "${ARM_WINDOWS:-64}" \
  --out "$RES" > /dev/null
$BIN/python - "$RES" <<'EOF'
import json, sys
from pathlib import Path
res = Path(sys.argv[1])
a, b = (json.loads((res / f).read_text())["rows"] for f in ("arm.json", "arm_rerun.json"))
key = lambda r: (r["artifact"], r["core"], r["signature"])
b = {key(r): r for r in b}
lines = ["| artifact | core | M instructions / call, run 1 | run 2 | relative difference |", "|---|---|---|---|---|"]
worst = 0.0
for r in a:
    if key(r) not in b:
        continue
    x, y = r["instructions_per_call"], b[key(r)]["instructions_per_call"]
    worst = max(worst, abs(x - y) / x)
    lines.append(f"| {r['artifact']} | {r['core']} | {x / 1e6:.4f} | {y / 1e6:.4f} | {abs(x - y) / x:.2e} |")
(res / "determinism.md").write_text("# Two counted runs of every file (impute, 20 calls each)\n\n" + "\n".join(lines)
                                    + f"\n\nLargest relative difference: {worst:.2e}\n")
print(f"determinism: largest relative difference {worst:.2e}")
EOF
$BIN/python benchmarks/machine.py > "$RES/machine.json"
