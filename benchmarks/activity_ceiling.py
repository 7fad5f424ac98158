"""How far more labels move the activity baseline on the simulator (issue 4's bar, diagnosed).

    .venv/bin/python benchmarks/activity_ceiling.py --data runs/ref/data --more runs/sim600 --subjects 600 \
        --out benchmarks/results/discriminative/ceiling.md

The reference split has 2,074 labelled training windows and every method (fine-tuned teacher, the
same ViT from scratch, the random forest on window statistics) lands at 82-84 % activity accuracy.
If that band is what the windows allow, no method can beat another by more than the test set's
noise, whatever its pretraining.  This script simulates more subjects with the reference seed
(subject i is the same person whatever the count, so the reference subjects are the first ones
and keep their split), trains the random forest of ``evaluate --task`` on the training windows of
the first 150, 300, ... subjects, and scores it on the reference test subjects (the same 686
windows as the committed tables) and on every test subject simulated.  Nothing is chosen here.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="the reference dataset (its test subjects are scored)")
    ap.add_argument("--more", required=True, help="folder for the larger simulation (made if absent)")
    ap.add_argument("--subjects", type=int, default=600)
    ap.add_argument("--steps", default="150,300,450,600", help="subject counts whose training windows are used")
    ap.add_argument("--seeds", default="0,1,2", help="random-forest seeds")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    from lsm_edge.data.dataset import Dataset
    from lsm_edge.data.simulate import write_simulated
    from lsm_edge.core.tasks import classical_baselines, metrics
    from lsm_edge.io import atomic_write_text
    from lsm_edge.schema import ACTIVITIES

    ref = json.loads((Path(a.data) / "dataset.json").read_text())["source"]
    more = Path(a.more)
    if not (more / "dataset.json").exists():
        write_simulated(more, a.subjects, ref["days"], seed=ref["seed"], min_observed=ref["min_observed"])
    big = Dataset(more)
    x_tr, y_tr, s_tr = split_with_subjects(big, "train")
    x_all, y_all, ref_test, _ = larger_test(a.data, big)
    y_ref, n_ref = y_all[ref_test], int(ref["subjects"])

    lines = ["# Activity: the random forest with more labelled subjects (issue 4, diagnosis)", "",
             f"Command: `python {' '.join(sys.argv)}`  ", f"Machine: {machine()}", "",
             f"Reference test windows: {len(y_ref)} ({n_ref} simulated subjects, seed {ref['seed']}); all test windows "
             f"of the {a.subjects} simulated: {len(y_all)}.  Random forest of `evaluate --task` (300 trees, balanced "
             "class weights, window statistics); mean ± sd over the forest's seeds.", "",
             "| subjects | labelled training windows | reference test: accuracy / mAP (%) | all test: accuracy / mAP (%) |",
             "|---|---|---|---|"]
    for n in (int(v) for v in a.steps.split(",")):
        use = subject_index(s_tr) < n
        cells = {"ref": [], "all": []}
        for seed in (int(v) for v in a.seeds.split(",")):
            p = classical_baselines(x_tr[use], y_tr[use], x_all, len(ACTIVITIES), seed=seed)["random forest"]
            cells["ref"].append(metrics(y_ref, p[ref_test], len(ACTIVITIES)))
            cells["all"].append(metrics(y_all, p, len(ACTIVITIES)))
        lines.append(f"| {n} | {int(use.sum()):,} | {fmt(cells['ref'])} | {fmt(cells['all'])} |")
        print(lines[-1], flush=True)
    atomic_write_text(Path(a.out), "\n".join(lines) + "\n")


def larger_test(data, big):
    """-> (windows, activity labels, mask of the reference subjects' windows, subject of each window) of every
    labelled test window of the larger simulation ``big`` (a Dataset), after checking that its first subjects
    reproduce the labelled test windows of the reference dataset ``data`` exactly."""
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.core.tasks import labelled

    x, y, s = split_with_subjects(big, "test")
    x_ref, y_ref = labelled(Dataset(data), "activity", "test")
    n_ref = int(json.loads((Path(data) / "dataset.json").read_text())["source"]["subjects"])
    ref = subject_index(s) < n_ref
    if ref.sum() != len(y_ref) or not np.array_equal(y[ref], y_ref) or not np.array_equal(x[ref], x_ref, equal_nan=True):
        raise SystemExit(f"the larger simulation's first {n_ref} subjects do not reproduce the test windows of {data}")
    return x, y, ref, s


def split_with_subjects(ds, split):
    """-> what ``finetune.labelled(ds, "activity", split)`` gives, and the subject of each window (one load)."""
    w = ds.load(split)
    keep = w.activity >= 0
    return w.values[keep], w.activity[keep].astype(np.int64), np.asarray(w.subject)[keep]


def subject_index(names):
    return np.array([int(str(s).rsplit("-", 1)[1]) for s in names])


def fmt(ms):
    acc = [100 * m["accuracy"] for m in ms]
    ap = [100 * m["mAP"] for m in ms]
    return f"{np.mean(acc):.1f} ± {np.std(acc):.1f} / {np.mean(ap):.1f} ± {np.std(ap):.1f}"


if __name__ == "__main__":
    main()
