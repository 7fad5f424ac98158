"""Pick a model's classifier among candidate runs by accuracy on the validation subjects, never the test ones.

    .venv/bin/python benchmarks/choose_classifier.py --data runs/ref/data --record suite/classifiers.md \
        runs/ref/clf/activity_conv64_distilled_e30 runs/ref/clf/activity_conv64_distilled_stats_e30

Prints the chosen run folder (the suite feeds it to ``lsm-edge convert --classifier``) and appends one
Markdown row per candidate (validation and test accuracy, pooling, epochs) to ``--record``.
Ties go to the first candidate.
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", help="classifier run folders (lsm-edge finetune --out)")
    ap.add_argument("--data", required=True, help="the labelled dataset they were trained on")
    ap.add_argument("--record", default=None, help="Markdown file to append the comparison to")
    a = ap.parse_args()

    import keras

    from lsm_edge.data.dataset import Dataset
    from lsm_edge.data.stats import NormStats
    from lsm_edge.finetune import labelled, metrics, predict_proba

    ds = Dataset(a.data)
    rows = []
    for run in map(Path, a.runs):
        cfg = json.loads((run / "config.json").read_text())
        x, y = labelled(ds, cfg["task"], "val")
        if not len(y):
            sys.exit(f"{a.data} has no labelled {cfg['task']} windows in its val split: nothing to choose on")
        clf = keras.models.load_model(run / "model.keras", safe_mode=True, compile=False)
        val = metrics(y, predict_proba(clf, NormStats.load(run / "stats.json").normalize(x)), clf.n_classes)
        test = json.loads((run / "metrics.json").read_text())
        rows.append((val["accuracy"], run, getattr(clf, "pool", "mean"), cfg["finetune"]["full_epochs"], test))
    best = max(rows, key=lambda r: r[0])  # max keeps the first of equals
    if a.record:
        lines = [] if Path(a.record).exists() else [
            "| classifier run | pool | full epochs | val accuracy | test accuracy | chosen |", "|---|---|---|---|---|---|"]
        lines += [f"| {r[1]} | {r[2]} | {r[3]} | {100 * r[0]:.1f}% | {100 * r[4]['accuracy']:.1f}% | "
                  f"{'yes' if r is best else ''} |" for r in rows]
        with open(a.record, "a") as f:
            f.write("\n".join(lines) + "\n")
    print(best[1])


if __name__ == "__main__":
    main()
