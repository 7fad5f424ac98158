"""Does averaging the teacher over several views of a window close issue 3's interpolation gap?

    .venv/bin/python benchmarks/test_time_augmentation.py --teacher runs/fd/teacher --data runs/ref/data \
        --out benchmarks/results/teacher/tta

Views: the window itself, the window reversed in time (the ``flip`` augmentation the teacher trained on),
and the window shifted right by k minutes (k missing minutes at the start, the last k minutes cut), which
moves every gap to another place relative to the 10-minute patch grid.  Each view is filled by the teacher
(attention path, as ``evaluate``), mapped back to the window's minutes, and the fills are averaged cell by
cell over the views that cover it; observed cells pass through.  Scored like ``evaluate`` on the first
``--windows`` test windows, 60-minute interpolation / extrapolation / sensor imputation, against linear
interpolation on the same windows and masks (the masks are drawn for this three-task list, so they differ
from ``generative.md``'s draws; the plain teacher row is the comparison).
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


def views_fill(base, z, shifts=(), flip=True):
    """Mean of the teacher's fills over the views; z: [N, 300, 26] normalised, NaN = missing or hidden."""
    acc = base(z).astype(np.float64)
    count = np.ones(z.shape[1])
    if flip:
        acc += base(z[:, ::-1])[:, ::-1]
        count += 1
    for k in shifts:
        shifted = np.concatenate([np.full_like(z[:, :k], np.nan), z[:, :-k]], 1)
        acc[:, :-k] += base(shifted)[:, k:]
        count[:-k] += 1
    return np.where(np.isnan(z), acc / count[None, :, None], z).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--windows", type=int, default=512)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    from lsm_edge.data.dataset import Dataset
    from lsm_edge.data.windows import fill_linear
    from lsm_edge.core.scoring import Task, evaluate_generative, gain, model_method
    from lsm_edge.io import atomic_write_text
    from lsm_edge.core.run import load_run

    model, stats, _ = load_run(a.teacher)
    z = stats.normalize(Dataset(a.data).load("test").values[: a.windows])
    base = model_method(model)
    methods = {"linear": fill_linear, "teacher": base,
               "teacher, 2 views (+ reversed)": lambda z: views_fill(base, z),
               "teacher, 3 views (+ shifted 5 min)": lambda z: views_fill(base, z, (5,)),
               "teacher, 5 views (+ shifted 2, 5, 7 min)": lambda z: views_fill(base, z, (2, 5, 7))}
    tasks = [Task("interpolation", 60), Task("extrapolation", 60), Task("sensor", 60)]
    res = evaluate_generative(z, methods, tasks)
    cmd = "python benchmarks/test_time_augmentation.py " + " ".join(sys.argv[1:])
    md = ["# Teacher averaged over views of the window (issue 3)", "", f"Command: `{cmd}`  ",
          f"Machine: {machine()}", "", f"{len(z)} test windows; MAE in z-units on hidden, observed cells "
          "(gain over linear interpolation).", "",
          "| method | " + " | ".join(res) + " |", "|---|" + "---|" * len(res)]
    for m in methods:
        g = gain(res, m)
        md.append(f"| {m} | " + " | ".join(f"{res[t][m]['mae']:.4f} ({100 * g[t]:+.1f} %)" for t in res) + " |")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "tta.md", "\n".join(md) + "\n")
    atomic_write_text(out / "tta.json", json.dumps({"command": cmd, "machine": machine(), "results": res}, indent=1))
    print("\n".join(md))


if __name__ == "__main__":
    main()
