"""lsm-edge report: every artifact's cost on the CPU beside what it keeps of the teacher.

Every ``.tflite`` in the artifacts folder is scored through :mod:`lsm_edge.runtime` (what an
app runs) on the same held-out windows and the same seeded masks:
- generative: MAE (z-units, hidden and originally observed cells) on each task and horizon, and
  the gain over linear interpolation, ``1 - MAE / MAE(linear)``;
- discriminative, where the file has ``classify_exercise`` / ``classify_activity``: accuracy and
  macro mAP on the labelled held-out windows;
- kept = artifact / teacher for every gain, accuracy and mAP.  The teacher is the float32
  artifact converted from ``--teacher`` (found in the folder by the run's hash), so the
  reference is measured the same way as the rest (float32 matches Keras to < 1e-4).
Cost comes from :func:`lsm_edge.core.measure.bench` (or a saved ``lsm-edge bench --json`` file).

With emulated ARM cores (``arm_cores``; :mod:`lsm_edge.core.arm`), each file also gets, per core, guest
instructions per ``impute`` call, the largest difference from this machine on the bench's inputs, and the
headline tasks' MAE on the first ``arm_windows`` held-out windows filled on that core beside the same
windows and masks filled here.

Writes report.md, report.json and pareto.png; :func:`gate` lists what falls below a retention.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..core import scoring as ev
from ..core.measure import bench
from ..core.scoring import artifact_method, score_generative
from ..data.dataset import Dataset
from ..data.stats import NormStats
from ..errors import LsmEdgeError
from ..io import atomic_path, atomic_write_text
from ..runtime import read_metadata

CLASSIFY = ("exercise", "activity")
HEADLINE = ("interpolation 60 min", "extrapolation 60 min")
DEFAULT_GATE = ("activity accuracy", "interpolation 60 min")


def find_artifacts(folder) -> list[Path]:
    files = sorted(Path(folder).glob("*.tflite"))
    if not files:
        raise LsmEdgeError(f"{folder}: no .tflite files (expected the output of `lsm-edge convert`)")
    return files


def find_teacher(files, teacher_run) -> Path:
    """The float32 file converted from ``teacher_run`` (matched on the run's hash)."""
    from ..core.run import run_hash

    want = run_hash(Path(teacher_run))
    for f in files:
        m = read_metadata(f.read_bytes(), str(f))
        if m["quantization"] == "float32" and m["source_run"]["sha256"] == want:
            return f
    raise LsmEdgeError(f"none of the {len(files)} files is the float32 conversion of {teacher_run}; run "
                       f"`lsm-edge convert {teacher_run} --quant float32 --classifier ...` into the artifacts folder")


def score_arm(path, z: np.ndarray, stats: NormStats, tasks, seed: int, cores) -> dict:
    """{core: {task: {"host_mae", "arm_mae", "rel_diff"}}}: the headline tasks on windows ``z``, filled on each
    emulated core and here with the same masks (those of ``evaluate_generative``, so of ``z``'s length)."""
    only = [t.label for t in tasks if t.label in HEADLINE]
    methods = {"host": artifact_method(path, stats), **{c: artifact_method(path, stats, core=c) for c in cores}}
    res = ev.evaluate_generative(z, methods, tasks, seed, progress=False, only=only)
    return {c: {t: {"host_mae": r["host"]["mae"], "arm_mae": r[c]["mae"],
                    "rel_diff": r[c]["mae"] / r["host"]["mae"] - 1.0} for t, r in res.items()} for c in cores}


def score_classifiers(path, labelled: dict) -> dict:
    """{task: {"accuracy", "mAP", "n"}} for each classify_<task> signature the file has."""
    from ..core.tasks import metrics
    from ..runtime import ActivityClassifier, ExerciseDetector

    sigs = read_metadata(Path(path).read_bytes())["signatures"]
    out = {}
    for task, cls in (("exercise", ExerciseDetector), ("activity", ActivityClassifier)):
        if f"classify_{task}" not in sigs or task not in labelled:
            continue
        x, y = labelled[task]
        clf = cls(path)
        proba = clf.predict_proba(x)
        m = metrics(y, proba, len(clf.classes))
        out[task] = {"accuracy": m["accuracy"], "mAP": m["mAP"], "n": m["n"]}
    return out


def baselines(ds: Dataset, seed: int = 0) -> dict:
    """Random forest on window summary statistics for each task (the strongest classical baseline); tasks
    without labelled windows in both splits (real recordings carry none) are left out."""
    from ..core.tasks import classical_baselines, labelled, metrics

    out = {}
    for task in CLASSIFY:
        xa, ya = labelled(ds, task, "train")
        xt, yt = labelled(ds, task, "test")
        if not len(ya) or not len(yt):
            continue
        n = int(max(ya.max(), yt.max())) + 1
        p = classical_baselines(xa, ya, xt, n, seed)["random forest"]
        m = metrics(yt, p, n)
        out[task] = {"accuracy": m["accuracy"], "mAP": m["mAP"]}
    return out


def build_report(teacher_run, artifacts_dir, data_dir, windows: int = 256, seed: int = 0, tasks=None,
                 bench_result: dict | None = None, threads=(1,), runs: int = 50, with_baselines: bool = True,
                 progress: bool = True, arm_cores=(), arm_windows: int = 64, arm_result: dict | None = None) -> dict:
    from ..core.tasks import labelled as labelled_windows

    files = find_artifacts(artifacts_dir)
    teacher_file = find_teacher(files, teacher_run)
    ds = Dataset(data_dir)
    stats = NormStats.load(Path(teacher_run) / "stats.json")
    z = stats.normalize(ds.load("test").values[:windows])
    tasks = tasks or ev.default_tasks()
    lab = {t: labelled_windows(ds, t, "test") for t in CLASSIFY}
    if bench_result is None:
        bench_result = bench(files, threads, runs, warmup=5, progress=progress)
    cost = {}
    for r in bench_result["rows"]:
        cost.setdefault(Path(r["file"]).name, {})[r["threads"]] = r
    arm_cost = {}
    if arm_cores:
        from ..core.arm import arm_bench

        if arm_result is None:
            arm_result = arm_bench(files, arm_cores, signatures=("impute",), progress=progress)
        for r in arm_result["rows"]:
            if r["signature"] == "impute":
                arm_cost.setdefault(Path(r["file"]).name, {})[r["core"]] = r
        lacking = [f"{f.name} on {c}" for f in files for c in arm_cores if c not in arm_cost.get(f.name, {})]
        if lacking:  # before any file is scored or emulated, not after the first ones
            raise LsmEdgeError(f"the ARM bench result has no impute row for {', '.join(lacking)}: rerun "
                               f"`lsm-edge bench --arm {','.join(arm_cores)}` on the artifacts")
    rows = []
    for f in tqdm(files, desc="scoring", unit="file", disable=not progress):
        meta = read_metadata(f.read_bytes(), str(f))
        row = {"artifact": f.stem, "file": f.name, "model": meta["model"]["name"], "kind": meta["model"]["kind"],
               "quantization": meta["quantization"], "params": meta["model"]["params"], "bytes": f.stat().st_size,
               "teacher": f == teacher_file, "generative": score_generative(f, z, stats, tasks, seed),
               "classify": score_classifiers(f, lab), "cost": {}}
        if arm_cores:
            parity = score_arm(f, z[:arm_windows], stats, tasks, seed, arm_cores)
            row["arm"] = {}
            for c in arm_cores:
                counted = arm_cost[f.name][c]
                row["arm"][c] = {"impute_instructions": counted["instructions_per_call"],
                                 "instructions_per_flop": counted["instructions_per_flop"],
                                 "max_abs_diff": max(counted["max_abs_diff"].values()),
                                 "max_rel_diff": max(counted["max_rel_diff"].values()),
                                 "xnnpack_nodes": counted["xnnpack_nodes"], "nodes": counted["nodes"],
                                 "heldout": parity[c]}
        row["edge_nodes"] = next((c.get("edges") for c in cost.get(f.name, {}).values()), None)
        for t, c in sorted(cost.get(f.name, {}).items()):
            s = c["signatures"].get("impute", {})
            row["cost"][str(t)] = {"init_ms": c.get("init_ms"), "impute_p50_ms": s.get("p50_ms"),
                                   "impute_p90_ms": s.get("p90_ms"), "peak_rss_mb": c.get("peak_rss_mb"),
                                   "impute_mflops": s.get("flops", 0) / 1e6,
                                   "classify_activity_p50_ms": c["signatures"].get("classify_activity", {}).get("p50_ms")}
        rows.append(row)
    ref = next(r for r in rows if r["teacher"])
    for r in rows:
        kept = {t: (g["gain"] / ref["generative"][t]["gain"] if ref["generative"][t]["gain"] > 0 else None)
                for t, g in r["generative"].items()}
        for task, m in r["classify"].items():
            if task in ref["classify"]:
                kept[f"{task} accuracy"] = m["accuracy"] / ref["classify"][task]["accuracy"]
                kept[f"{task} mAP"] = m["mAP"] / ref["classify"][task]["mAP"]
        r["kept"] = kept
        t1 = r["cost"].get("1", {}).get("impute_p50_ms")
        t_ref = ref["cost"].get("1", {}).get("impute_p50_ms")
        r["speedup_vs_teacher_1thread"] = t_ref / t1 if t1 and t_ref else None
    return {"teacher_run": str(teacher_run), "teacher_file": teacher_file.name, "data": str(data_dir),
            "windows": int(len(z)), "seed": seed, "tasks": [t.label for t in tasks],
            "labelled_test_windows": {t: int(len(lab[t][1])) for t in CLASSIFY},
            "baselines": baselines(ds, seed) if with_baselines else {},
            "ceiling_gflops": bench_result.get("ceiling_gflops"), "bench_machine": bench_result.get("machine"),
            "arm": {"cores": list(arm_cores), "windows": int(len(z[:arm_windows])), "calls": arm_result["calls"]}
            if arm_cores else None, "rows": rows}


def gate(report: dict, min_retention: float, metrics=DEFAULT_GATE) -> list[str]:
    """One line per artifact x metric below ``min_retention`` (or not measured); empty = all pass."""
    failures = []
    for r in report["rows"]:
        for m in metrics:
            k = r["kept"].get(m)
            if k is None:
                failures.append(f"{r['artifact']}: {m} not measured (no such task or signature in the file)")
            elif k < min_retention:
                failures.append(f"{r['artifact']}: {m} kept {k:.1%} < {min_retention:.0%}")
    return failures


def _pct(v, signed=False):
    return "-" if v is None else (f"{100 * v:+.1f}%" if signed else f"{100 * v:.1f}%")


def to_markdown(report: dict) -> str:
    rows = report["rows"]
    threads = sorted({t for r in rows for t in r["cost"]}, key=int)
    head = ("| artifact | quant | params | size (KB) | "
            + " | ".join(f"impute p50 ms ({t} thr)" for t in threads)
            + " | speed-up vs teacher (1 thr) | peak RSS MB | 60-min interp. gain (kept) | 60-min extrap. gain (kept) "
              "| activity acc. (kept) | activity mAP | exercise acc. (kept) | raw-unit edge nodes (off XNNPACK) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in sorted(rows, key=lambda r: (not r["teacher"], r["cost"].get("1", {}).get("impute_p50_ms") or 0)):
        g, k, c = r["generative"], r["kept"], r["classify"]
        lat = " | ".join(f"{r['cost'].get(t, {}).get('impute_p50_ms') or float('nan'):.2f}" for t in threads)
        sp = r["speedup_vs_teacher_1thread"]
        act, exe = c.get("activity"), c.get("exercise")
        lines.append(
            f"| {'**' + r['artifact'] + '** (teacher)' if r['teacher'] else r['artifact']} | {r['quantization']} | "
            f"{r['params']:,} | {r['bytes'] / 1e3:,.0f} | {lat} | {'-' if sp is None else f'{sp:.1f}x'} | "
            f"{r['cost'].get('1', {}).get('peak_rss_mb') or float('nan'):.0f} | "
            + " | ".join(f"{_pct(g[t]['gain'], True)} ({_pct(k.get(t))})" if t in g else "-" for t in HEADLINE)
            + f" | {_pct(act['accuracy']) + ' (' + _pct(k.get('activity accuracy')) + ')' if act else '-'}"
            + f" | {_pct(act['mAP']) if act else '-'}"
            + f" | {_pct(exe['accuracy']) + ' (' + _pct(k.get('exercise accuracy')) + ')' if exe else '-'}"
            + (f" | {r['edge_nodes']['nodes']} ({r['edge_nodes']['off_xnnpack']}) |" if r.get("edge_nodes") else " | - |"))
    b = report.get("baselines", {})
    notes = [f"Teacher: `{report['teacher_file']}` (from {report['teacher_run']}). {report['windows']} held-out "
             f"windows, masks seeded ({report['seed']}); labelled held-out windows: "
             + ", ".join(f"{t} {n}" for t, n in report["labelled_test_windows"].items()) + ".",
             "Gain = 1 - MAE / MAE(linear interpolation); kept = artifact / teacher. Latency: `impute` signature, "
             "batch 1, median, one child process per file and thread count: a raw window in, the filled window out, "
             "the file's own raw-unit edges (NaN detection, z-scores, linear fill, the way back) included; their "
             "nodes, and how many of them run outside XNNPACK, in the last column."]
    if b:
        notes.append("Baselines: linear interpolation (gain 0 by definition); random forest on window summary "
                     "statistics: " + ", ".join(f"{t} accuracy {_pct(v['accuracy'])} / mAP {_pct(v['mAP'])}"
                                                for t, v in b.items()) + ".")
    all_tasks = "| artifact | " + " | ".join(report["tasks"]) + " |"
    gen = [all_tasks, "|" + "---|" * (len(report["tasks"]) + 1)]
    for r in rows:
        gen.append(f"| {r['artifact']} | " + " | ".join(
            f"{r['generative'][t]['mae']:.3f} ({_pct(r['kept'].get(t))})" for t in report["tasks"]) + " |")
    return ("\n".join(lines) + "\n\n" + "\n".join(notes)
            + "\n\nGenerative MAE (z-units) on every task and horizon (kept of the teacher's gain):\n\n"
            + "\n".join(gen) + "\n" + (arm_markdown(report) if report.get("arm") else ""))


def arm_markdown(report: dict) -> str:
    """The ARM columns: instructions per impute call on each emulated core beside x86 latency, the ratios to the
    teacher's, and parity with x86 (largest difference on the bench's inputs, held-out MAE on ARM vs x86)."""
    rows, cores, arm = report["rows"], report["arm"]["cores"], report["arm"]
    ref = next(r for r in rows if r["teacher"])
    head = ["artifact", "quant", "x86 impute p50 ms (1 thr)", "x86 ratio"]
    for c in cores:
        head += [f"{c} M instr. / call", f"{c} ratio", f"{c} max abs diff vs x86 (raw)"]
        head += [f"{c} {t} MAE (vs x86)" for t in HEADLINE]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    t_ref = ref["cost"].get("1", {}).get("impute_p50_ms")
    for r in sorted(rows, key=lambda r: (not r["teacher"], -r["arm"][cores[0]]["impute_instructions"])):
        t1 = r["cost"].get("1", {}).get("impute_p50_ms")
        cells = [f"**{r['artifact']}** (teacher)" if r["teacher"] else r["artifact"], r["quantization"],
                 f"{t1:.2f}" if t1 else "-", f"{t_ref / t1:.1f}x" if t1 and t_ref else "-"]
        for c in cores:
            a = r["arm"][c]
            cells += [f"{a['impute_instructions'] / 1e6:.1f}",
                      f"{ref['arm'][c]['impute_instructions'] / a['impute_instructions']:.1f}x",
                      f"{a['max_abs_diff']:.2g}"]
            cells += [f"{a['heldout'][t]['arm_mae']:.4f} ({100 * a['heldout'][t]['rel_diff']:+.2f}%)"
                      if t in a["heldout"] else "-" for t in HEADLINE]
        lines.append("| " + " | ".join(cells) + " |")
    note = (f"Emulated with qemu-user ({', '.join(cores)}; `lsm_edge/core/arm.py`). Instructions: guest instructions "
            f"executed per `impute` call at batch 1 on one thread, counted over {arm['calls']} calls after two "
            "warm-up calls; ratio = the teacher's / the artifact's (instructions on each core, median latency on "
            "x86). Max abs diff: the bench's seeded inputs, in the features' own units, against LiteRT on x86. "
            f"MAE: z-units on the first {arm['windows']} held-out windows, masks seeded as above, filled through "
            "`lsm_edge.runtime.Imputer` on the emulated core; in brackets, the relative difference from the same "
            "windows and masks filled on x86.")
    return "\nOn emulated ARM cores:\n\n" + "\n".join(lines) + "\n\n" + note + "\n"


def plot_pareto(report: dict, path) -> Path:
    """Cost against what is kept (activity accuracy, 60-min interpolation gain): x86 latency at 1 thread, and,
    where the report was run on emulated ARM cores, cortex-a53 instructions (deterministic: a CI gate can use it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    costs = [(lambda r: r["cost"].get("1", {}).get("impute_p50_ms"), "impute latency, p50 ms, batch 1, 1 thread (log)")]
    arm_cores = (report.get("arm") or {}).get("cores", [])
    if arm_cores:
        core = "cortex-a53" if "cortex-a53" in arm_cores else arm_cores[0]
        costs.append((lambda r: r["arm"][core]["impute_instructions"] / 1e6,
                      f"impute M instructions per call on emulated {core} (log)"))
    panels = [(m, label) for m, label in (("activity accuracy", "activity accuracy kept of the teacher's"),
                                          ("interpolation 60 min", "60-min interpolation gain kept"))
              if any(r["kept"].get(m) is not None for r in report["rows"])]  # files without a classifier: no panel
    panels = panels or [("interpolation 60 min", "60-min interpolation gain kept")]
    fig, grid = plt.subplots(len(costs), len(panels), figsize=(6 * len(panels), 4.8 * len(costs)), squeeze=False)
    for axes, (cost, xlabel) in zip(grid, costs):
        for ax, (metric, label) in zip(axes, panels):
            _pareto_panel(ax, report, cost, metric, label, xlabel)
    fig.suptitle("lsm-edge artifacts: cost vs what they keep\n(star: teacher; circles: teacher variants; "
                 "squares: students)", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(path)


def _pareto_panel(ax, report: dict, cost, metric: str, label: str, xlabel: str) -> None:
    pts = [(cost(r), r["kept"].get(metric), r) for r in report["rows"]]
    pts = [(x, y, r) for x, y, r in pts if x and y is not None]
    for x, y, r in pts:
        ax.scatter(x, y, marker="*" if r["teacher"] else ("o" if r["kind"] == "teacher" else "s"),
                   s=180 if r["teacher"] else 50, color="C3" if r["teacher"] else ("C0" if r["kind"] == "teacher"
                                                                                    else "C2"))
        ax.annotate(r["artifact"], (x, y), fontsize=7, xytext=(4, 3), textcoords="offset points")
    front, best = [], -np.inf  # Pareto front: cheaper and keeps more
    for x, y, _ in sorted(pts, key=lambda p: p[0]):
        if y > best:
            front.append((x, y))
            best = y
    if front:
        ax.step(*zip(*front), where="post", color="grey", lw=1, alpha=0.7, label="Pareto front")
    if metric == "activity accuracy" and "activity" in report.get("baselines", {}):
        ref = next(r for r in report["rows"] if r["teacher"])
        if "activity" in ref["classify"]:
            rf = report["baselines"]["activity"]["accuracy"] / ref["classify"]["activity"]["accuracy"]
            ax.axhline(rf, ls="--", color="C1", label=f"random forest on summary stats ({rf:.0%})")
    if metric.startswith("interpolation"):
        ax.axhline(0, ls="--", color="C1", label="linear interpolation (0)")
    ax.axhline(1, ls=":", color="C3", lw=1, label="teacher (float32)")
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(label)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)


def write_report(report: dict, out_dir, command: str = "", machine: dict | None = None) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from ..core.measure import machine as this_machine

    report = dict(report, command=command, machine=machine or this_machine())
    atomic_write_text(out / "report.json", json.dumps(report, indent=1))
    plot_pareto(report, out / "pareto.png")
    head = ["# Artifacts: cost on this CPU and what each keeps of the teacher", ""]
    if command:
        head.append(f"Command: `{command}`  ")
    head.append(f"Machine (scoring): {report['machine']}  ")
    if report.get("bench_machine"):
        head.append(f"Machine (latency, memory): {report['bench_machine']}  ")
    if report.get("ceiling_gflops"):
        head.append(f"Single-core float32 matmul ceiling measured in the same run: {report['ceiling_gflops']:.0f} GFLOP/s")
    md = "\n".join(head) + "\n\n" + to_markdown(report) + "\n![Pareto chart](pareto.png)\n"
    atomic_write_text(out / "report.md", md)
    return out / "report.md"
