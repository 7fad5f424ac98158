set -e
# run from the repository root; writes runs/bs/b<batch>_s<steps>
# needs runs/ref/data: lsm-edge data simulate --subjects 150 --days 14 --seed 0 --out runs/ref/data (as benchmarks/teacher_reference.sh)
for v in "64 600 100" "32 1200 200" "16 2400 400"; do
  set -- $v
  out=runs/bs/b$1_s$2
  [ -f $out/model.keras ] || lsm-edge train --recipe train/micro.toml --data runs/ref/data --out $out \
     --batch-size $1 --steps $2 --decay-steps $((2*$2)) --warmup-steps $(($2/20)) --checkpoint-every $3 --quiet
  awk -F, 'NR>1{s+=$6} END{print FILENAME, "train seconds", s}' $out/log.csv
  python benchmarks/quick_generative.py $out
done
