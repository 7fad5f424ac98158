"""Pretraining throughput (windows/s) per model size on this machine, batch preparation included.

    .venv/bin/python benchmarks/train_throughput.py --sizes nano,micro,tiny --steps 20

For each size: a compiled model (XLA where Keras picks it), ``warmup`` steps, then ``steps`` timed
steps of the real training path (augment + mask + fill on numpy, then ``train_on_batch``);
the median step time gives windows/s.  Writes benchmarks/results/train_throughput.{json,md}.
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
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    a = ap.parse_args()

    from lsm_edge.data.simulate import simulate
    from lsm_edge.data.stats import NormStats
    from lsm_edge.models.mae import build_mae, count_params
    from lsm_edge.train import TrainConfig, _optimizer, augment, mae_batch

    w = next(simulate(16, 4, seed=0, chunk_subjects=16))
    z = NormStats.fit([w.values]).normalize(w.values)
    cfg = TrainConfig(batch_size=a.batch_size)
    rows = []
    for size in a.sizes.split(","):
        m = build_mae(size)
        m.compile(optimizer=_optimizer(cfg))
        rng = np.random.default_rng(0)
        times = []
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            x, y = mae_batch(augment(z[rng.integers(0, len(z), a.batch_size)], rng, cfg), rng, cfg.mask_ratio)
            m.train_on_batch(x, y)
            if i >= a.warmup:
                times.append(time.perf_counter() - t0)
        med = float(np.median(times))
        rows.append({"size": size, "params": count_params(m), "batch_size": a.batch_size,
                     "median_step_s": med, "windows_per_s": a.batch_size / med,
                     "p90_step_s": float(np.percentile(times, 90))})
        print(f"{size:6s} {rows[-1]['params']:>10,d} params  {a.batch_size / med:7.1f} windows/s", flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cmd = "python benchmarks/train_throughput.py " + " ".join(sys.argv[1:])
    res = {"command": cmd, "machine": machine(), "rows": rows}
    (out / "train_throughput.json").write_text(json.dumps(res, indent=1))
    md = ["# Pretraining throughput", "", f"Command: `{cmd}`  ", f"Machine: {res['machine']}", "",
          "| size | params | batch | median step (s) | windows/s |", "|---|---|---|---|---|"]
    md += [f"| {r['size']} | {r['params']:,} | {r['batch_size']} | {r['median_step_s']:.3f} | {r['windows_per_s']:.1f} |"
           for r in rows]
    (out / "train_throughput.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
