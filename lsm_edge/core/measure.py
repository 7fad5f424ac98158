"""lsm-edge bench: what a ``.tflite`` file costs on a CPU.

For each file and thread count a fresh child process (numpy + LiteRT only, no TensorFlow) loads
the file, times interpreter start-up, runs every signature at batch 1 (``--warmup`` untimed calls,
then ``--runs`` timed ones) and reports latency p50 / p90 / p99 / min, the first call, and the
process's peak resident memory.  One process per measurement so runs do not pollute each other.

Beside the timings, from the file itself:
- FLOPs per signature: 2 x the multiply-accumulates of FULLY_CONNECTED, BATCH_MATMUL, CONV_2D and
  DEPTHWISE_CONV_2D ops (element-wise ops, softmax and norms are not counted);
- achieved GFLOP/s = FLOPs / p50, next to this machine's single-core ceiling measured in the same
  run (float32 matmul on one OpenBLAS thread), so a reader sees how close to the limit a file runs;
- which ops XNNPACK takes and which stay on LiteRT's reference kernels (the interpreter's primary
  subgraph, after the delegate partitioned it).

On a phone, ``--adb SERIAL --benchmark-binary PATH`` pushes the file and LiteRT's own
``benchmark_model`` and parses its output into the same rows.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import LsmEdgeError
from .tflite import edge_nodes, example_inputs, signature_coverage, signature_flops


class BenchError(LsmEdgeError):
    """A file that cannot be benchmarked, or a benchmark that failed."""


def machine() -> dict:
    """Who measured: CPU model, cores, Python, OS (stored with every result)."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0], "os": platform.platform()}


# ---------------------------------------------------------------- the file: FLOPs per signature


# ---------------------------------------------------------------- in the child: one measurement


def _rss_kb(field: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KB on Linux


def measure_here(path, threads: int, runs: int, warmup: int) -> dict:
    """Run inside a fresh process: init, every signature, peak memory."""
    from ai_edge_litert.interpreter import Interpreter  # loaded before the baseline: the delta is the model's

    base_kb = _rss_kb("VmRSS")
    t0 = time.perf_counter()
    interp = Interpreter(model_path=str(path), num_threads=threads)
    interp.allocate_tensors()
    init_ms = 1e3 * (time.perf_counter() - t0)
    row = {"threads": threads, "init_ms": init_ms, "signatures": {}}
    rng = np.random.default_rng(0)
    for sig in interp.get_signature_list():
        r = interp.get_signature_runner(sig)
        feeds = example_inputs(r.get_input_details(), rng)
        t = time.perf_counter()
        r(**feeds)
        first_ms = 1e3 * (time.perf_counter() - t)
        for _ in range(warmup):
            r(**feeds)
        times = np.empty(runs)
        for i in range(runs):
            t = time.perf_counter()
            r(**feeds)
            times[i] = time.perf_counter() - t
        ms = 1e3 * times
        row["signatures"][sig] = {"first_ms": first_ms, "p50_ms": float(np.median(ms)),
                                  "p90_ms": float(np.percentile(ms, 90)), "p99_ms": float(np.percentile(ms, 99)),
                                  "min_ms": float(ms.min()), "runs": runs}
    row["peak_rss_mb"] = _rss_kb("VmHWM") / 1024
    row["model_rss_mb"] = (_rss_kb("VmHWM") - base_kb) / 1024
    sigs = list(interp.get_signature_list())  # coverage of impute (what the tables report), else the first one
    row["ops"] = signature_coverage(Path(path).read_bytes(), "impute" if "impute" in sigs else sigs[0])
    return row


def _child_env() -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def measure(path, threads: int = 1, runs: int = 100, warmup: int = 10, timeout: float = 600) -> dict:
    """:func:`measure_here` in a child process; returns its row."""
    cmd = [sys.executable, "-m", "lsm_edge.core.measure", str(path), str(threads), str(runs), str(warmup)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_child_env())
    except subprocess.TimeoutExpired:
        raise BenchError(f"{path}: benchmark with {threads} thread(s) took longer than {timeout:.0f} s") from None
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"{path}: the benchmark process failed (exit {p.returncode}): {tail}")
    return json.loads(lines[-1])


def cpu_ceiling(n: int = 512, seconds: float = 1.0) -> float:
    """GFLOP/s of a float32 [n, n] matmul on one OpenBLAS thread, best of repeated calls, in a child."""
    code = ("import time, numpy as np\n"
            f"a = np.random.default_rng(0).standard_normal(({n}, {n}), dtype=np.float32); b = a.T.copy()\n"
            "a @ b; best = 1e9; t_end = time.perf_counter() + %f\n"
            "while time.perf_counter() < t_end:\n"
            "    t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)\n"
            f"print(2 * {n}**3 / best / 1e9)\n") % seconds
    env = dict(_child_env(), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    if p.returncode != 0:
        raise BenchError(f"measuring the CPU ceiling failed: {p.stderr.strip()[-200:]}")
    return float(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- on a phone: benchmark_model over adb
_NUM = r"([-+0-9.eE]+)"


def parse_benchmark_model(text: str) -> dict:
    """The figures of one LiteRT ``benchmark_model`` run (its stdout/logcat text) as a dict in ms / MB.

    Raises :class:`BenchError` if the text has no final timing line (the tool failed)."""
    out: dict = {}
    m = re.search(r"Inference timings in us: Init: " + _NUM + r", First inference: " + _NUM
                  + r", Warmup \(avg\): " + _NUM + r", Inference \(avg\): " + _NUM, text)
    if not m:
        last = (text.strip().splitlines() or ["(empty)"])[-1]
        raise BenchError(f"benchmark_model output has no 'Inference timings' line; last line: {last!r}")
    out["init_ms"], out["first_ms"], out["warmup_avg_ms"], out["avg_ms"] = (float(v) / 1e3 for v in m.groups())
    counts = re.findall(r"count=(\d+)([^\n]*)", text)
    if counts:  # the last one is the timed runs
        n, rest = counts[-1]
        fields = dict(re.findall(r"(\w+)=" + _NUM, rest))
        out["runs"] = int(n)
        for k, name in (("min", "min_ms"), ("max", "max_ms"), ("std", "std_ms"), ("median", "p50_ms"),
                        ("p5", "p5_ms"), ("p95", "p95_ms")):
            if k in fields:
                out[name] = float(fields[k]) / 1e3
    m = re.search(r"Memory footprint delta from the start of the tool \(MB\): init=" + _NUM + " overall=" + _NUM,
                  text)
    if m:
        out["init_mem_mb"], out["model_rss_mb"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"Peak memory footprint \(MB\): init=" + _NUM + " overall=" + _NUM, text)
    if m:
        out["peak_rss_mb"] = float(m.group(2))
    m = re.search(r"Replacing (\d+) out of (\d+) node\(s\) with delegate \((\w+)\) node, yielding (\d+) partitions",
                  text)
    if m:
        out["ops"] = {"xnnpack_nodes": int(m.group(1)), "nodes": int(m.group(2)), "delegate": m.group(3),
                      "partitions": int(m.group(4))}
    return out


def adb_measure(serial: str, binary, path, signature: str, threads: int, runs: int, warmup: int,
                adb: str = "adb") -> dict:
    """Push ``path`` (and ``binary``) to the phone and run ``benchmark_model`` on one signature."""
    remote = "/data/local/tmp/lsm_edge"

    def call(*args, timeout=600):
        try:
            p = subprocess.run([adb, "-s", serial, *args], capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError:
            raise BenchError(f"{adb!r} not found: install Android platform-tools or pass --adb-path") from None
        if p.returncode != 0:
            raise BenchError(f"adb -s {serial} {' '.join(args[:2])} failed: {(p.stderr or p.stdout).strip()[-300:]}")
        return p.stdout + p.stderr

    if not Path(binary).is_file():
        raise BenchError(f"{binary}: no such benchmark_model binary")
    call("shell", f"mkdir -p {remote}")
    call("push", str(binary), f"{remote}/benchmark_model")
    call("shell", f"chmod +x {remote}/benchmark_model")
    call("push", str(path), f"{remote}/{Path(path).name}")
    text = call("shell", f"{remote}/benchmark_model --graph={remote}/{Path(path).name} --num_threads={threads} "
                f"--num_runs={runs} --warmup_runs={warmup} --signature_to_run_for={signature} "
                "--report_peak_memory_footprint=true")
    return parse_benchmark_model(text)


# ---------------------------------------------------------------- the whole bench
def bench(files, threads=(1,), runs: int = 100, warmup: int = 10, adb_serial: str | None = None,
          benchmark_binary=None, progress: bool = True) -> dict:
    """Every file x thread count -> {"ceiling_gflops": ..., "rows": [...]} (see module docstring)."""
    from ..runtime import read_metadata

    files = [Path(f) for f in files]
    for f in files:
        if not f.is_file():
            raise BenchError(f"{f}: no such file")
        read_metadata(f.read_bytes(), str(f))  # refuses non-.tflite and foreign files up front
    if runs < 1 or warmup < 0:
        raise BenchError(f"--runs must be >= 1 and --warmup >= 0, got runs={runs}, warmup={warmup}")
    if adb_serial and not benchmark_binary:
        raise BenchError("--adb needs --benchmark-binary: the path of LiteRT's benchmark_model for the phone")
    ceiling = None if adb_serial else cpu_ceiling()
    jobs = [(f, t) for f in files for t in threads]
    from tqdm.auto import tqdm

    rows = []
    for f, t in tqdm(jobs, desc="bench", unit="run", disable=not progress):
        flat = f.read_bytes()
        flops = signature_flops(flat)
        meta = read_metadata(flat, str(f))
        if adb_serial:
            row = {"threads": t, "signatures": {}, "device": f"adb:{adb_serial}"}
            for sig in flops:
                row["signatures"][sig] = adb_measure(adb_serial, benchmark_binary, f, sig, t, runs, warmup)
            first = next(iter(row["signatures"].values()), {})
            for k in ("init_ms", "model_rss_mb", "peak_rss_mb", "ops"):
                if k in first:
                    row[k] = first[k]
        else:
            row = measure(f, t, runs, warmup)
        row.update(file=str(f), name=f.stem, bytes=f.stat().st_size, quantization=meta.get("quantization"),
                   model=meta["model"].get("name"), params=meta["model"].get("params"), edges=edge_nodes(meta))
        for sig, s in row["signatures"].items():
            s["flops"] = flops.get(sig, 0)
            if s.get("p50_ms"):
                s["gflops"] = s["flops"] / (s["p50_ms"] * 1e6)
        rows.append(row)
    return {"machine": machine(), "ceiling_gflops": ceiling, "runs": runs, "warmup": warmup, "rows": rows}


def to_table(result: dict, signature: str | None = None) -> str:
    """Markdown table: one line per file x threads x signature."""
    ceil = result.get("ceiling_gflops")
    head = ("| artifact | threads | signature | size (KB) | init ms | p50 ms | p90 ms | p99 ms | min ms | "
            "peak RSS MB | MFLOPs | GFLOP/s" + (f" (of {ceil:.0f} ceiling)" if ceil else "") + " | XNNPACK nodes | "
            "raw-unit edge nodes (off XNNPACK) |")
    lines = [head, "|" + "---|" * 14]
    for r in result["rows"]:
        ops = r.get("ops", {})
        cov = f"{ops['xnnpack_nodes']}/{ops['nodes']}" if "nodes" in ops else "-"
        e = r.get("edges")
        cov += f" | {e['nodes']} ({e['off_xnnpack']})" if e else " | -"
        for sig, s in r["signatures"].items():
            if signature and sig != signature:
                continue
            g = s.get("gflops")
            lines.append(
                f"| {r['name']} | {r['threads']} | {sig} | {r['bytes'] / 1e3:,.0f} | {r.get('init_ms', float('nan')):.1f} | "
                f"{s.get('p50_ms', float('nan')):.3f} | {s.get('p90_ms', float('nan')):.3f} | "
                f"{s.get('p99_ms', float('nan')):.3f} | {s.get('min_ms', float('nan')):.3f} | "
                f"{r.get('peak_rss_mb', float('nan')):.1f} | {s['flops'] / 1e6:.1f} | "
                + (f"{g:.1f}" + (f" ({g / ceil:.0%})" if ceil else "") if g else "-") + f" | {cov} |")
    return "\n".join(lines)


def reference_ops(result: dict) -> dict:
    """{artifact name: {op: count}} of ops left on reference kernels (first thread count)."""
    seen = {}
    for r in result["rows"]:
        if r["name"] not in seen and "reference_ops" in r.get("ops", {}):
            seen[r["name"]] = r["ops"]["reference_ops"]
    return seen


if __name__ == "__main__":  # the child process of measure(): FILE THREADS RUNS WARMUP
    f, t, n, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(measure_here(f, t, n, w)))
