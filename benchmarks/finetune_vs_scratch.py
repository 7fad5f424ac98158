"""Fine-tuned teacher vs the same ViT trained from scratch (issue 4), each given the same learning-rate
choice, picked on the validation subjects and then scored on the test subjects.

    .venv/bin/python benchmarks/finetune_vs_scratch.py --teacher runs/ref/teacher --data runs/ref/data \
        --runs runs/ft_lr --lrs 3e-4,1e-4 --out benchmarks/results/discriminative/finetune_vs_scratch.md

Every candidate is one ``lsm-edge finetune --head full --pool stats [--from-scratch] --full-lr LR`` run
(30 epochs) under ``--runs``; a run folder that already holds a model is read, not retrained, so
an interrupted sweep continues where it stopped.  ``--reuse NAME=RUN`` takes an existing classifier run
for a candidate (e.g. ``teacher_lr0.0003=runs/ref/clf/activity_teacher_stats_e30``) after checking that
its recorded configuration is the candidate's.  ``--seeds 0,1,2`` repeats every candidate with other
seeds (head initialisation, shuffling, dropout); the learning rate is still chosen on seed 0's validation
score, and the report adds each method's mean and spread over the seeds at its chosen rate.
"""

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

from machine import machine  # noqa: E402
import numpy as np  # noqa: E402


LABEL = {"teacher": "fine-tuned teacher", "scratch": "supervised from scratch"}


def learned(finetune_config: dict) -> dict:
    """What a recorded fine-tuning configuration decides about the model: all but ``xla`` (how it ran)."""
    return {k: v for k, v in finetune_config.items() if k != "xla"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--task", default="activity")
    ap.add_argument("--runs", required=True, help="folder for the candidates' classifier runs")
    ap.add_argument("--lrs", default="3e-4,1e-4")
    ap.add_argument("--seeds", default="0", help="comma-separated; seed 0 chooses the learning rate")
    ap.add_argument("--seed-lrs", default=None, help="only these learning rates for seeds other than 0 "
                    "(e.g. the one seed 0 chose, to save time); default: all of --lrs")
    ap.add_argument("--reuse", action="append", default=[], help="NAME=RUN: an existing run for candidate NAME")
    ap.add_argument("--out", required=True, help="Markdown report (a .json beside it)")
    a = ap.parse_args()

    from lsm_edge.finetune import FinetuneConfig, finetune

    reuse = dict(r.split("=", 1) for r in a.reuse)
    rows = []
    lrs = [float(x) for x in a.lrs.split(",")]
    seed_lrs = [float(x) for x in a.seed_lrs.split(",")] if a.seed_lrs else lrs
    seeds = [int(x) for x in a.seeds.split(",")]
    if seeds[0] != 0:
        sys.exit("--seeds must start with 0 (seed 0 chooses the learning rate)")
    for method, scratch in (("teacher", False), ("scratch", True)):
        for seed, lr in [(0, lr) for lr in lrs] + [(sd, lr) for sd in seeds[1:] for lr in seed_lrs]:
            name = f"{method}_lr{lr:g}" + (f"_seed{seed}" if seed else "")
            cfg = FinetuneConfig(pool="stats", full_lr=lr, seed=seed)
            run = Path(reuse.get(name, Path(a.runs) / name))
            if (run / "model.keras").is_file():
                rec = json.loads((run / "config.json").read_text())
                if rec["from_scratch"] != scratch or learned(rec["finetune"]) != learned(asdict(cfg)):
                    sys.exit(f"{run} was not trained as candidate {name} (config differs)")
                m = json.loads((run / "metrics.json").read_text())
            else:
                print(f"training {name} -> {run}", flush=True)
                m = finetune(a.teacher, a.data, a.task, "full", run, cfg, from_scratch=scratch)
            rows.append({"method": method, "lr": lr, "seed": seed, "run": str(run), "val_accuracy": m["val"]["accuracy"],
                         "val_mAP": m["val"]["mAP"], "accuracy": m["accuracy"], "mAP": m["mAP"],
                         "val_n": m["val"]["n"], "n": m["n"]})
    for method in LABEL:
        mine = [r for r in rows if r["method"] == method and r["seed"] == 0]
        max(mine, key=lambda r: r["val_accuracy"])["chosen"] = True  # first of equals
    summary = {}
    for method in LABEL:
        lr = next(r["lr"] for r in rows if r["method"] == method and r.get("chosen"))
        at = [r for r in rows if r["method"] == method and r["lr"] == lr]
        summary[method] = {"lr": lr, "seeds": [r["seed"] for r in at],
                           **{f"{k}_{f}": float(fn([r[k] for r in at])) for k in ("accuracy", "mAP")
                              for f, fn in (("mean", np.mean), ("sd", np.std))}}
    cmd = "python benchmarks/finetune_vs_scratch.py " + " ".join(sys.argv[1:])
    md = [f"# Fine-tuned teacher vs supervised from scratch ({a.task})", "",
          f"Command: `{cmd}`  ", f"Machine: {machine()}", "",
          "Full fine-tuning, stats pooling, 30 epochs, seed 0; the learning rate of each method is chosen on the "
          f"validation subjects ({rows[0]['val_n']} windows), then scored on the test subjects ({rows[0]['n']}).", "",
          "| method | peak lr | seed | val accuracy | val mAP | test accuracy | test mAP | chosen on val |",
          "|---|---|---|---|---|---|---|---|"]
    md += [f"| {LABEL[r['method']]} | {r['lr']:g} | {r['seed']} | "
           f"{100 * r['val_accuracy']:.1f} | {100 * r['val_mAP']:.1f} | {100 * r['accuracy']:.1f} | "
           f"{100 * r['mAP']:.1f} | {'yes' if r.get('chosen') else ''} |" for r in rows]
    if len(seeds) > 1:
        md += ["", "Over the seeds, at each method's chosen rate (test subjects; mean ± population sd):", "",
               "| method | peak lr | seeds | test accuracy | test mAP |", "|---|---|---|---|---|"]
        md += [f"| {LABEL[m]} | {v['lr']:g} | "
               f"{len(v['seeds'])} | {100 * v['accuracy_mean']:.1f} ± {100 * v['accuracy_sd']:.1f} | "
               f"{100 * v['mAP_mean']:.1f} ± {100 * v['mAP_sd']:.1f} |" for m, v in summary.items()]
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(md) + "\n")
    out.with_suffix(".json").write_text(json.dumps({"command": cmd, "machine": machine(), "rows": rows, "summary": summary}, indent=1))
    print("\n".join(md))


if __name__ == "__main__":
    main()
