"""Issue 39's bars from one int8 suite run (benchmarks/int8_suite.sh): python benchmarks/int8_bars.py RESULTS_DIR.

Reads bench_x86.json, arm.json and real/real.json under RESULTS_DIR and the files themselves (their metadata's
XNNPACK coverage of every signature); prints markdown.  The teacher is ``teacher_float32``; the dynamic-range
student is ``conv64_dynamic``; every file named ``intconv*`` is a full-integer student.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lsm_edge.runtime import read_metadata  # noqa: E402

res = Path(sys.argv[1])
bench = {r["name"]: r for r in json.loads((res / "bench_x86.json").read_text())["rows"] if r["threads"] == 1}
arm = {(r["artifact"], r["core"]): r for r in json.loads((res / "arm.json").read_text())["rows"]
       if r["signature"] == "impute"}
real = json.loads((res / "real" / "real.json").read_text())
cores = sorted({c for _, c in arm})
TEACHER, DYNAMIC = "teacher_float32", "conv64_dynamic"
names = sorted(bench, key=lambda n: (not n.startswith("teacher"), not n.startswith("conv64"), n))


def hr_gain(method: str, sets=None) -> tuple:
    """Pooled over the heart-rate sets (cells-weighted MAE in bpm): (gain over linear, cells, windows, people)."""
    mae = lin = cells = windows = people = 0
    for key, s in real["imputation"].items():
        if s["channel"] != "heart_rate" or (sets and key not in sets):
            continue
        t = s["tasks"].get("interpolation 60 min")
        if not t or method not in t["methods"]:
            continue
        n = t["methods"][method]["cells"]
        mae += t["methods"][method]["mae_unit"] * n
        lin += t["methods"]["linear"]["mae_unit"] * n
        cells, windows, people = cells + n, windows + t.get("windows", s["windows"]), people + s["subjects"]
    return (1 - mae / lin if lin else float("nan")), cells, windows, people


def probe(name: str, kind: str):
    a = real.get("activity") or {}
    s = a.get("scores", {}).get(f"{kind} probe: {name} embed")
    return s["accuracy"] if s else None


out = ["# Issue 39's bars, one run of benchmarks/int8_suite.sh", ""]
hdr = ["file", "nodes on XNNPACK (impute / forecast / embed)", "QUANTIZE/DEQUANTIZE inside", "x86 p50 ms (1 thr)"]
hdr += [f"{c} M instr." for c in cores] + [f"teacher / file, {c}" for c in cores]
hdr += ["HR 60-min interp. gain (kept)", "activity, linear probe (kept)", "activity, forest probe (kept)"]
out += ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
g_t = hr_gain(TEACHER)[0]
for n in names:
    meta = read_metadata(Path(bench[n]["file"]).read_bytes(), n)
    cov = meta.get("xnnpack", {})
    nodes = " / ".join(f"{cov[s]['xnnpack_nodes']}/{cov[s]['nodes']}" for s in ("impute", "forecast", "embed") if s in cov)
    inner = sum(c.get("inner_quantize", 0) for c in cov.values()) if cov else "-"
    row = [f"**{n}**" if n.startswith("intconv") else n, nodes or "-", str(inner),
           f"{bench[n]['signatures']['impute']['p50_ms']:.4f}"]
    row += [f"{arm[(n, c)]['instructions_per_call'] / 1e6:.3f}" for c in cores]
    row += [f"{arm[(TEACHER, c)]['instructions_per_call'] / arm[(n, c)]['instructions_per_call']:.1f}x" for c in cores]
    g = hr_gain(n)[0]
    row.append(f"{100 * g:+.2f}% ({100 * g / g_t:.0f}%)")
    for kind in ("linear", "forest"):
        a, t = probe(n, kind), probe(TEACHER, kind)
        row.append(f"{100 * a:.1f}% ({100 * a / t:.0f}%)" if a is not None and t else "-")
    out.append("| " + " | ".join(row) + " |")
_, cells, windows, people = hr_gain(TEACHER)
act = real.get("activity") or {}
out += ["", f"Heart rate: 60-minute interpolation on the test people of every set with heart rate, MAE in bpm pooled "
        f"over {cells:,} hidden cells ({windows:,} windows, {people} people); gain = 1 - MAE / MAE(linear); kept = "
        f"the file's gain / {TEACHER}'s.  Per set:", ""]
sets = [k for k, s in real["imputation"].items() if s["channel"] == "heart_rate"]
out += ["| file | " + " | ".join(f"{k} ({real['imputation'][k]['subjects']} people)" for k in sets) + " |",
        "|---|" + "---|" * len(sets)]
for n in names:
    out.append(f"| {n} | " + " | ".join(f"{100 * hr_gain(n, [k])[0]:+.2f}%" for k in sets) + " |")
if act:
    out += ["", f"Activity: {act['set']}, {act['examples']} segments of {act['participants']} people, participant-grouped "
            "folds (evaluate-real): probes on each file's `embed` output, through the runtime."]
dyn = {c: arm[(DYNAMIC, c)]["instructions_per_call"] for c in cores}
out += ["", f"Best dynamic-range student: {DYNAMIC}, x86 p50 {bench[DYNAMIC]['signatures']['impute']['p50_ms']:.4f} ms, "
        + ", ".join(f"{c} {dyn[c] / 1e6:.3f} M" for c in cores) + "."]
print("\n".join(out))
