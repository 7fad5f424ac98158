"""`lsm-edge fill`'s bars (issue 49 §1), through the released int8 student as an app would run it.

    python benchmarks/fill.py throughput   # minutes filled per second for one person-year, one thread
    python benchmarks/fill.py sets         # every real set: observed cells unchanged, nothing filled in a long gap
    python benchmarks/fill.py spans        # hidden 60-minute spans of the test people: fill's gain over linear
                                           # against the gain evaluate-real reports for the same file
    -> benchmarks/results/people/fill_*.md / .json

`spans` draws exactly evaluate-real's spans (the same person roles, windows, seed and generator), hides each in
the person's whole timeline (every channel, as evaluate-real hides them), fills the timeline with `fill`'s
defaults (and once more without clipping fills to the valid range, as evaluate-real does not), and scores the hidden cells `fill` filled against linear interpolation inside the same window (what
evaluate-real's `linear` does).  The other report is benchmarks/results/real/cohorts/test.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
MODEL = ROOT / "pretrained" / "real_student_conv64" / "student_conv64_int8.tflite"
OUT = ROOT / "benchmarks" / "results" / "people"
REPORT = ROOT / "benchmarks" / "results" / "real" / "cohorts" / "test.json"
METHOD = "student_conv64_int8"  # the same file's name in that report


def _machine() -> dict:
    from lsm_edge.core.measure import machine

    return machine()


def throughput(days: int = 365, seed: int = 0) -> dict:
    """One simulated person-year with a tenth of its heart rate, steps and counts in gaps of 5-120 minutes."""
    from lsm_edge import schema
    from lsm_edge.core.scoring import artifact_imputer
    from lsm_edge.data.simulate import simulate_timelines
    from lsm_edge.verbs.fill import FILLED, fill_values

    tl = next(iter(simulate_timelines(1, days, seed=seed)))
    v = tl.values.copy()
    rng = np.random.default_rng(seed)
    chans = ["heart_rate", "step_count", "log_energy"]
    hidden = 0
    while hidden < 0.1 * len(v):
        a, n = int(rng.integers(0, len(v) - 120)), int(rng.integers(5, 121))
        v[a:a + n, [schema.INDEX[c] for c in chans]] = np.nan
        hidden += n
    impute = artifact_imputer(MODEL)  # lsm_edge.runtime, one thread
    t0 = time.perf_counter()
    _, flags = fill_values(v, impute, chans)
    dt = time.perf_counter() - t0
    return {"minutes": len(v), "days": days, "channels": chans, "filled_cells": int((flags == FILLED).sum()),
            "seconds": dt, "minutes_per_second": len(v) / dt, "threads": 1, "model": str(MODEL.relative_to(ROOT))}


def check_sets() -> dict:
    """Every real set, every person, every channel fill knows: observed cells unchanged, no filled cell inside a
    gap longer than max_gap, and how much was filled."""
    from lsm_edge import schema
    from lsm_edge.core.scoring import CHANNELS, artifact_imputer
    from lsm_edge.verbs.evaluate_real import read_sets
    from lsm_edge.verbs.fill import DEFAULT_MAX_GAP, FILLED, fill_values, gaps

    impute = artifact_imputer(MODEL)
    res = {}
    for s, tls in read_sets(REAL, progress=True).items():
        row = {"people": 0, "minutes": 0, "filled": 0, "changed_observed": 0, "filled_in_long_gaps": 0}
        for tl in tls:
            chans = [c for c in CHANNELS if np.isfinite(tl.values[:, schema.INDEX[c]]).any()]
            if not chans:
                continue
            out, flags = fill_values(tl.values, impute, chans)
            seen = np.isfinite(tl.values)
            row["people"] += 1
            row["minutes"] += tl.minutes
            row["filled"] += int((flags == FILLED).sum())
            row["changed_observed"] += int((out[seen] != tl.values[seen]).sum())
            for k, c in enumerate(chans):
                for a, n in gaps(~seen[:, schema.INDEX[c]]):
                    if n > DEFAULT_MAX_GAP:
                        row["filled_in_long_gaps"] += int((flags[a:a + n, k] == FILLED).sum())
        res[s] = row
        print(s, row, flush=True)
    return res


def spans(minutes: int = 60, seed: int = 0) -> dict:
    from lsm_edge import schema
    from lsm_edge.core.scoring import (CHANNELS, SPAN_HORIZONS, SPAN_TASKS, artifact_imputer, draw_spans,
                                       linear_fill, to_unit)
    from lsm_edge.verbs.evaluate_real import channels_of, plan, read_sets
    from lsm_edge.verbs.fill import FILLED, W, fill_values

    reported = json.loads(REPORT.read_text())["imputation"]
    impute = artifact_imputer(MODEL)
    sets = read_sets(REAL, progress=True)
    p = plan(sets, "test")
    k = [(t, m) for t in SPAN_TASKS[:2] for m in SPAN_HORIZONS].index(("interpolation", minutes))
    res = {}
    for s, tls in p["imputation_sets"].items():
        for channel in channels_of(tls):
            key = f"{s} {CHANNELS[channel][0]}"
            if key not in reported or f"interpolation {minutes} min" not in reported[key]["tasks"]:
                continue
            j = schema.INDEX[channel]
            where, wins = [], []  # (person index, window start) of each of evaluate-real's windows, in its order
            for pi, tl in enumerate(p["scored_of"][s]):
                for a in range(0, tl.minutes - W + 1, W):
                    if np.mean(~np.isnan(tl.values[a:a + W, j])) >= 0.5:
                        where.append((pi, a))
                        wins.append(tl.values[a:a + W])
            if not wins:
                continue
            drawn = draw_spans(np.asarray(wins), channel, "interpolation", minutes, np.random.default_rng([seed, k]))
            err = {"fill": 0.0, "unclipped": 0.0, "linear": 0.0}
            cells = unfilled = 0
            for pi, tl in enumerate(p["scored_of"][s]):
                mine = [(where[i][1], st) for i, st in drawn if where[i][0] == pi]
                if not mine:
                    continue
                v = tl.values.copy()
                for a, st in mine:
                    v[a + st:a + st + minutes] = np.nan  # every channel, as evaluate-real hides a span
                out, flags = fill_values(v, impute, [channel])
                raw, _ = fill_values(v, impute, [channel], clip=False)
                for a, st in mine:
                    x = tl.values[a:a + W].copy()
                    x[st:st + minutes] = np.nan
                    lin = linear_fill(x[None])[0, st:st + minutes, j]
                    truth = tl.values[a + st:a + st + minutes, j]
                    ok = ~np.isnan(truth)
                    done = ok & (flags[a + st:a + st + minutes, 0] == FILLED)
                    unfilled += int((ok & ~done).sum())
                    u = lambda z: to_unit(channel, z)  # noqa: E731
                    err["fill"] += float(np.abs(u(out[a + st:a + st + minutes, j][done]) - u(truth[done])).sum())
                    err["unclipped"] += float(np.abs(u(raw[a + st:a + st + minutes, j][done]) - u(truth[done])).sum())
                    err["linear"] += float(np.abs(u(lin[done]) - u(truth[done])).sum())
                    cells += int(done.sum())
            gain = 1 - err["fill"] / err["linear"]
            theirs = reported[key]["tasks"][f"interpolation {minutes} min"]["methods"][METHOD]["gain"]["linear"][0]
            res[key] = {"windows": len(drawn), "people": len({where[i][0] for i, _ in drawn}), "cells": cells,
                        "hidden_cells_left_missing": unfilled, "fill_gain": gain, "evaluate_real_gain": theirs,
                        "difference_points": 100 * (gain - theirs),
                        "fill_gain_unclipped": 1 - err["unclipped"] / err["linear"],
                        "difference_points_unclipped": 100 * (1 - err["unclipped"] / err["linear"] - theirs)}
            print(key, res[key], flush=True)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=["throughput", "sets", "spans"])
    a = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    res = {"throughput": throughput, "sets": check_sets, "spans": spans}[a.stage]()
    res = {"command": f"python benchmarks/fill.py {a.stage}", "machine": _machine(), "result": res}
    (OUT / f"fill_{a.stage}.json").write_text(json.dumps(res, indent=1))
    print(json.dumps(res["result"], indent=1)[:3000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
