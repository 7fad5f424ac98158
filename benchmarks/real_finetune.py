"""aw_fb activity with the teacher's encoder fine-tuned on each fold's training participants (issue 9).

    .venv/bin/python benchmarks/real_finetune.py --teacher runs/ref/teacher --data ../shared/data/real \
        --out benchmarks/results/real/finetune_awfb.md

The frozen probe of ``lsm-edge evaluate-real`` falls short of the random forest on aw_fb
(``probe_variants.md``), and the simulator's full fine-tune beats its probe by 8+ points; this tries
the fine-tune on the real labels.  The same segments and participant-grouped folds as evaluate-real.
Every model is trained on a fold's training participants only and scored on its held-out ones, with
one configuration fixed in advance (the simulator's chosen recipe: full head, stats pooling, peak lr
3e-4, 30 epochs, balanced softmax, seed 0; nothing is chosen on these folds).  Rows:

- random forest on segment statistics (evaluate-real's bar) and the linear probe of evaluate-real,
  recomputed on the same folds;
- the teacher fine-tuned (its encoder and a fresh head);
- the same ViT trained from scratch on the same labels: whether pretraining (on the simulator) helps.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402

from machine import machine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--data", required=True, help="folder holding aw_fb/")
    ap.add_argument("--out", required=True, help="Markdown report (a .json beside it)")
    ap.add_argument("--methods", default="finetune,scratch", help="neural rows: finetune, scratch")
    ap.add_argument("--epochs", type=int, default=30, help="epochs of each fine-tune (fixed in advance)")
    a = ap.parse_args()

    import keras
    from sklearn.metrics import accuracy_score, f1_score

    from lsm_edge.data.autoimport import read_any
    from lsm_edge.verbs.evaluate_real import ACTIVITIES, segment_stats, segments
    from lsm_edge.core.probes import activity_folds, keras_embed, score_activity
    from lsm_edge.verbs.finetune import FinetuneConfig, fit_head, fresh_copy
    from lsm_edge.core.tasks import TaskModel, predict_proba
    from lsm_edge.io import atomic_write_text
    from lsm_edge.core.run import load_run

    t0 = time.time()
    x, y, g = segments(read_any(Path(a.data) / "aw_fb")[0])
    teacher, stats, _ = load_run(a.teacher)
    n = len(ACTIVITIES)
    folds = activity_folds(y, g)
    base, _ = score_activity(x, y, g, {"random forest, segment statistics": (segment_stats(x), "rf"),
                                       "linear probe, pooled embedding (evaluate-real)":
                                           (keras_embed(teacher, stats)(x), "lr")})
    rows = {k: {m: v[m] for m in ("accuracy", "accuracy_std", "macro_f1", "macro_f1_std")} for k, v in base.items()}
    cfg = FinetuneConfig(pool="stats", full_lr=3e-4, full_epochs=a.epochs, seed=0)
    z = stats.normalize(x)
    for method in [m for m in a.methods.split(",") if m]:
        name = {"finetune": "teacher fine-tuned (full head, stats pooling)",
                "scratch": "same ViT from scratch (full head, stats pooling)"}[method]
        acc, f1 = [], []
        for k, (tr, te) in enumerate(folds):
            keras.utils.set_random_seed(cfg.seed)
            mae = fresh_copy(teacher) if method == "scratch" else load_run(a.teacher)[0]  # pretrained weights
            model = TaskModel(mae, "full", n, cfg.dropout, cfg.pool)
            print(f"{name}: fold {k + 1}/5 ({len(tr)} training segments)", flush=True)
            fit_head(model, z[tr], y[tr], cfg, progress=True, from_scratch=method == "scratch")
            pred = predict_proba(model, z[te]).argmax(1)
            acc.append(accuracy_score(y[te], pred))
            f1.append(f1_score(y[te], pred, average="macro", labels=range(n), zero_division=0))
            print(f"  accuracy {100 * acc[-1]:.1f}%  macro-F1 {100 * f1[-1]:.1f}%", flush=True)
        rows[name] = {"accuracy": float(np.mean(acc)), "accuracy_std": float(np.std(acc)), "folds_accuracy": acc,
                      "macro_f1": float(np.mean(f1)), "macro_f1_std": float(np.std(f1))}
    wall = time.time() - t0
    lines = ["# aw_fb activity: the teacher fine-tuned on each fold's training participants", "",
             f"Command: `python {' '.join(sys.argv)}`  ", f"Machine: {machine()}; {wall:.0f} s wall  ",
             f"Teacher: {a.teacher}; fine-tuning: {json.dumps({k: v for k, v in asdict(cfg).items() if k != 'xla'})}", "",
             f"{len(y)} segments of one label, {len(set(g))} participants, 5 participant-grouped folds "
             "(no participant in training and test of one fold); mean ± std over folds.", "",
             "| method | accuracy | macro-F1 |", "|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {100 * r['accuracy']:.1f}% ± {100 * r['accuracy_std']:.1f} | "
                     f"{100 * r['macro_f1']:.1f}% ± {100 * r['macro_f1_std']:.1f} |")
    atomic_write_text(Path(a.out), "\n".join(lines) + "\n")
    atomic_write_text(Path(a.out).with_suffix(".json"), json.dumps(
        {"command": sys.argv, "machine": machine(), "wall_s": wall, "segments": len(y),
         "participants": len(set(g)), "rows": rows}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
