"""Teachers on simulated windows that carry only some sensors, as real devices do (issue 9's diagnosis).

    .venv/bin/python benchmarks/sensor_subsets.py --teacher reference=runs/ref/teacher \
        --teacher feature_drop=runs/fd/teacher --data runs/ref/data \
        --out benchmarks/results/teacher/feature_drop/sensor_subsets.md

A Fitbit heart-rate export carries one of the 26 features, wrist actigraphy one, the aw_fb rows two.
docs/architecture.md says such a device supplies the rest as all-missing; this measures what a teacher
does with that, on the simulator's test subjects (never the real recordings): the same 512 test
windows, reduced to each subset of features, go through ``evaluate_real.score_imputation`` (the
real-data scorer: one hidden span per window, every feature hidden there, MAE in the channel's unit
on the hidden observed minutes of that channel) beside linear interpolation.  Nothing is tuned here.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

from machine import machine  # noqa: E402
import numpy as np  # noqa: E402

# (what the windows keep, the channel scored): every sensor, then what real devices carry
SUBSETS = (("all 26 features", None, "heart_rate"), ("all 26 features", None, "log_energy"),
           ("heart rate only (a Fitbit export)", ("heart_rate",), "heart_rate"),
           ("heart rate + steps (aw_fb)", ("heart_rate", "step_count"), "heart_rate"),
           ("log energy only (actigraphy counts)", ("log_energy",), "log_energy"),
           ("steps only", ("step_count",), "step_count"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", action="append", required=True, help="NAME=RUN (repeatable)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--windows", type=int, default=512)
    ap.add_argument("--horizons", default="60")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    from lsm_edge import schema
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.core.scoring import keras_imputer, linear_fill, score_imputation
    from lsm_edge.io import atomic_write_text
    from lsm_edge.core.run import load_run

    teachers = dict(t.split("=", 1) for t in a.teacher)
    methods = {"linear": linear_fill}
    for name, run in teachers.items():
        model, stats, _ = load_run(run)
        methods[name] = keras_imputer(model, stats)
    w = Dataset(a.data).load("test").values
    w = w[np.random.default_rng(0).permutation(len(w))[:a.windows]]
    horizons = tuple(int(h) for h in a.horizons.split(","))

    lines = ["# Teachers on windows that carry only some sensors (simulated test subjects)", "",
             f"Command: `python {' '.join(sys.argv)}`  ", f"Machine: {machine()}  ",
             "Teachers: " + ", ".join(f"{k} = {v}" for k, v in teachers.items()), "",
             f"{len(w)} test windows of {a.data}; per subset the other features are set missing for the whole "
             "window; one hidden span per window (`evaluate_real.score_imputation`, seeded); MAE in the channel's "
             "unit (gain over linear interpolation).", "",
             "| windows keep | channel scored | task | windows | " + " | ".join(methods) + " |",
             "|---|---|---|---|" + "---|" * len(methods)]
    for label, keep, channel in SUBSETS:
        x = w
        if keep is not None:
            x = np.full_like(w, np.nan)
            for f in keep:
                x[:, :, schema.INDEX[f]] = w[:, :, schema.INDEX[f]]
        res = score_imputation(x, channel, methods, progress=False, horizons=horizons)
        for task, row in res.items():
            lin = row["methods"]["linear"]["mae_unit"]
            cells = [f"{lin:.2f}"] + [f"{m['mae_unit']:.2f} ({100 * (1 - m['mae_unit'] / lin):+.1f} %)"
                                      for k, m in row["methods"].items() if k != "linear"]
            lines.append(f"| {label} | {channel} | {task} | {row['windows']} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    atomic_write_text(Path(a.out), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
