#!/usr/bin/env bash
# Issue 34: how long does a new user take from a fresh clone to a converted .tflite and one impute call,
# following only the README's quickstart?  Runs the quickstart's bash block verbatim in a fresh clone,
# then its Python snippet on one test window.  Writes benchmarks/results/quickstart.md.
#   bash benchmarks/quickstart.sh          (the clone goes beside this one, so ../shared resolves)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(dirname "$SRC")/quickstart_clone}
OUT=$SRC/benchmarks/results/quickstart.md
rm -rf "$WORK" && git clone -q "$SRC" "$WORK" && cd "$WORK"
awk '/^## Quickstart/{q=1} q&&/^```bash/{b=1;next} b&&/^```/{exit} b' README.md > quickstart_commands.sh
awk '/^## Quickstart/{q=1} q&&/^```python/{b=1;next} b&&/^```/{exit} b' README.md > quickstart_app.py
t0=$(date +%s)
bash -euo pipefail quickstart_commands.sh > quickstart.log 2>&1
t1=$(date +%s)
.venv/bin/python - >> quickstart.log 2>&1 <<'PY'
import numpy as np
from lsm_edge.data.dataset import Dataset
window = Dataset("data/mine").load("test").values[0]  # the snippet's `window`: one test person's window
exec(open("quickstart_app.py").read())
hidden = np.isnan(window)
assert filled.shape == (300, 26) and not np.isnan(filled).any() and np.allclose(filled[~hidden], window[~hidden])
print(f"impute: {int(hidden.sum())} missing cells filled")
PY
t2=$(date +%s)
{
  echo "# Quickstart, timed (issue 34)"
  echo
  echo "Command: \`bash benchmarks/quickstart.sh\` ($(date -u +%Y-%m-%d), $(cd "$SRC" && .venv/bin/python benchmarks/machine.py))."
  echo "A fresh clone of $(git -C "$SRC" rev-parse --short HEAD); the README's quickstart bash block run verbatim"
  echo "(venv and install included: packages from this machine's package index, so the install's share"
  echo "depends on the network), then its Python snippet on one test window of the imported data."
  echo
  echo "| step | seconds |"
  echo "|---|---|"
  echo "| commands: venv + install, import, describe, adapt (200 steps), distil (300 steps), convert int8, inspect | $((t1 - t0)) |"
  echo "| the app snippet: load the .tflite, one impute call | $((t2 - t1)) |"
  echo "| total | $((t2 - t0)) |"
  echo
  echo '```'
  tr '\r' '\n' < quickstart.log | grep -v -e "^\s*$" -e "step/s" -e "it/s" -e "chunk/s" -e "s/step" | tail -n 25
  echo '```'
} > "$OUT"
cat "$OUT"
