"""Issue 39's choice and bars (benchmarks/int8_suite.sh).

    python benchmarks/int8_bars.py select VAL_DIR --out selection.md   -> prints the chosen candidate's name
    python benchmarks/int8_bars.py bars RESULTS_DIR                    -> markdown on stdout

``select`` reads evaluate-real's real.json on the validation people: every ``<name>_int8`` file's 60-minute
heart-rate interpolation gain over linear (pooled over the sets with heart rate), beside its Keras run's
(what post-training quantization loses); the largest int8 gain is chosen.  ``bars`` reads bench_x86.json,
arm.json and real/real.json (the test people) and the files' metadata (XNNPACK coverage of every signature).
The teacher is ``teacher_float32``; the dynamic-range student is ``conv64_dynamic``.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lsm_edge.runtime import read_metadata  # noqa: E402

TEACHER, DYNAMIC = "teacher_float32", "conv64_dynamic"


def hr_gain(real: dict, method: str, sets=None) -> tuple:
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
        cells, windows, people = cells + n, windows + t.get("windows", s["windows"]), people + len(s["subjects"])
    return (1 - mae / lin if lin else float("nan")), cells, windows, people


def select(val: Path, out: Path) -> str:
    real = json.loads((val / "real.json").read_text())
    methods = {m for s in real["imputation"].values() for t in s["tasks"].values() for m in t["methods"]}
    cands = sorted(m[:-len("_int8")] for m in methods if m.endswith("_int8"))
    teacher = TEACHER if any(TEACHER in t["methods"] for s in real["imputation"].values()
                             for t in s["tasks"].values()) else "teacher zero-shot"  # the Keras teacher, not adapted
    g_t, cells, windows, people = hr_gain(real, teacher)
    rows = sorted(((hr_gain(real, f"{c}_int8")[0], hr_gain(real, c)[0], c) for c in cands), reverse=True)
    lines = ["# Choosing the full-integer student on the validation people", "",
             f"60-minute heart-rate interpolation gain over linear, pooled over {cells:,} hidden cells ({windows} "
             f"windows, {people} people, the validation people of every set with heart rate); "
             f"`{teacher}`: {100 * g_t:+.2f}%.  The test people are not looked at here.", "",
             "| candidate | int8 file | kept of the teacher's gain | its Keras run (float) | lost in quantization |",
             "|---|---|---|---|---|"]
    for gi, gf, c in rows:
        lost = f"{100 * (1 - gi / gf):.0f}% of its gain" if gf > 0 else "-"
        lines.append(f"| {c} | {100 * gi:+.2f}% | {100 * gi / g_t:.0f}% | {100 * gf:+.2f}% | {lost} |")
    lines += ["", f"Chosen: **{rows[0][2]}** (largest int8 gain)."]
    out.write_text("\n".join(lines) + "\n")
    return rows[0][2]


def bars(res: Path) -> str:
    bench = {r["name"]: r for r in json.loads((res / "bench_x86.json").read_text())["rows"] if r["threads"] == 1}
    arm = {(r["artifact"], r["core"]): r for r in json.loads((res / "arm.json").read_text())["rows"]
           if r["signature"] == "impute"}
    real = json.loads((res / "real" / "real.json").read_text())
    cores = sorted({c for _, c in arm})
    names = sorted(bench, key=lambda n: (not n.startswith("teacher"), not n.startswith("conv64"), n))


    def probe(name: str, kind: str):
        a = real.get("activity") or {}
        s = a.get("scores", {}).get(f"{kind} probe: {name} embed")
        return s["accuracy"] if s else None


    out = ["# Issue 39's bars, one run of benchmarks/int8_suite.sh", ""]
    hdr = ["file", "nodes on XNNPACK (impute / forecast / embed)", "QUANTIZE/DEQUANTIZE inside", "x86 p50 ms (1 thr)"]
    hdr += [f"{c} M instr." for c in cores] + [f"teacher / file, {c}" for c in cores]
    hdr += ["HR 60-min interp. gain (kept)", "activity, linear probe (kept)", "activity, forest probe (kept)"]
    out += ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    g_t = hr_gain(real, TEACHER)[0]
    for n in names:
        meta = read_metadata(Path(bench[n]["file"]).read_bytes(), n)
        cov = meta.get("xnnpack", {})
        nodes = " / ".join(f"{cov[s]['xnnpack_nodes']}/{cov[s]['nodes']}" for s in ("impute", "forecast", "embed") if s in cov)
        inner = sum(c.get("inner_quantize", 0) for c in cov.values()) if cov else "-"
        row = [f"**{n}**" if n.startswith("intconv") else n, nodes or "-", str(inner),
               f"{bench[n]['signatures']['impute']['p50_ms']:.4f}"]
        row += [f"{arm[(n, c)]['instructions_per_call'] / 1e6:.3f}" for c in cores]
        row += [f"{arm[(TEACHER, c)]['instructions_per_call'] / arm[(n, c)]['instructions_per_call']:.1f}x" for c in cores]
        g = hr_gain(real, n)[0]
        row.append(f"{100 * g:+.2f}% ({100 * g / g_t:.0f}%)")
        for kind in ("linear", "forest"):
            a, t = probe(n, kind), probe(TEACHER, kind)
            row.append(f"{100 * a:.1f}% ({100 * a / t:.0f}%)" if a is not None and t else "-")
        out.append("| " + " | ".join(row) + " |")
    _, cells, windows, people = hr_gain(real, TEACHER)
    act = real.get("activity") or {}
    out += ["", f"Heart rate: 60-minute interpolation on the test people of every set with heart rate, MAE in bpm pooled "
            f"over {cells:,} hidden cells ({windows:,} windows, {people} people); gain = 1 - MAE / MAE(linear); kept = "
            f"the file's gain / {TEACHER}'s.  Per set:", ""]
    sets = [k for k, s in real["imputation"].items() if s["channel"] == "heart_rate"]
    out += ["| file | " + " | ".join(f"{k} ({len(real['imputation'][k]['subjects'])} people)" for k in sets) + " |",
            "|---|" + "---|" * len(sets)]
    for n in names:
        out.append(f"| {n} | " + " | ".join(f"{100 * hr_gain(real, n, [k])[0]:+.2f}%" for k in sets) + " |")
    if act:
        out += ["", f"Activity: {act['set']}, {act['examples']} segments of {act['participants']} people, participant-grouped "
                "folds (evaluate-real): probes on each file's `embed` output, through the runtime."]
    dyn = {c: arm[(DYNAMIC, c)]["instructions_per_call"] for c in cores}
    out += ["", f"Best dynamic-range student: {DYNAMIC}, x86 p50 {bench[DYNAMIC]['signatures']['impute']['p50_ms']:.4f} ms, "
            + ", ".join(f"{c} {dyn[c] / 1e6:.3f} M" for c in cores) + "."]
    return "\n".join(out)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["select", "bars"])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    print(select(a.dir, a.out) if a.what == "select" else bars(a.dir))
