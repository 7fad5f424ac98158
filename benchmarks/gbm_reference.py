"""How much of linear interpolation's 60-minute error can a learned method recover from the context?

Issue 3 asks the teacher to beat linear interpolation by 15 % MAE on 60-minute interpolation and
extrapolation.  ``teacher_headroom.py`` bounds that from below with oracles that know the hidden
hour, which no method can.  This script gives the other side: an *achievable* figure from a plain,
well-understood learner.  For each of the 26 features, a gradient-boosted tree regressor
(scikit-learn's HistGradientBoostingRegressor, L1 loss, since MAE is scored) predicts the hidden
minute from summaries of the context:

    for every feature: the last observed value before the gap and the first after it, the means over
    the 5 / 15 / 30 / 60 observed minutes on each side and the std over 30; the feature's own linear
    fill at that minute; the minute's relative position in the gap.

It is trained on the training subjects' windows with gaps drawn like the evaluation's, and scored
on exactly the windows and masks of ``lsm-edge evaluate --windows 512`` (the committed
generative.md): the script checks that its linear-interpolation MAE equals the one recorded there.
If trees on edge summaries beat linear by less than the bar, the bar is near what the context
holds; if by more, the teacher is short of what the context holds.

    python benchmarks/gbm_reference.py --data runs/ref/data --teacher-eval benchmarks/results/teacher/generative.json \\
        --out benchmarks/results/teacher/gbm_reference
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lsm_edge import schema
from lsm_edge.core.measure import machine
from lsm_edge.data import masks
from lsm_edge.data.dataset import Dataset
from lsm_edge.data.stats import NormStats
from lsm_edge.data.windows import fill_linear
from lsm_edge.core.scoring import default_tasks
from lsm_edge.io import atomic_write_text

GAP = 60
SIDES = (5, 15, 30, 60)


def _nanstat(fn, x, axis):
    with warnings.catch_warnings():  # a side with no observed minute of a feature gives NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(x, axis=axis)


def context_features(z: np.ndarray, start: np.ndarray, minutes: int) -> np.ndarray:
    """z: [N, 300, F] with the gap already NaN; gap [start, start + minutes) -> [N, n_summary].

    Summaries per feature of the observed minutes before and after the gap (NaN where a side is
    empty, which the trees handle natively)."""
    N, T, F = z.shape
    out = []
    for i in range(N):
        s, e = int(start[i]), int(start[i]) + minutes
        left, right = z[i, :s], z[i, e:]
        row = []
        for side, rev in ((left, True), (right, False)):
            seq = side[::-1] if rev else side  # nearest minute first
            if not len(seq):  # extrapolation: nothing after the gap
                row += [np.full(F, np.nan, np.float32)] * (len(SIDES) + 2)
                continue
            obs = ~np.isnan(seq)
            first = np.full(F, np.nan, np.float32)
            has = obs.any(0)
            first[has] = seq[obs.argmax(0)[has], np.flatnonzero(has)]
            row.append(first)
            for k in SIDES:
                row.append(_nanstat(np.nanmean, seq[:k], 0))
            row.append(_nanstat(np.nanstd, seq[:30], 0))
        out.append(np.concatenate(row))
    return np.asarray(out, np.float32)


def design(z_in: np.ndarray, lin: np.ndarray, start: np.ndarray, minutes: int, f: int, ctx: np.ndarray,
           offsets: np.ndarray) -> np.ndarray:
    """Rows for feature f at gap minutes ``offsets`` [N, k]: context summaries, f's linear fill, position."""
    N, k = offsets.shape
    t = start[:, None] + offsets
    lin_f = lin[np.arange(N)[:, None], t, f]
    return np.concatenate([np.repeat(ctx, k, 0), lin_f.reshape(-1, 1),
                           (offsets.reshape(-1, 1) + 0.5) / minutes], 1)


def gap_starts(task: str, rng, n: int, minutes: int) -> np.ndarray:
    """Start minutes distributed as the evaluation's (masks.interpolation / masks.extrapolation)."""
    if task == "interpolation":
        return rng.integers(30, schema.WINDOW_MINUTES - 30 - minutes + 1, n)
    return np.full(n, schema.WINDOW_MINUTES - minutes)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--teacher-eval", help="generative.json of the teacher on the same windows (for the table)")
    ap.add_argument("--windows", type=int, default=512)
    ap.add_argument("--train-windows", type=int, default=4000)
    ap.add_argument("--minutes-per-gap", type=int, default=12, help="training rows drawn per training gap")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="writes OUT.md and OUT.json")
    a = ap.parse_args(argv)
    from sklearn.ensemble import HistGradientBoostingRegressor

    t0 = time.perf_counter()
    ds = Dataset(a.data)
    train_w = ds.load("train")
    stats = NormStats.fit([train_w.values])  # what `lsm-edge train` computes on these subjects
    rng = np.random.default_rng([a.seed, 7])
    z_tr = stats.normalize(train_w.values[rng.permutation(len(train_w))[: a.train_windows]])
    test = ds.load("test").take(slice(0, a.windows))
    z_te = stats.normalize(test.values)
    labels = [t.label for t in default_tasks()]
    results = {}
    for task in ("interpolation", "extrapolation"):
        label = f"{task} {GAP} min"
        k = labels.index(label)  # evaluate_generative draws task k's masks from default_rng([seed, k])
        hide = masks.make_mask(task, np.random.default_rng([a.seed, k]), len(z_te), GAP)
        start_te = hide[:, :, 0].argmax(1)
        z_in_te = np.where(hide, np.nan, z_te)
        lin_te = fill_linear(z_in_te)
        ctx_te = context_features(z_in_te, start_te, GAP)
        start_tr = gap_starts(task, rng, len(z_tr), GAP)
        gap_tr = (np.arange(schema.WINDOW_MINUTES)[None] >= start_tr[:, None]) & (
            np.arange(schema.WINDOW_MINUTES)[None] < start_tr[:, None] + GAP)
        z_in_tr = np.where(gap_tr[:, :, None], np.nan, z_tr)
        lin_tr = fill_linear(z_in_tr)
        ctx_tr = context_features(z_in_tr, start_tr, GAP)
        off_tr = np.stack([rng.choice(GAP, a.minutes_per_gap, replace=False) for _ in range(len(z_tr))])
        off_te = np.broadcast_to(np.arange(GAP), (len(z_te), GAP))
        pred = lin_te.copy()
        for f in tqdm(range(schema.N_FEATURES), desc=f"trees, {label}", unit="feature"):
            X = design(z_in_tr, lin_tr, start_tr, GAP, f, ctx_tr, off_tr)
            y = z_tr[np.arange(len(z_tr))[:, None], start_tr[:, None] + off_tr, f].reshape(-1)
            ok = ~np.isnan(y)
            if ok.sum() < 100:
                continue
            cols = ~np.isnan(X).all(0)  # extrapolation: the after-gap summaries are all NaN
            reg = HistGradientBoostingRegressor(loss="absolute_error", max_iter=300, learning_rate=0.1,
                                                early_stopping=True, validation_fraction=0.1, random_state=a.seed)
            reg.fit(X[ok][:, cols], y[ok])
            Xt = design(z_in_te, lin_te, start_te, GAP, f, ctx_te, off_te)
            t = start_te[:, None] + off_te
            pred[np.arange(len(z_te))[:, None], t, f] = reg.predict(Xt[:, cols]).reshape(len(z_te), GAP)
        scored = hide & ~np.isnan(z_te)
        results[label] = {name: float(np.abs(v - z_te)[scored].mean())
                          for name, v in (("linear", lin_te), ("gradient-boosted trees", pred))}
        results[label]["cells"] = int(scored.sum())
        print(label, results[label], flush=True)
    teacher = {}
    if a.teacher_eval:
        rec = json.loads(Path(a.teacher_eval).read_text())["results"]
        for label in results:
            if abs(rec[label]["linear"]["mae"] - results[label]["linear"]) > 1e-4:
                sys.exit(f"{label}: linear MAE {results[label]['linear']:.5f} here but "
                         f"{rec[label]['linear']['mae']:.5f} in {a.teacher_eval}: not the same windows and masks")
            teacher[label] = rec[label]["teacher"]["mae"]
    meta = {"command": "python " + " ".join(sys.argv), "data": a.data, "windows": len(z_te),
            "subjects": int(len(set(test.subject))), "train_windows": len(z_tr),
            "rows_per_feature": len(z_tr) * a.minutes_per_gap, "seconds": round(time.perf_counter() - t0),
            "machine": json.dumps(machine())}
    lines = ["# A learned reference without a neural network: gradient-boosted trees on the context", "",
             *[f"- {k}: {v}" for k, v in meta.items()], "",
             "MAE in z-units on hidden, originally observed cells of the committed generative.md's windows and "
             "masks; gain = 1 - method / linear.", "",
             "| task | linear | trees on edge summaries | teacher | trees gain | teacher gain |", "|---|---|---|---|---|---|"]
    for label, r in results.items():
        lin, gbm, tea = r["linear"], r["gradient-boosted trees"], teacher.get(label, float("nan"))
        lines.append(f"| {label} | {lin:.3f} | {gbm:.3f} | {tea:.3f} | {100 * (1 - gbm / lin):+.1f}% | "
                     f"{100 * (1 - tea / lin):+.1f}% |")
    out = Path(a.out)
    atomic_write_text(out.with_suffix(".json"), json.dumps({"meta": meta, "results": results, "teacher": teacher}, indent=1))
    atomic_write_text(out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
