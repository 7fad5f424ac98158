"""Pick a model's classifier among candidate runs by accuracy on the validation subjects, never the test ones.

    python benchmarks/choose_classifier.py --record suite/classifiers.md \
        runs/ref/clf/activity_conv64_distilled_e30 runs/ref/clf/activity_conv64_distilled_stats_e30

Reads what ``lsm-edge finetune`` recorded in each run's metrics.json ("val": the validation subjects;
the top level: the test ones). Prints the chosen run folder (the suite feeds it to ``lsm-edge convert
--classifier``) and appends one Markdown row per candidate (validation and test accuracy, pooling,
epochs) to ``--record``. Candidates without a model.keras are left out. Ties go to the first candidate.
"""

import argparse
import json
import sys
from pathlib import Path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", help="classifier run folders (lsm-edge finetune --out)")
    ap.add_argument("--record", default=None, help="Markdown file to append the comparison to")
    a = ap.parse_args()

    rows = []
    for run in [Path(r) for r in a.runs if (Path(r) / "model.keras").is_file()]:
        ft = json.loads((run / "config.json").read_text())["finetune"]
        m = json.loads((run / "metrics.json").read_text())
        if "val" not in m:
            sys.exit(f"{run}/metrics.json has no 'val' entry (no labelled validation windows, or a run from "
                     "before finetune recorded them): nothing to choose on")
        rows.append((m["val"]["accuracy"], run, ft.get("pool", "mean"), ft["full_epochs"], m["accuracy"]))
    if not rows:
        sys.exit(f"none of {', '.join(a.runs)} holds a trained classifier (model.keras)")
    best = max(rows, key=lambda r: r[0])  # max keeps the first of equals
    if a.record:
        lines = [] if Path(a.record).exists() else [
            "| classifier run | pool | full epochs | val accuracy | test accuracy | chosen |", "|---|---|---|---|---|---|"]
        lines += [f"| {r[1]} | {r[2]} | {r[3]} | {100 * r[0]:.1f}% | {100 * r[4]:.1f}% | "
                  f"{'yes' if r is best else ''} |" for r in rows]
        with open(a.record, "a") as f:
            f.write("\n".join(lines) + "\n")
    print(best[1])


if __name__ == "__main__":
    main()
