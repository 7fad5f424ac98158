"""Score teacher runs at four rows of the generative table, for quick comparisons between runs.

    python benchmarks/quick_generative.py RUN [RUN ...]   (runs/ref/data's first 512 test windows)

The rows (60-minute interpolation / extrapolation / sensor, 20-minute interpolation) keep the masks
they have in `lsm-edge evaluate`'s full table (`evaluate_generative(only=...)`), so a figure here is
the one `lsm-edge evaluate --windows 512` prints for the same run.  Until 2026-12-03 this script drew
its own masks for a four-task list; rows scored before then (ablations/proxies_600.md) are on
another mask draw than generative.md.
"""
import sys

from lsm_edge.data.dataset import Dataset
from lsm_edge.data.windows import fill_linear
from lsm_edge.core.scoring import default_tasks, evaluate_generative, gain, model_method
from lsm_edge.core.run import load_run

ROWS = ["interpolation 60 min", "extrapolation 60 min", "sensor 60 min", "interpolation 20 min"]

for run in sys.argv[1:]:
    model, stats, cfg = load_run(run)
    z = stats.normalize(Dataset("runs/ref/data").load("test").values[:512])
    res = evaluate_generative(z, {"linear": fill_linear, "teacher": model_method(model)}, default_tasks(),
                              progress=False, only=set(ROWS))
    g = gain(res, "teacher")
    print(run, " ".join(f"{t}: {res[t]['teacher']['mae']:.3f} ({100 * g[t]:+.1f}%)" for t in ROWS), flush=True)
