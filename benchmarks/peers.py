"""Peers side by side (issue 11): PyPOTS SAITS (two sizes) and BRITS against the teacher, the best
student and its .tflite artifacts, on the same windows and masks; PyPOTS' linear / LOCF / mean as a
cross-check of our baselines.  Needs the extra: pip install -e ".[peers]".

    python benchmarks/peers.py --teacher runs/ref/teacher --student runs/ref/students/vit_pico_distilled \
        --artifacts runs/ref/suite_artifacts/{teacher_float32,vit_pico_distilled_int8,conv64_distilled_int8}.tflite \
        --data runs/ref/data --out benchmarks/results/peers

Budget: every peer gets the CPU time the student's distillation had: its wall time (its log.csv)
times the 2 cores it ran on, spent on 2 torch threads (or --budget CPU seconds).  CPU time, so the
machine's other load does not change what a peer gets.  Each peer's result (scores, training log,
timing) is written to OUT/runs/<peer>.json as soon as it is done, its weights to SAVE/<peer>.safetensors
(+ .peer.json, for `lsm-edge evaluate-real --peers SAVE`); a rerun skips finished peers.
Diagnostic column "points 20%": each observed cell hidden with probability 0.2, the mask SAITS and
BRITS are trained with in PyPOTS (pygrinder's MCAR), scored for every method beside our tasks.
CPU time per window: batch 1, one thread (torch.set_num_threads(1), the interpreter's num_threads=1),
the peer and every artifact timed in interleaved rounds in the same process, medians.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

KEY = [("interpolation", 60), ("extrapolation", 60), ("sensor", 60)]
POINTS = "points 20% (diagnostic)"


def score_points(z: np.ndarray, methods: dict, rate: float = 0.2, seed: int = 0) -> dict:
    """Every observed cell hidden with probability ``rate`` (PyPOTS' training mask for SAITS/BRITS)."""
    hide = (np.random.default_rng([seed, 99]).random(z.shape) < rate) & ~np.isnan(z)
    z_in = np.where(hide, np.nan, z)
    out = {}
    for name, m in methods.items():
        err = m(z_in)[hide] - z[hide]
        out[name] = {"mae": float(np.abs(err).mean()), "mse": float((err ** 2).mean()), "cells": int(hide.sum())}
    return out


def interleaved_ms(methods: dict, z: np.ndarray, rounds: int) -> dict:
    """Median ms of one call on one window per method, the methods taking turns every round."""
    for m in methods.values():
        m(z[:1])
    times = {k: [] for k in methods}
    for r in range(rounds):
        w = z[r % len(z):r % len(z) + 1]
        for k, m in methods.items():
            t = time.perf_counter()
            m(w)
            times[k].append(time.perf_counter() - t)
    return {k: 1000 * float(np.median(v)) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--student", required=True)
    ap.add_argument("--artifacts", nargs="+", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--peers", default="saits_small,saits,brits",
                    help="comma-separated; NAME+full trains NAME for the whole budget (no early stopping)")
    ap.add_argument("--budget", type=float, default=None, help="CPU seconds per peer (default: the student's)")
    ap.add_argument("--windows", type=int, default=256, help="test windows scored")
    ap.add_argument("--val-windows", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2, help="torch threads while training")
    ap.add_argument("--rounds", type=int, default=30, help="timing rounds")
    ap.add_argument("--save", default="runs/peers", help="folder for the trained peers' weights")
    a = ap.parse_args()

    from lsm_edge.core import peers  # first: it loads PyTorch, which must come before TensorFlow

    torch = peers.torch
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.data.windows import fill_linear, fill_locf, fill_nearest
    from lsm_edge.core.scoring import default_tasks, evaluate_generative, mean_fill, model_method
    from lsm_edge.io import atomic_write_text
    from lsm_edge.core.measure import machine
    from lsm_edge.core.scoring import artifact_method
    from lsm_edge.core.run import load_run

    out = Path(a.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    teacher, stats, _ = load_run(a.teacher)
    student, _, _ = load_run(a.student)
    ds = Dataset(a.data)
    z_train = stats.normalize(ds.load("train").values)
    z_val = stats.normalize(ds.load("val").values[:a.val_windows])
    z_test = stats.normalize(ds.load("test").values[:a.windows])
    tasks = default_tasks()
    student_s = sum(float(r["seconds"]) for r in csv.DictReader(open(Path(a.student) / "log.csv")))
    budget = a.budget or student_s * a.threads
    print(f"train {len(z_train)} / val {len(z_val)} / test {len(z_test)} windows; budget {budget:.0f} CPU-s per peer",
          flush=True)

    # ours and PyPOTS' simple imputers on the same masks; "mean of the inputs" is PyPOTS' Mean rule
    def input_mean(z):
        m = np.nan_to_num(np.nanmean(z.reshape(-1, z.shape[-1]), 0))
        return np.where(np.isnan(z), m, z).astype(np.float32)

    base = {"mean": mean_fill, "nearest": lambda z: fill_nearest(z), "linear": lambda z: fill_linear(z)}
    methods = {**base, "locf": lambda z: fill_locf(z), "mean of the inputs": input_mean, **peers.baseline_methods(),
               "teacher": model_method(teacher), "student": model_method(student),
               **{Path(p).stem: artifact_method(p, stats) for p in a.artifacts}}
    ours = evaluate_generative(z_test, methods, tasks, progress=True)
    ours[POINTS] = score_points(z_test, methods)

    torch.set_num_threads(a.threads)
    done = {}
    for name in a.peers.split(","):
        f = out / "runs" / f"{name}.json"
        if f.exists():
            done[name] = json.loads(f.read_text())
            continue
        base, full = name.removesuffix("+full"), name.endswith("+full")
        model, info = peers.train_peer(base, z_train, z_val, budget, threads=a.threads,
                                       patience=10 ** 9 if full else 6)
        info["early_stopping"] = "off: the whole budget, the best chunk kept" if full else "patience 6 chunks"
        info["scores"] = evaluate_generative(z_test, {name: peers.peer_method(model)}, tasks, progress=True)
        info["scores"][POINTS] = score_points(z_test, {name: peers.peer_method(model)})
        if not full:
            peers.save_peer(model, name, info, a.save, stats)
        torch.set_num_threads(1)
        timed = {Path(p).stem: artifact_method(p, stats, num_threads=1) for p in a.artifacts}
        info["ms_per_window_1_thread"] = interleaved_ms({name: peers.peer_method(model), **timed}, z_test, a.rounds)
        torch.set_num_threads(a.threads)
        atomic_write_text(f, json.dumps(info, indent=1))
        done[name] = info
        print(f"{name}: {info['params']} params, {info['train_cpu_seconds']} CPU-s, {info['epochs']} epochs, "
              f"{info['ms_per_window_1_thread']}", flush=True)

    results = {t: dict(r) for t, r in ours.items()}
    for name, info in done.items():
        for t, r in info["scores"].items():
            results[t][name] = r[name]  # a peer cached before the points column existed has no POINTS entry
    cpu = machine()
    meta = {"command": "python " + " ".join(sys.argv), "machine": f"{cpu['cpu']} ({cpu['cores']} cores), torch {torch.__version__}, "
            f"Python {platform.python_version()}", "budget_cpu_s": budget,
            "student_train_s": student_s,
            "windows": {"train": len(z_train), "val": len(z_val), "test": len(z_test)},
            "params": {"teacher": int(teacher.count_params()), "student": int(student.count_params()),
                       **{n: i["params"] for n, i in done.items()}},
            "peers": {n: {k: v for k, v in i.items() if k != "scores"} for n, i in done.items()}}
    atomic_write_text(out / "peers.json", json.dumps({"meta": meta, "results": results}, indent=1))
    atomic_write_text(out / "peers.md", to_markdown(results, meta, [Path(p).stem for p in a.artifacts]))
    print((out / "peers.md").read_text())


def to_markdown(results: dict, meta: dict, artifacts: list) -> str:
    peers = list(meta["peers"])
    key = [f"{t} {n} min" for t, n in KEY]
    lines = ["# Peers: PyPOTS imputers on lsm-edge's windows and masks", "", f"Command: `{meta['command']}`  ",
             f"Machine: {meta['machine']}  ", f"Windows: {meta['windows']}; training budget per peer "
             f"{meta['budget_cpu_s']:.0f} CPU-seconds (the student's distillation: {meta['student_train_s']:.0f} s "
             f"on 2 cores).", "",
             "MAE in z-units on hidden, originally observed cells (the same masks for every row).", ""]

    def mae(t, r):
        return f"{results[t][r]['mae']:.4f}" if r in results.get(t, {}) else "—"

    # CPU ms per window: every peer's run timed the artifacts beside it (same process, interleaved);
    # the artifacts' column quotes the last run, the ratios below stay within one run
    ms = {}
    for p in peers:
        ms.update({k: v for k, v in meta["peers"][p]["ms_per_window_1_thread"].items()})
    rows = ["mean", "linear", "teacher", "student", *artifacts, *peers]
    lines += ["| method | " + " | ".join(key) + f" | random 80% | {POINTS} | params | train CPU-s | "
              "CPU ms / window (1 thread) | .tflite |", "|---" * (len(key) + 7) + "|"]
    train_s = {n: meta["peers"][n]["train_cpu_seconds"] for n in peers}
    for r in rows:
        cells = [mae(t, r) for t in key] + [mae("random 80%", r), mae(POINTS, r)]
        params = meta["params"].get(r, meta["params"]["student"] if r in ("student",) else "")
        cells += [f"{params:,}" if isinstance(params, int) else "", f"{train_s.get(r, '')}",
                  f"{ms[r]:.2f}" if r in ms else "", "yes" if r in artifacts else ("no" if r in peers else "")]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    lines += ["", "## Speed within one run: each peer (PyTorch) against every artifact (LiteRT), 1 thread, batch 1",
              "", "| peer | peer ms | " + " | ".join(f"{a} ms (× faster)" for a in artifacts) + " |",
              "|---|---|" + "---|" * len(artifacts)]
    for p in peers:
        t = meta["peers"][p]["ms_per_window_1_thread"]
        lines.append(f"| {p} | {t[p]:.2f} | " + " | ".join(
            f"{t[a]:.2f} ({t[p] / t[a]:.1f}×)" if a in t else "—" for a in artifacts) + " |")
    lines += ["", "## Cross-check: PyPOTS' simple imputers against ours (max |MAE difference| over all tasks)", ""]
    for ours, theirs in (("linear", "pypots linear"), ("locf", "pypots locf"), ("mean of the inputs", "pypots mean"),
                         ("mean", "pypots mean")):
        d = max(abs(r[ours]["mae"] - r[theirs]["mae"]) for r in results.values())
        lines.append(f"- {theirs} vs our {ours}: {d:.2e}")
    lines += ["", "## Every task", "", "| task | " + " | ".join(rows) + " |", "|---" * (len(rows) + 1) + "|"]
    for t in results:
        lines.append(f"| {t} | " + " | ".join(mae(t, m) for m in rows) + " |")
    lines += ["", "## Peers' training", ""]
    for p in peers:
        i = meta["peers"][p]
        lines.append(f"- {p}: {i['recipe']}; {i['params']:,} parameters; {i['train_cpu_seconds']} CPU-s "
                     f"({i['train_seconds']} s wall), {i['epochs']} "
                     f"epochs ({i['windows_seen']} windows), best validation MAE {i['best_val_mae']:.4f}; "
                     f"early stopping: {i.get('early_stopping', 'patience 6 chunks')}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
