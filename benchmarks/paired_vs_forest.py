"""Fine-tuned classifiers vs the random forest on the same test windows, paired and resampled by subject
(issue 4's bar on the larger test set).

    .venv/bin/python benchmarks/paired_vs_forest.py --data runs/ref/data --extra-test runs/sim600 \
        --run runs/ft_s4800/teacher_lr0.0003 --run runs/ft_s4800/teacher_lr0.0003_seed1 ... \
        --out benchmarks/results/discriminative/teacher_s4800/paired_vs_forest.md

``finetune_vs_scratch.py`` reports each method's mean ± sd over seeds, and the test set's standard
error (about 0.75 accuracy points on 2,520 windows) is larger than the gaps it has to decide.  Both
methods are scored on the same windows, so the difference is far less noisy than either score: run
``i`` is paired with the random forest of ``evaluate --task`` fitted with seed ``i`` (same training
windows), and the test subjects are resampled with replacement (windows of one subject are not
independent: the bootstrap draws whole subjects).  Reported: the mean over the pairs of
(classifier - forest) in accuracy and mAP, its 95 % percentile interval, and the share of resamples in
which the classifier is ahead.
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

from machine import machine  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="the reference dataset (its training windows fit the forest)")
    ap.add_argument("--extra-test", required=True, help="the larger simulation made by activity_ceiling.py")
    ap.add_argument("--run", action="append", required=True, help="a classifier run (repeat: one per seed)")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--out", required=True, help="Markdown report (a .json beside it)")
    a = ap.parse_args()

    from activity_ceiling import larger_test
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.finetune import TASKS, classical_baselines, labelled, metrics, predict_proba
    from lsm_edge.train import load_run

    n_classes = len(TASKS["activity"])
    x, y, _, subjects = larger_test(a.data, Dataset(a.extra_test))
    xtr, ytr = labelled(Dataset(a.data), "activity", "train")
    pairs = []
    for seed, run in enumerate(tqdm(a.run, desc="scoring pairs", unit="pair")):
        model, stats, cfg = load_run(run)
        if cfg.get("task") != "activity":
            sys.exit(f"{run} is not an activity classifier run (task {cfg.get('task')!r})")
        forest = classical_baselines(xtr, ytr, x, n_classes, seed=seed)["random forest"]
        pairs.append((predict_proba(model, stats.normalize(x)), forest))

    def pair_diff(p, f, idx):
        """-> [accuracy, mAP] of classifier probabilities ``p`` minus the forest's ``f`` on windows ``idx``."""
        mp, mf = metrics(y[idx], p[idx], n_classes), metrics(y[idx], f[idx], n_classes)
        return [mp["accuracy"] - mf["accuracy"], mp["mAP"] - mf["mAP"]]

    names = np.unique(subjects)
    rows = [np.flatnonzero(subjects == s) for s in names]
    rng = np.random.default_rng(0)
    each = [pair_diff(p, f, np.arange(len(y))) for p, f in pairs]
    point = np.mean(each, 0)
    boot = []
    for _ in tqdm(range(a.resamples), desc="bootstrap", unit="resample"):
        idx = np.concatenate([rows[i] for i in rng.integers(0, len(names), len(names))])
        boot.append(np.mean([pair_diff(p, f, idx) for p, f in pairs], 0))
    lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
    ahead = (np.array(boot) > 0).mean(0)
    each = [dict(zip(("accuracy", "mAP"), map(float, e))) for e in each]

    cmd = "python benchmarks/paired_vs_forest.py " + " ".join(sys.argv[1:])
    md = ["# Fine-tuned classifier vs random forest, paired by window, resampled by subject", "",
          f"Command: `{cmd}`  ", f"Machine: {machine()}", "",
          f"{len(y):,} test windows of {len(names)} test subjects (`{a.extra_test}`); {len(pairs)} pairs "
          "(run i with the forest of seed i); "
          f"{a.resamples} subject-level bootstrap resamples.", "",
          "| metric | classifier - forest (points) | 95 % interval | resamples with the classifier ahead | per pair |",
          "|---|---|---|---|---|"]
    for j, k in enumerate(("accuracy", "mAP")):
        md.append(f"| {k} | {100 * point[j]:+.1f} | {100 * lo[j]:+.1f} .. {100 * hi[j]:+.1f} | "
                  f"{100 * ahead[j]:.1f} % | {', '.join(f'{100 * e[k]:+.1f}' for e in each)} |")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(md) + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        {"command": cmd, "machine": machine(), "runs": a.run, "windows": int(len(y)), "subjects": int(len(names)),
         "resamples": a.resamples, "point": dict(zip(("accuracy", "mAP"), map(float, point))),
         "interval_95": {k: [float(lo[j]), float(hi[j])] for j, k in enumerate(("accuracy", "mAP"))},
         "share_ahead": dict(zip(("accuracy", "mAP"), map(float, ahead))), "per_pair": each}, indent=1))
    print("\n".join(md))


if __name__ == "__main__":
    main()
