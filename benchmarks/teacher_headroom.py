"""How much of an imputation error can any method remove?  Issue 3's bar, against the simulator's floor.

The issue asks the reference teacher to beat linear interpolation by 15 % MAE on 60-minute gaps.
On simulated data that bar can be checked against what is predictable at all: the simulator is
re-run for the scored test subjects with the same seed and every per-minute fluctuation scaled to
zero (``simulate_subject(iid_noise=0, fast_noise=0)``), which keeps each subject's states, bouts,
slow drifts and missingness and drops only the noise.  Two oracles fill the hidden cells:

- ``oracle: no white noise``    knows everything except the independent per-minute draws;
- ``oracle: no fast noise``     also does not know the AR(1) fluctuations that forget within ~10
                                minutes (heart rate's, arm tilt's, the accelerometer energy's ...).

Neither is a strict lower bound (a method that sees the gap's edges can predict a fast fluctuation
for a few minutes after them, and the conditional median of a clipped sum is not exactly its clean
value), but the white-noise oracle's error is error no method can avoid: nothing observed tells
about an independent draw.  The oracles also know the hidden hour's bouts, which no method can see,
so the achievable error lies above them.  Windows, masks and seeds are those of
``lsm-edge evaluate --windows 512`` (the committed generative.md): the script checks that the
re-simulated noisy windows equal the stored ones before it scores anything.

    python benchmarks/teacher_headroom.py --teacher runs/ref/teacher --data runs/ref/data \\
        --out benchmarks/results/teacher/headroom
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lsm_edge.core.measure import machine
from lsm_edge.data.dataset import Dataset
from lsm_edge.data.simulate import simulate_subject
from lsm_edge.data.windows import cut_windows, fill_linear
from lsm_edge.core.scoring import default_tasks, evaluate_generative, gain, model_method
from lsm_edge.io import atomic_write_text
from lsm_edge.core.run import load_run

ORACLES = {"oracle: no white noise": dict(iid_noise=0.0), "oracle: no fast noise": dict(iid_noise=0.0, fast_noise=0.0)}
EDGES = "linear from noise-free edges"
FOCUS = ("interpolation 60 min", "extrapolation 60 min")


def resimulate(test, source: dict, **noise) -> np.ndarray:
    """Values [N, 300, 26] of the stored windows ``test``, simulated again with ``noise`` scales."""
    out = np.full(test.values.shape, np.nan, np.float32)
    for name in tqdm(sorted(set(test.subject)), desc=f"re-simulating {noise or 'as stored'}", unit="subject"):
        index = int(name.split("-")[1])
        tl = simulate_subject(source["seed"], index, source["days"], **noise)
        w = cut_windows(tl, split=0, min_observed=source["min_observed"])
        at = {s: i for i, s in enumerate(w.start)}
        for i in np.flatnonzero(test.subject == name):
            out[i] = w.values[at[test.start[i]]]
    return out


def oracle_method(z_clean: np.ndarray):
    return lambda z_in: np.where(np.isnan(z_in), z_clean, z_in)


def edges_method(z_clean: np.ndarray):
    """Linear interpolation from noise-free values at the observed cells: what is left of linear's
    error when its anchors carry no noise, i.e. the part made by what changes inside the gap."""
    return lambda z_in: np.where(np.isnan(z_in), fill_linear(np.where(np.isnan(z_in), np.nan, z_clean)), z_in)


def markdown(res: dict, meta: dict) -> str:
    methods = list(next(iter(res.values())))
    lines = ["# Headroom of the generative tasks (issue 3)", "",
             *[f"- {k}: {v}" for k, v in meta.items()], "",
             "MAE in z-units on hidden, originally observed cells; gain = 1 - method / linear.  "
             "'share' = the part of linear's error above the white-noise oracle that the teacher removes.", "",
             "| task | " + " | ".join(methods) + " | teacher gain | white-noise oracle gain | no-fast-noise oracle gain | share |",
             "|" + "---|" * (len(methods) + 5)]
    g = {m: gain(res, m) for m in methods}
    for t, r in res.items():
        lin, tea, orc = r["linear"]["mae"], r["teacher"]["mae"], r["oracle: no white noise"]["mae"]
        share = (lin - tea) / (lin - orc) if lin > orc else float("nan")
        lines.append(f"| {t} | " + " | ".join(f"{r[m]['mae']:.3f}" for m in methods)
                     + f" | {100 * g['teacher'][t]:+.1f}% | {100 * g['oracle: no white noise'][t]:+.1f}%"
                     + f" | {100 * g['oracle: no fast noise'][t]:+.1f}% | {100 * share:.0f}% |")
    for t in FOCUS:
        r = {m: v["mae_per_feature"] for m, v in res[t].items()}
        lines += ["", f"## {t}, per feature (MAE, z-units)", "",
                  "| feature | " + " | ".join(r) + " | teacher gain |", "|" + "---|" * (len(r) + 2)]
        for f in r["linear"]:
            lines.append(f"| {f} | " + " | ".join(f"{r[m][f]:.3f}" for m in r)
                         + f" | {100 * (1 - r['teacher'][f] / r['linear'][f]):+.1f}% |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--data", required=True, help="the simulated dataset the teacher was trained on")
    ap.add_argument("--windows", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="writes OUT.md and OUT.json")
    a = ap.parse_args(argv)

    ds = Dataset(a.data)
    source = ds.manifest["source"]
    if source.get("kind") != "simulator":
        sys.exit(f"{a.data} was not simulated (source {source}); the oracles need the simulator")
    model, stats, cfg = load_run(a.teacher)
    test = ds.load("test").take(slice(0, a.windows))
    again = resimulate(test, source)
    if not np.array_equal(np.isnan(again), np.isnan(test.values)) or not np.allclose(
            np.nan_to_num(again), np.nan_to_num(test.values)):
        sys.exit("re-simulated windows differ from the stored ones: a different simulator version?")
    z = stats.normalize(test.values)
    methods = {"linear": lambda z_in: fill_linear(z_in), "teacher": model_method(model)}
    for name, noise in ORACLES.items():
        methods[name] = oracle_method(clean := stats.normalize(resimulate(test, source, **noise)))
    methods[EDGES] = edges_method(clean)
    res = evaluate_generative(z, methods, default_tasks(), a.seed, per_feature=True)
    meta = {"command": "python " + " ".join(sys.argv), "teacher": a.teacher, "data": a.data,
            "windows": len(z), "subjects": int(len(set(test.subject))), "seed": a.seed,
            "machine": json.dumps(machine())}
    out = Path(a.out)
    atomic_write_text(out.with_suffix(".json"), json.dumps({"meta": meta, "results": res}, indent=1))
    atomic_write_text(out.with_suffix(".md"), markdown(res, meta))
    print(markdown(res, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
