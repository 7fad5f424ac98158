"""Why the teacher's embedding probe falls short of the random forest on aw_fb: probe variants.

    python benchmarks/real_probe_variants.py --teacher runs/ref/teacher --data ../shared/data/real \
        --out benchmarks/results/real/probe_variants.md

The same segments and participant-grouped folds as ``lsm-edge evaluate-real``.  Every variant here
is scored on those folds, so picking the best of them would be selecting on the test participants:
this is a diagnosis of where the gap comes from, not a tuned result.  evaluate-real's two probes
(logistic regression, C = 1, and the baseline's random forest, both on the pooled embedding averaged
over the segment's 10 placements in a patch: ``evaluate_real.phase_average``) are marked; the last
table repeats the two random forests (statistics, phase-averaged embedding) over five seeds, so that
the gap between them is not one draw of the forest.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--data", required=True, help="folder holding aw_fb/")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from lsm_edge import schema
    from lsm_edge.data.autoimport import read_any
    from lsm_edge.core.probes import activity_folds, keras_embed, phase_average
    from lsm_edge.verbs.evaluate_real import segment_stats, segments
    from lsm_edge.io import atomic_write_text
    from lsm_edge.core.run import load_run
    from lsm_edge.core.inputs import model_inputs

    x, y, g = segments(read_any(Path(a.data) / "aw_fb")[0])
    minutes = (~np.isnan(x).all(2)).sum(1)
    teacher, stats, _ = load_run(a.teacher)
    enc, pooled, valid = [], [], []
    for i in range(0, len(x), 64):
        inp = model_inputs(stats.normalize(x[i:i + 64]))
        e, p = teacher.embed(inp["values"], inp["missing"])
        enc.append(np.asarray(e))
        pooled.append(np.asarray(p))
        valid.append(np.asarray(teacher.tokens(inp["values"], inp["missing"])[1]))
    enc, pooled, valid = np.concatenate(enc), np.concatenate(pooled), np.concatenate(valid)
    used = np.flatnonzero(valid.any(0))  # token positions that hold data in any segment
    grid = enc[:, used].reshape(len(y), -1)
    mx = np.where(valid[:, :, None], enc, -np.inf).max(1)
    phased = phase_average(keras_embed(teacher, stats), x)
    seg_stats = segment_stats(x)

    folds = activity_folds(y, g)

    def lr(c=1.0):
        return lambda: make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))

    def mlp():
        return make_pipeline(StandardScaler(), MLPClassifier((256,), alpha=1e-2, max_iter=2000,
                                                             early_stopping=True, random_state=0))

    def rf():
        return RandomForestClassifier(300, random_state=0, n_jobs=1)

    rows = [("random forest, segment statistics (the bar)", seg_stats, rf),
            ("logistic regression, segment statistics", seg_stats, lr()),
            *[(f"linear probe, pooled embedding, C = {c}" + (" (evaluate-real's probe until 2026-12)" if c == 1 else ""),
               pooled, lr(c)) for c in (0.01, 0.1, 1, 10)],
            ("linear probe, pooled mean + max over data tokens", np.concatenate([pooled, mx], 1), lr()),
            (f"linear probe, the {len(used)} token positions that hold data, concatenated", grid, lr(0.1)),
            ("MLP (256) probe, pooled embedding", pooled, mlp),
            ("random forest, pooled embedding", pooled, rf),
            (f"random forest, the {len(used)} data token positions", grid, rf),
            ("linear probe, pooled embedding averaged over 10 phases (evaluate-real's linear probe)", phased, lr()),
            ("random forest, pooled embedding averaged over 10 phases (evaluate-real's forest probe)", phased, rf)]
    lines = ["# aw_fb: probe variants on the teacher's embedding (diagnosis, not a tuned result)", "",
             f"Command: `python {' '.join(sys.argv)}`  ",
             f"Machine: {platform.machine()}, {platform.python_version()}; teacher {a.teacher}", "",
             f"{len(y)} segments, {len(set(g))} participants, 5 participant-grouped folds.  Segment length "
             f"min / median / max: {minutes.min()} / {np.median(minutes):.0f} / {minutes.max()} minutes, i.e. "
             f"1-2 of the teacher's 10-minute patches; token positions holding data: {used.tolist()} "
             f"(median {np.median(valid.sum(1)):.0f} tokens per segment).", "",
             "| features -> classifier | accuracy (± std over folds) |", "|---|---|"]
    for name, f, make in rows:
        acc = [np.mean(make().fit(f[tr], y[tr]).predict(f[te]) == y[te]) for tr, te in folds]
        lines.append(f"| {name} | {100 * np.mean(acc):.1f}% ± {100 * np.std(acc):.1f} |")
        print(lines[-1], flush=True)
    lines += ["", "Random-forest seeds (accuracy, mean over the folds):", "",
              "| seed | segment statistics | pooled embedding, 10 phases | gap |", "|---|---|---|---|"]
    for seed in range(5):
        acc = [np.mean([np.mean(RandomForestClassifier(300, random_state=seed, n_jobs=1).fit(f[tr], y[tr])
                                .predict(f[te]) == y[te]) for tr, te in folds]) for f in (seg_stats, phased)]
        lines.append(f"| {seed} | {100 * acc[0]:.1f}% | {100 * acc[1]:.1f}% | {100 * (acc[0] - acc[1]):.1f} |")
        print(lines[-1], flush=True)
    hr, st = schema.INDEX["heart_rate"], schema.INDEX["step_count"]
    lines += ["", f"Observed cells per segment (median): heart rate {np.median((~np.isnan(x[:, :, hr])).sum(1)):.0f}, "
                  f"steps {np.median((~np.isnan(x[:, :, st])).sum(1)):.0f}.", ""]
    atomic_write_text(Path(a.out), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
