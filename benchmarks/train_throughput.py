"""Pretraining throughput (windows/s) per model size on this machine, batch preparation included.

    .venv/bin/python benchmarks/train_throughput.py --sizes nano,micro,tiny --steps 20

For each size: the model as ``lsm-edge train`` builds it (``train.new_model``: XLA, the recipe's
loss and fill gate), ``warmup`` steps, then ``steps`` timed steps of each kind the trainer mixes:
the true-MAE step (80 % of patches dropped from the encoder) and the evaluation-mask step through
the inference path (all 180 tokens), batch preparation (augment + mask + fill) included.
Medians give windows/s per kind and for the recipe's mix (``task_mask_p`` = 0.5).
Writes benchmarks/results/train_throughput.{json,md}.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="nano,micro,tiny")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--precision", default="float32",
                    help="comma-separated Keras dtype policies to time, e.g. float32,mixed_bfloat16")
    ap.add_argument("--xla", default="on", help="on, off or on,off: XLA compilation of the train step")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    a = ap.parse_args()

    from lsm_edge.data.simulate import simulate
    from lsm_edge.data.stats import NormStats
    from lsm_edge.models.mae import count_params
    from lsm_edge.verbs.train import TrainConfig, _policy, new_model
    from lsm_edge.core.inputs import augment, mae_batch, task_batch

    w = next(simulate(16, 4, seed=0, chunk_subjects=16))
    z = NormStats.fit([w.values]).normalize(w.values)
    rows = []
    for size, precision, xla in [(s, p, x) for s in a.sizes.split(",") for p in a.precision.split(",")
                                 for x in a.xla.split(",")]:
        cfg = TrainConfig(size=size, batch_size=a.batch_size, loss="l1", fill_gate=True, precision=precision)
        with _policy(precision):  # the trainer's own switch of the global dtype policy
            m = new_model(cfg, jit_compile=xla == "on")
        rng = np.random.default_rng(0)
        row = {"size": size, "precision": precision, "xla": xla, "params": count_params(m), "batch_size": a.batch_size}
        for kind in ("mae", "task"):
            times = []
            for i in range(a.warmup + a.steps):
                t0 = time.perf_counter()
                zb = augment(z[rng.integers(0, len(z), a.batch_size)], rng, cfg)
                x, y = mae_batch(zb, rng, cfg.mask_ratio) if kind == "mae" else task_batch(zb, rng)
                m.train_on_batch(x, y)
                if i >= a.warmup:
                    times.append(time.perf_counter() - t0)
            row[f"{kind}_median_step_s"] = float(np.median(times))
            row[f"{kind}_windows_per_s"] = a.batch_size / row[f"{kind}_median_step_s"]
        mixed = 0.5 * (row["mae_median_step_s"] + row["task_median_step_s"])
        row["mixed_windows_per_s"] = a.batch_size / mixed
        rows.append(row)
        print(f"{size:6s} {precision:15s} XLA {xla:3s} {row['params']:>10,d} params  MAE step {row['mae_windows_per_s']:6.1f}  "
              f"task step {row['task_windows_per_s']:6.1f}  mixed {row['mixed_windows_per_s']:6.1f} windows/s",
              flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cmd = "python benchmarks/train_throughput.py " + " ".join(sys.argv[1:])
    res = {"command": cmd, "machine": machine(), "rows": rows}
    (out / "train_throughput.json").write_text(json.dumps(res, indent=1))
    md = ["# Pretraining throughput", "", f"Command: `{cmd}`  ", f"Machine: {res['machine']}", "",
          "| size | precision | XLA | params | batch | MAE step: s / windows/s | task step: s / windows/s | 50/50 mix windows/s |",
          "|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['size']} | {r['precision']} | {r['xla']} | {r['params']:,} | {r['batch_size']} | {r['mae_median_step_s']:.3f} / "
           f"{r['mae_windows_per_s']:.1f} | {r['task_median_step_s']:.3f} / {r['task_windows_per_s']:.1f} | "
           f"{r['mixed_windows_per_s']:.1f} |" for r in rows]
    (out / "train_throughput.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
