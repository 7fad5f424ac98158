#!/usr/bin/env bash
# Students of the reference teacher (issue 5): both families distilled and, as the ablation, trained
# without the teacher (same data, steps, masks); generative evaluation on the teacher's windows and
# masks; activity recognition by full fine-tuning, distilled from the fine-tuned teacher's logits.
# Needs benchmarks/teacher_reference.sh first.  Writes benchmarks/results/distill/.
#   bash benchmarks/distill_reference.sh      (about 2 h on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
OUT=${OUT:-runs/ref}
RES=benchmarks/results/distill
mkdir -p "$RES"
quiet() { tr '\r' '\n' | grep -v "^fine-tuning\|^distilling" | grep -v "^[IW]0000\|^WARNING: All log\|^To enable\|rebuild TensorFlow" || true; }
[ -f "$OUT/clf/activity_teacher/model.keras" ] || $BIN/lsm-edge finetune --teacher "$OUT/teacher" --data "$OUT/data" \
  --task activity --head full --full-epochs 8 --out "$OUT/clf/activity_teacher" 2>&1 | quiet  # the students' KD source
[ -f "$OUT/clf/activity_teacher_e30/model.keras" ] || $BIN/lsm-edge finetune --teacher "$OUT/teacher" --data "$OUT/data" \
  --task activity --head full --full-epochs 30 --out "$OUT/clf/activity_teacher_e30" 2>&1 | quiet
[ -f "$OUT/clf/activity_teacher_stats_e30/model.keras" ] || $BIN/lsm-edge finetune --teacher "$OUT/teacher" \
  --data "$OUT/data" --task activity --head full --full-epochs 30 --pool stats --out "$OUT/clf/activity_teacher_stats_e30" \
  2>&1 | quiet
for s in vit_pico conv64; do
  for mode in distilled alone; do
    run="$OUT/students/${s}_$mode"
    [ -f "$run/model.keras" ] || $BIN/lsm-edge distill --teacher "$OUT/teacher" --student "distill/$s.toml" \
      --data "$OUT/data" --out "$run" --quiet $( [ $mode = alone ] && echo "--use-teacher false" ) 2>&1 | quiet
    $BIN/lsm-edge evaluate --teacher "$run" --data "$OUT/data" --windows 512 --out "$RES/${s}_$mode" 2>&1 | quiet >/dev/null
    kd=$([ $mode = distilled ] && echo "--kd-from $OUT/clf/activity_teacher" || echo "")
    for e in 8 30; do  # 8 epochs (the default) left the small students underfit
      sfx=$([ $e = 8 ] && echo "" || echo "_e$e")
      [ -f "$OUT/clf/activity_${s}_$mode$sfx/model.keras" ] || $BIN/lsm-edge finetune --teacher "$run" \
        --data "$OUT/data" --task activity --head full --full-epochs $e --out "$OUT/clf/activity_${s}_$mode$sfx" $kd \
        2>&1 | quiet
    done
    # the head reading the tokens' mean, max and std (--pool stats); edge_suite.sh picks per model on val
    [ -f "$OUT/clf/activity_${s}_${mode}_stats_e30/model.keras" ] || $BIN/lsm-edge finetune --teacher "$run" \
      --data "$OUT/data" --task activity --head full --full-epochs 30 --pool stats \
      --out "$OUT/clf/activity_${s}_${mode}_stats_e30" $kd 2>&1 | quiet
    # and, for the distilled ones, with the softened logits of the teacher's 30-epoch classifier
    [ $mode = alone ] || [ -f "$OUT/clf/activity_${s}_${mode}_stats_kde30_e30/model.keras" ] || $BIN/lsm-edge finetune \
      --teacher "$run" --data "$OUT/data" --task activity --head full --full-epochs 30 --pool stats \
      --kd-from "$OUT/clf/activity_teacher_e30" --out "$OUT/clf/activity_${s}_${mode}_stats_kde30_e30" 2>&1 | quiet
  done
done
$BIN/python benchmarks/retention.py --teacher-eval benchmarks/results/teacher/generative.json --runs "$OUT" \
  --out "$RES"
