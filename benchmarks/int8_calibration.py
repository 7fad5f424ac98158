"""Full-integer calibration: which inputs should set the int8 activation ranges?

    .venv/bin/python benchmarks/int8_calibration.py --run runs/ref/students/conv64_distilled --data runs/ref/data

Converts RUN to float32 and to int8 calibrated on the training windows as recorded (``observed``) and
with the gaps imputation fills hidden in turn (``masked``), each at ``--calibration-windows`` sizes and
for several draws of the calibration windows (``--seeds``),
and scores every file through ``lsm_edge.core.scoring.score_generative`` (the app runtime) on the
VALIDATION subjects' windows: the choice is made there, the suite scores the test subjects.
Gain = 1 - MAE / MAE(linear interpolation) on hidden, originally observed cells; "kept" = of the
float32 file's gain.  Writes OUT/int8_calibration.{md,json}.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402

from machine import machine  # noqa: E402

TASKS = ("interpolation 60 min", "extrapolation 60 min", "sensor 60 min", "interpolation 120 min", "random 80%")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--windows", type=int, default=512, help="validation windows scored")
    ap.add_argument("--calibration-windows", default="100,400")
    ap.add_argument("--seeds", default="0,1,2,3", help="which training windows are drawn for calibration")
    ap.add_argument("--artifacts", default=None, help="folder for the .tflite files (default RUN/../calibration)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "convert"))
    a = ap.parse_args()

    from tqdm import tqdm

    from lsm_edge.verbs import evaluate as ev
    from lsm_edge.verbs.convert import convert
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.data.stats import NormStats
    from lsm_edge.core.scoring import score_generative

    run = Path(a.run)
    art = Path(a.artifacts or run.parent / "calibration")
    art.mkdir(parents=True, exist_ok=True)
    stats = NormStats.load(run / "stats.json")
    z = stats.normalize(Dataset(a.data).load("val").values[:a.windows])
    tasks = [t for t in ev.default_tasks() if t.label in TASKS]
    variants = [("float32", None, None, None)] + [("int8", c, int(n), int(s)) for n in a.calibration_windows.split(",")
                                                  for s in a.seeds.split(",") for c in ("observed", "masked")]
    rows = []
    for quant, cal, n, seed in tqdm(variants, desc="calibration variants", unit="file"):
        f = art / (f"{run.name}_{quant}.tflite" if cal is None else f"{run.name}_int8_{cal}_{n}_seed{seed}.tflite")
        t = time.time()
        if not f.exists():
            convert(run, f, quant, calibration_windows=n or 100, data_dir=a.data, calibration=cal or "observed",
                    calibration_seed=seed or 0)
        rows.append({"file": f.name, "quant": quant, "calibration": cal, "calibration_windows": n, "seed": seed,
                     "convert_s": round(time.time() - t, 1), "bytes": f.stat().st_size,
                     "generative": score_generative(f, z, stats, tasks, seed=0)})
    ref = rows[0]["generative"]
    for r in rows:
        r["kept"] = {t: g["gain"] / ref[t]["gain"] if ref[t]["gain"] > 0 else None for t, g in r["generative"].items()}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cmd = "python benchmarks/int8_calibration.py " + " ".join(sys.argv[1:])
    res = {"command": cmd, "machine": machine(), "run": str(run), "split": "val", "windows": int(len(z)),
           "rows": rows}
    (out / "int8_calibration.json").write_text(json.dumps(res, indent=1))
    lines = [f"# int8 calibration inputs: {run.name}", "", f"Command: `{cmd}`  ", f"Machine: {machine()}  ",
             f"Scored on {len(z)} windows of the validation subjects (masks seeded 0). Cells: MAE in z-units "
             "(gain over linear interpolation; kept = of the float32 file's gain).", "",
             "| file | calibration | windows | seed | size (KB) | " + " | ".join(t.label for t in tasks) + " |",
             "|---|---|---|---|---|" + "---|" * len(tasks)]
    for r in rows:
        cells = []
        for t in tasks:
            g, k = r["generative"][t.label], r["kept"][t.label]
            cells.append(f"{g['mae']:.4f} ({100 * g['gain']:+.1f}%" + (f", {100 * k:.0f}%)" if k is not None else ")"))
        lines.append(f"| {r['file']} | {r['calibration'] or '-'} | {r['calibration_windows'] or '-'} | "
                     f"{'-' if r['seed'] is None else r['seed']} | "
                     f"{r['bytes'] / 1e3:,.0f} | " + " | ".join(cells) + " |")
    lines += ["", "Spread over the calibration draws (seeds): gain over linear interpolation, mean ± std (min – max):", "",
              "| calibration | windows | " + " | ".join(t.label for t in tasks) + " |", "|---|---|" + "---|" * len(tasks)]
    for n in sorted({r["calibration_windows"] for r in rows[1:]}):
        for cal in ("observed", "masked"):
            g = np.array([[r["generative"][t.label]["gain"] for t in tasks] for r in rows[1:]
                          if r["calibration"] == cal and r["calibration_windows"] == n]) * 100
            lines.append(f"| {cal} | {n} | " + " | ".join(
                f"{m:+.1f} ± {s:.1f} ({lo:+.1f} – {hi:+.1f})" for m, s, lo, hi in
                zip(g.mean(0), g.std(0), g.min(0), g.max(0))) + " |")
    (out / "int8_calibration.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
