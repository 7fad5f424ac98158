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

``--against RUN`` (repeat, one per ``--run``) pairs run i with classifier run i instead of a forest
(e.g. the ViT trained from scratch with the same seed).

``--fresh-from K`` adds the same figures on the test subjects whose index is K or more only: with a
larger simulation whose first K subjects made an earlier, undecided test set, those rows are an
independent replication on subjects never scored before.
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
    ap.add_argument("--against", action="append", default=[],
                    help="a classifier run to pair with the --run of the same position, instead of the forest")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--fresh-from", type=int, default=None,
                    help="also report the test subjects with index >= this only (subjects not scored before)")
    ap.add_argument("--out", required=True, help="Markdown report (a .json beside it)")
    a = ap.parse_args()
    if a.against and len(a.against) != len(a.run):
        sys.exit(f"--against: {len(a.against)} runs given, expected one per --run ({len(a.run)})")
    other = "other run" if a.against else "forest"

    from activity_ceiling import larger_test, subject_index
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.core.tasks import TASKS, classical_baselines, labelled, metrics, predict_proba
    from lsm_edge.core.run import load_run

    n_classes = len(TASKS["activity"])
    x, y, _, subjects = larger_test(a.data, Dataset(a.extra_test))
    xtr, ytr = labelled(Dataset(a.data), "activity", "train")

    def scored(run):
        model, stats, cfg = load_run(run)
        if cfg.get("task") != "activity":
            sys.exit(f"{run} is not an activity classifier run (task {cfg.get('task')!r})")
        return predict_proba(model, stats.normalize(x))

    pairs = []
    for seed, run in enumerate(tqdm(a.run, desc="scoring pairs", unit="pair")):
        pairs.append((scored(run), scored(a.against[seed]) if a.against
                      else classical_baselines(xtr, ytr, x, n_classes, seed=seed)["random forest"]))

    def pair_diff(p, f, idx):
        """-> [accuracy, mAP] of classifier probabilities ``p`` minus the other side's ``f`` on windows ``idx``."""
        mp, mf = metrics(y[idx], p[idx], n_classes), metrics(y[idx], f[idx], n_classes)
        return [mp["accuracy"] - mf["accuracy"], mp["mAP"] - mf["mAP"]]

    def paired(keep, desc):
        """-> point, 2.5 and 97.5 percentiles, share ahead, per-pair differences, windows, subjects of windows ``keep``."""
        names = np.unique(subjects[keep])
        rows = [np.flatnonzero(keep & (subjects == s)) for s in names]
        rng = np.random.default_rng(0)
        whole = np.flatnonzero(keep)
        sides = [[metrics(y[whole], q[whole], n_classes) for q in pf] for pf in pairs]
        each = [[mp[k] - mf[k] for k in ("accuracy", "mAP")] for mp, mf in sides]
        means = {side: {k: float(np.mean([s[i][k] for s in sides])) for k in ("accuracy", "mAP")}
                 for i, side in enumerate(("classifier", other))}
        boot = []
        for _ in tqdm(range(a.resamples), desc=desc, unit="resample"):
            idx = np.concatenate([rows[i] for i in rng.integers(0, len(names), len(names))])
            boot.append(np.mean([pair_diff(p, f, idx) for p, f in pairs], 0))
        lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
        return {"point": np.mean(each, 0), "lo": lo, "hi": hi, "ahead": (np.array(boot) > 0).mean(0),
                "each": [dict(zip(("accuracy", "mAP"), map(float, e))) for e in each],
                "windows": int(keep.sum()), "subjects": int(len(names)), "means": means}

    sets = {"all test subjects": paired(np.ones(len(y), bool), "bootstrap")}
    if a.fresh_from is not None:
        fresh = subject_index(subjects) >= a.fresh_from
        if not fresh.any():
            sys.exit(f"--fresh-from {a.fresh_from}: no test subject of {a.extra_test} has that index or more")
        sets[f"subjects {a.fresh_from} and above only"] = paired(fresh, "bootstrap (fresh subjects)")

    cmd = "python benchmarks/paired_vs_forest.py " + " ".join(sys.argv[1:])
    md = [f"# Fine-tuned classifier vs {'another classifier run' if a.against else 'random forest'}, paired by "
          "window, resampled by subject", "",
          f"Command: `{cmd}`  ", f"Machine: {machine()}", "",
          f"Test windows of `{a.extra_test}`; {len(pairs)} pairs (run i with "
          f"{'--against run i' if a.against else 'the forest of seed i'}); "
          f"{a.resamples} subject-level bootstrap resamples.", "",
          f"| test set | windows | subjects | metric | classifier | {other} | classifier - {other} (points) "
          "| 95 % interval | resamples with the classifier ahead | per pair |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in sets.items():
        for j, k in enumerate(("accuracy", "mAP")):
            md.append(f"| {name} | {r['windows']:,} | {r['subjects']} | {k} | {100 * r['means']['classifier'][k]:.1f} | "
                      f"{100 * r['means'][other][k]:.1f} | {100 * r['point'][j]:+.1f} | "
                      f"{100 * r['lo'][j]:+.1f} .. {100 * r['hi'][j]:+.1f} | {100 * r['ahead'][j]:.1f} % | "
                      f"{', '.join(f'{100 * e[k]:+.1f}' for e in r['each'])} |")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(md) + "\n")

    def as_json(r):
        return {"windows": r["windows"], "subjects": r["subjects"], "means": r["means"],
                "point": dict(zip(("accuracy", "mAP"), map(float, r["point"]))),
                "interval_95": {k: [float(r["lo"][j]), float(r["hi"][j])] for j, k in enumerate(("accuracy", "mAP"))},
                "share_ahead": dict(zip(("accuracy", "mAP"), map(float, r["ahead"]))), "per_pair": r["each"]}

    first = as_json(sets["all test subjects"])
    out.with_suffix(".json").write_text(json.dumps(
        {"command": cmd, "machine": machine(), "runs": a.run, "against": a.against or "random forest", "resamples": a.resamples, **first,
         "fresh_from": a.fresh_from, "sets": {name: as_json(r) for name, r in sets.items()}}, indent=1))
    print("\n".join(md))


if __name__ == "__main__":
    main()
