"""Plot what validation-people gain each real pretraining run reaches against its CPU minutes
(benchmarks/real_curve.sh writes the inputs: each run's evaluate-real JSON and training log).

    python benchmarks/real_curve.py benchmarks/results/real/pretraining/curve --out benchmarks/results/real/pretraining/curve
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from real_bars import baseline  # the bars' choice of baseline per row (benchmarks/real_bars.py)


def gains(report: dict, method: str = "teacher zero-shot") -> dict:
    """{row: gain %} at 60 minutes: heart rate against the bar's baseline, the rest against the best classical."""
    out = {}
    for key, d in report["imputation"].items():
        for task, row in d["tasks"].items():
            m = row["methods"]
            kind, base, _ = baseline(d["channel"], task, m)
            out[f"{key}, {kind}"] = 100 * (m[base]["mae_unit"] - m[method]["mae_unit"]) / m[base]["mae_unit"]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    folder, out = Path(a.folder), Path(a.out)
    runs = []
    for f in sorted(folder.glob("*.json")):
        log = list(csv.DictReader(open(folder / f"{f.stem}_train_log.csv")))
        minutes = sum(float(r["seconds"]) for r in log) / 60
        g = gains(json.loads(f.read_text()))
        runs.append((minutes, int(float(log[-1]["step"])), f.stem, g))
    runs.sort()
    rows = sorted(runs[0][3])
    lines = ["# Gain on the validation people against pretraining CPU minutes (conv96x5 family)", "",
             "Gain in % at 60 minutes (heart rate: over linear / the last value as the bars; steps and counts: over the",
             "best classical method of the row); minutes of training on 2 cores (`*_train_log.csv`).", "",
             "| row | " + " | ".join(f"{s:,} steps ({m:.0f} min)" for m, s, _, _ in runs) + " |",
             "|---|" + "---|" * len(runs)]
    for r in rows:
        lines.append(f"| {r} | " + " | ".join(f"{g[r]:+.1f}" for _, _, _, g in runs) + " |")
    mean = [sum(g.values()) / len(g) for _, _, _, g in runs]
    lines.append("| **mean of the rows** | " + " | ".join(f"**{v:+.1f}**" for v in mean) + " |")
    (out / "curve.md").write_text("\n".join(lines) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [m for m, _, _, _ in runs]
    ax.plot(xs, mean, "o-", color="k", label="mean of all rows")
    for r in rows:
        if "heart rate" in r and "covid19" in r:
            ax.plot(xs, [g[r] for _, _, _, g in runs], ".--", label=r)
    ax.set_xlabel("pretraining CPU minutes (2 cores)")
    ax.set_ylabel("gain over the baseline at 60 min (%)")
    ax.set_title("conv96x5 on real people: validation gain vs compute")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "curve.png", dpi=120)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
