"""Training throughput on 1 and 2 devices of this machine, and an accelerator estimate from FLOPs.

    python benchmarks/scale_throughput.py --data runs/ref/data --out benchmarks/results/scale

Per backend, one fresh process with two virtual CPU devices trains the same recipe from the same
seed on 1, 2, 1, 2 ... devices (alternating, so drift of a shared machine hits both alike); each
training runs a warm-up segment (compilation) and a measured segment, and the table gives the
median windows/s of the measured segments and the 2-device / 1-device ratio of those medians.

The accelerator columns are an estimate, not a measurement: training FLOPs per window are counted
from the model's shapes (matmuls only: 3 x the forward pass of the training path, encoder on the
visible tokens, decoder on all 180), and windows/s = achieved FLOP/s / FLOPs per window, with the
achieved FLOP/s taken from the one measured accelerator point we have (../shared/TOOLCHAIN.md: an
LSM-Small-sized MAE, 36 of 180 tokens visible, 20,900 windows/s on one H100 in float32 at batch
4096), i.e. the same utilisation assumed for every size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WORKER = r"""
import json, sys
from dataclasses import asdict
from pathlib import Path
from lsm_edge.core.distributed import select_backend
backend, data, out, size, batch, rounds, warm, steps = sys.argv[1:9]
select_backend(backend, devices=2)
from lsm_edge.recipe import TrainConfig
from lsm_edge.verbs.train import train
res = []
for r in range(int(rounds)):
    for devices in (1, 2):
        # segment 1 (`warm` steps) compiles; segment 2 (`steps` steps) is measured
        base = asdict(TrainConfig.from_toml(f"train/{size}.toml"))
        cfg = TrainConfig.from_dict({**base, "steps": int(warm) + int(steps), "checkpoint_every": int(warm),
                                     "batch_size": int(batch), "backend": backend, "devices": devices})
        run = Path(out) / f"{backend}_{devices}_{r}"
        train(data, run, cfg, progress=False)
        rows = (run / "log.csv").read_text().split()
        cols = rows[0].split(",")
        seg = [dict(zip(cols, x.split(","))) for x in rows[1:]]
        # segments after the first: with checkpoint_every = warm there are ceil(steps / warm) of them
        w = [float(x["windows_per_s"]) * float(x["seconds"]) for x in seg[1:]]
        t = [float(x["seconds"]) for x in seg[1:]]
        res.append({"devices": devices, "round": r, "windows_per_s": sum(w) / sum(t)})
print(json.dumps(res))
"""


def train_flops(size: str) -> float:
    """Matmul FLOPs of one training step per window (forward + backward = 3 x forward)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from lsm_edge.models.mae import SIZES

    c = SIZES[size]
    L, K, keep = 180, 50, 36  # tokens, cells per token, visible tokens at 80 % masking

    def block(n, d, r):  # qkv + out (4 d^2), mlp (2 r d^2), attention scores and mix (2 n d)
        return 2 * n * (4 * d * d + 2 * r * d * d) + 4 * n * n * d

    fwd = 2 * L * 2 * K * c.enc_dim  # patch embedding (values + missing flags)
    fwd += c.enc_depth * block(keep, c.enc_dim, c.mlp_ratio)
    fwd += 2 * keep * c.enc_dim * c.dec_dim
    fwd += c.dec_depth * block(L, c.dec_dim, c.mlp_ratio)
    fwd += 2 * 2 * L * c.dec_dim * K  # head and fill gate
    return 3.0 * fwd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", default="micro")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warm", type=int, default=6)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--backends", default="jax,tensorflow")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lsm_edge.core.measure import machine as machine_info

    results = {"command": " ".join([Path(sys.executable).name] + sys.argv), "machine": machine_info(),
               "size": a.size, "global_batch": a.batch, "measured_steps": a.steps, "backends": {}}
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
    for backend in a.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.run([sys.executable, "-c", WORKER, backend, a.data, tmp, a.size, str(a.batch),
                                str(a.rounds), str(a.warm), str(a.steps)], env=env, capture_output=True, text=True)
        if p.returncode:
            sys.exit(f"{backend} worker failed:\n{p.stderr[-3000:]}")
        rows = json.loads(p.stdout.strip().splitlines()[-1])
        med = {n: statistics.median(r["windows_per_s"] for r in rows if r["devices"] == n) for n in (1, 2)}
        results["backends"][backend] = {"runs": rows, "median_windows_per_s": med, "ratio_2_over_1": med[2] / med[1]}
        print(f"{backend}: 1 device {med[1]:.1f} windows/s, 2 devices {med[2]:.1f} windows/s, ratio {med[2] / med[1]:.2f}")

    ref_flops = train_flops("small") * 20_900  # achieved FLOP/s of the measured H100 point
    results["accelerator_estimate"] = {
        "method": "windows/s = achieved FLOP/s / training FLOPs per window; achieved FLOP/s from the one "
                  "measured H100 point (small-sized MAE, float32, batch 4096: 20,900 windows/s, TOOLCHAIN.md)",
        "achieved_tflops": ref_flops / 1e12,
        "sizes": {s: {"train_gflops_per_window": train_flops(s) / 1e9,
                      "h100_windows_per_s_estimate": ref_flops / train_flops(s)} for s in ("tiny", "small", "base")}}
    (out / "throughput.json").write_text(json.dumps(results, indent=1))
    lines = ["# Training throughput: 1 vs 2 devices, and an accelerator estimate", "",
             f"Command: `{results['command']}`  ", f"Machine: {results['machine']}  ",
             f"Model: {a.size}, global batch {a.batch} (the same on 1 and 2 devices), median of {a.rounds} "
             f"alternating runs of {a.steps} measured steps each after a compiling warm-up.", "",
             "| backend | 1 device (windows/s) | 2 devices (windows/s) | ratio 2 / 1 |", "|---|---|---|---|"]
    for b, r in results["backends"].items():
        m = r["median_windows_per_s"]
        lines.append(f"| {b} | {m[1]:.1f} | {m[2]:.1f} | {r['ratio_2_over_1']:.2f} |")
    est = results["accelerator_estimate"]
    lines += ["", "## One H100, estimated (not measured in this session: no accelerator was lent)", "",
              est["method"] + f"; achieved ≈ {est['achieved_tflops']:.1f} TFLOP/s.", "",
              "| size | training GFLOPs / window | estimated windows/s on one H100 (float32, batch 4096) |",
              "|---|---|---|"]
    for s, e in est["sizes"].items():
        lines.append(f"| {s} | {e['train_gflops_per_window']:.3f} | {e['h100_windows_per_s_estimate']:,.0f} |")
    (out / "throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
