"""Every quantization variant of a run: size, ops, error against float32 and the truth, latency.

    .venv/bin/python benchmarks/convert_variants.py --run runs/ref/teacher --data runs/ref/data

Accuracy: the same test windows and masks (60-minute interpolation and extrapolation, seeded) go
through each file via ``lsm_edge.runtime``; MAE in z-units on hidden, originally observed cells,
and the deviation from the float32 file's output on those cells.  Latency: median of ``--runs``
calls of the ``impute`` signature, 1 thread, after warm-up, all variants in this one process
(the full harness with child processes and memory is ``lsm-edge bench``).
Writes benchmarks/results/convert/{README.md,convert.json}.
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
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--artifacts", default=None, help="folder for the .tflite files (default RUN/../artifacts)")
    ap.add_argument("--windows", type=int, default=128)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "convert"))
    a = ap.parse_args()

    from lsm_edge.verbs.convert import VARIANTS, convert
    from lsm_edge.core.tflite import op_counts
    from lsm_edge.data import masks
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.data.stats import NormStats
    from lsm_edge.errors import LsmEdgeError
    from lsm_edge.runtime import Imputer

    run = Path(a.run)
    art = Path(a.artifacts) if a.artifacts else run.parent / "artifacts"
    stats = NormStats.load(run / "stats.json")
    w = Dataset(a.data).load("test").values[: a.windows]
    tasks = {"interpolation 60 min": masks.make_mask("interpolation", np.random.default_rng([0, 1]), len(w), 60),
             "extrapolation 60 min": masks.make_mask("extrapolation", np.random.default_rng([0, 2]), len(w), 60)}
    rows, outputs = [], {}
    for q in VARIANTS:
        path = art / f"{run.name}_{q}.tflite"
        t0 = time.perf_counter()
        try:
            convert(run, path, q)
        except LsmEdgeError as e:
            rows.append({"variant": q, "error": str(e)})
            print(f"{q:8s} not available: {e}", flush=True)
            continue
        conv_s = time.perf_counter() - t0
        imp = Imputer(path, num_threads=1)
        row = {"variant": q, "bytes": path.stat().st_size, "convert_s": conv_s}
        ops = op_counts(path.read_bytes())
        row["ops_total"] = sum(ops.values())
        row["quantize_dequantize_ops"] = ops.get("QUANTIZE", 0) + ops.get("DEQUANTIZE", 0)
        for name, hide in tasks.items():
            hidden = np.where(hide, np.nan, w)
            out = stats.normalize(imp.impute(hidden))
            scored = hide & ~np.isnan(w)
            row[f"mae {name}"] = float(np.abs(out[scored] - stats.normalize(w)[scored]).mean())
            outputs[(q, name)] = out[scored]
            if q != "float32" and ("float32", name) in outputs:
                d = np.abs(out[scored] - outputs[("float32", name)])
                row[f"vs float32 mean {name}"], row[f"vs float32 max {name}"] = float(d.mean()), float(d.max())
        x = np.where(tasks["interpolation 60 min"][0], np.nan, w[0])
        for _ in range(5):
            imp.impute(x)
        times = []
        for _ in range(a.runs):
            t = time.perf_counter()
            imp.impute(x)
            times.append(time.perf_counter() - t)
        row["latency_ms_p50"] = 1e3 * float(np.median(times))
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = next(r for r in rows if r["variant"] == "float32")
    for r in rows:
        if "bytes" in r:
            r["size_vs_float32"] = r["bytes"] / base["bytes"]
            r["latency_vs_float32"] = r["latency_ms_p50"] / base["latency_ms_p50"]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cmd = "python benchmarks/convert_variants.py " + " ".join(sys.argv[1:])
    res = {"command": cmd, "machine": machine(), "windows": len(w), "rows": rows}
    (out / "convert.json").write_text(json.dumps(res, indent=1))
    md = ["# Quantization variants of the reference teacher", "", f"Command: `{cmd}`  ",
          f"Machine: {res['machine']}  ", f"Test windows: {len(w)} (held-out subjects); MAE in z-units on hidden, "
          "originally observed cells; latency: median of the `impute` signature, batch 1, 1 thread, same process.", "",
          "| variant | size (KB) | size vs f32 | interp. 60 MAE | extrap. 60 MAE | mean / max dev. from f32 (interp.) "
          "| p50 ms | latency vs f32 | (de)quantize ops |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            md.append(f"| {r['variant']} | not available: {r['error']} |||||||| ")
            continue
        dev = (f"{r['vs float32 mean interpolation 60 min']:.4f} / {r['vs float32 max interpolation 60 min']:.3f}"
               if "vs float32 mean interpolation 60 min" in r else "-")
        md.append(f"| {r['variant']} | {r['bytes'] / 1e3:,.0f} | {r['size_vs_float32']:.2f} | "
                  f"{r['mae interpolation 60 min']:.4f} | {r['mae extrapolation 60 min']:.4f} | {dev} | "
                  f"{r['latency_ms_p50']:.2f} | {r['latency_vs_float32']:.2f} | {r['quantize_dequantize_ops']} |")
    (out / "README.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
