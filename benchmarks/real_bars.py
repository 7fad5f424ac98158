"""Issue 37's bars from an evaluate-real report: at 60 minutes, each model's gain over the bar's baseline
(heart rate: linear for interpolation and steps visible, the last value for extrapolation; steps and
counts: the best classical method of that row), with its 95 % interval of a bootstrap over people where the
report has one, and the real-pretrained models against the simulator teacher adapted the same way.  Prints a
Markdown table.

    python benchmarks/real_bars.py benchmarks/results/real/pretraining/test.json \
        --models conv96x5 student_conv64_int8 > benchmarks/results/real/pretraining/bars.md
"""

from __future__ import annotations

import argparse
import json

from lsm_edge.core.scoring import MODEL_FREE, reference

BARS = {kind: (reference(kind), bar) for kind, bar in (("interpolation", 10.0), ("extrapolation", 15.0),
                                                       ("steps visible", 20.0))}


def baseline(channel: str, task: str, methods: dict) -> tuple[str, str, float]:
    """-> (task kind, baseline method, bar in %) of one report row: heart rate against the bar's baseline,
    steps and counts against the best classical method of the row (bar: beat it)."""
    kind = next(k for k in BARS if k in task)
    if channel == "heart_rate":
        return (kind, *BARS[kind])
    return kind, min(MODEL_FREE, key=lambda c: methods[c]["mae_unit"]), 0.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report")
    ap.add_argument("--models", nargs="+", required=True, help="Method names in the report (runs and .tflite stems).")
    ap.add_argument("--minutes", type=int, default=60)
    a = ap.parse_args(argv)
    rep = json.loads(open(a.report).read())
    cols = a.models + ["teacher adapted"]
    print(f"| set, task ({a.minutes} min) | people | windows | baseline | bar | " + " | ".join(f"`{m}`" for m in cols) + " |")
    print("|---|---|---|---|---|" + "---|" * len(cols))
    for key, d in rep["imputation"].items():
        for task, row in d["tasks"].items():
            if not task.endswith(f" {a.minutes} min"):
                continue
            m = row["methods"]
            _, base, bar = baseline(d["channel"], task, m)
            b = m[base]["mae_unit"]
            cells = []
            for c in cols:
                if c not in m:
                    cells.append("-")
                    continue
                gain = 100 * (b - m[c]["mae_unit"]) / b
                ci = m[c].get("gain", {}).get(base)  # the 95 % interval over people, where the report has it
                mark = "" if c == "teacher adapted" else (" ✓" if gain >= bar and gain > 0 else " ✗")
                span = f" [{100 * ci[1]:+.1f}, {100 * ci[2]:+.1f}]" if ci else ""
                cells.append(f"{m[c]['mae_unit']:.2f} ({gain:+.1f} %{span}){mark}")
            print(f"| {key}, {task.rsplit(' ', 2)[0]} | {len(d['subjects'])} | {row['windows']} | {base} {b:.2f} | "
                  f"{'+' + format(bar, '.0f') + ' %' if bar else 'beat it'} | " + " | ".join(cells) + " |")
    for key in ("activity", "diary_activity"):
        act = rep.get(key)
        if not act:
            continue
        rf = act["scores"]["random forest (segment stats)"]["accuracy"]
        mine = lambda m: {k: v for k, v in act["scores"].items() if f": {m} embed" in k}  # noqa: E731
        best = {m: max((v["accuracy"], k) for k, v in mine(m).items()) for m in a.models + ["adapted teacher"] if mine(m)}
        lr = act["scores"]["logistic regression (segment stats)"]["accuracy"]
        print(f"\n{act.get('set', key)} ({act['examples']} segments, {act['participants']} people, grouped folds): random "
              f"forest on segment statistics {100 * rf:.1f} %, logistic regression {100 * lr:.1f} %; best probe on "
              "each embedding: " + "; ".join(f"`{k}` {100 * v[0]:.1f} % ({v[1].split(':')[0]})" for k, v in best.items()))


if __name__ == "__main__":
    main()
