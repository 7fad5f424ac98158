"""Is the file the app's whole contract?  Every released file, self-contained (raw units in and out), against the
metadata-version-1 release and its numpy runtime; and the same file from C (x86 and emulated ARM) and a web page.

    python benchmarks/apps.py --v1 DIR --runtime-v1 FILE --data DATASET --out benchmarks/results/apps

DIR holds the version-1 files (``git show 701322b:pretrained/...``), FILE the version-1 runtime
(``git show 701322b:lsm_edge/runtime.py`` with absolute imports); ``benchmarks/apps.sh`` prepares both and calls
this.  Windows: 64 test-people windows of covid19 (heart rate and steps), real missingness plus a hidden 60-minute
span (minutes 120-179, every feature).  Writes ``apps.json`` and ``README.md``-ready tables (``tables.md``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsm_edge.core import apps, arm  # noqa: E402
from lsm_edge.data.dataset import Dataset  # noqa: E402
from lsm_edge.core.measure import machine  # noqa: E402
from lsm_edge.runtime import Imputer, read_metadata  # noqa: E402

FILES = ["real_conv96x5/conv96x5_float32.tflite", "real_student_conv64/student_conv64_dynamic.tflite",
         "real_student_conv64/student_conv64_int8.tflite", "real_student_intconv/intconv48n_18k_int8.tflite",
         "real_student_intconv/intconv48n_18k_int8io.tflite"]
CORES = ("cortex-a53", "cortex-a76")
HIDE = slice(120, 180)


def windows(data, n: int = 64) -> tuple[np.ndarray, np.ndarray, list]:
    """n covid19 test windows with heart rate in the hidden span, spread evenly over the test people's windows ->
    (the windows with the span hidden, the span as recorded, the people)."""
    test = Dataset(data).load("test")
    subj = np.asarray(test.subject)
    hr_seen = (~np.isnan(test.values[:, HIDE, 0])).sum(1)
    pick = np.flatnonzero(np.char.startswith(subj.astype(str), "covid19-") & (hr_seen >= 30))
    pick = pick[np.linspace(0, len(pick) - 1, n).round().astype(int)]
    x = test.values[pick].copy()
    x[:, HIDE] = np.nan
    return x, test.values[pick][:, HIDE], sorted(set(subj[pick].tolist()))


def hidden_mae(filled: np.ndarray, truth: np.ndarray) -> dict:
    """MAE over the hidden span's recorded cells (``truth``): heart rate (bpm) and steps (steps/min)."""
    out = {}
    for name, j in (("heart_rate", 0), ("step_count", 13)):
        ok = ~np.isnan(truth[..., j])
        out[name] = float(np.abs(filled[:, HIDE][..., j][ok] - truth[..., j][ok]).mean())
    return out


def shown_window(csv_path) -> int:
    """The page's first window (of those with heart rate in half their minutes, as web/app.js lists them) whose
    hidden span was recorded throughout: the screenshot shows the fill beside the truth."""
    rows = [r.split(",") for r in Path(csv_path).read_text().splitlines()[1:] if r.strip()]
    minute = np.array([r[2][:16] for r in rows], "datetime64[m]").astype(np.int64)
    m = minute - minute.min()
    seen = np.zeros(m.max() + 1, bool)
    seen[m] = True
    k = 0
    for s in range(0, len(seen) - 299, 300):
        if seen[s:s + 300].sum() >= 150:
            if seen[s + HIDE.start:s + HIDE.stop].all():
                return k
            k += 1
    return 0


def load_v1(path):
    spec = importlib.util.spec_from_file_location("runtime_v1", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def prepared_v1(rt1, imp1, x) -> list:
    """What the version-1 runtime fed its file for each window (its numpy edges): the interpreter's inputs."""
    feeds = []
    for w in x:
        v = w[None]
        z = rt1.fill_linear((v - imp1._mean) / imp1._std)
        if imp1._clip:
            z = np.clip((z - imp1._offset) / imp1._scale, -1.0, 1.0)
        f = {"values": z.astype(np.float32), "missing": np.isnan(v).astype(np.float32)}
        q = imp1._io.get("impute", {})
        feeds.append({k: rt1.quantize(u, q["inputs"][k]) if k in q.get("inputs", {}) else u for k, u in f.items()})
    return feeds


def timing(imp, imp1, x, feeds1, repeats: int) -> dict:
    """Cost as an app sees it, x86, one thread, one window a call: the version-1 and version-2 ``Imputer.impute`` end
    to end and their interpreter calls alone, the four taken in turn on each window (so that the machine's drift
    falls on all four alike), ``repeats`` times over every window -> medians in microseconds."""
    run, run1 = imp.runner("impute"), imp1.runner("impute")
    calls = {"us_v1_end_to_end": lambda i: imp1.impute(x[i]), "us_v2_end_to_end": lambda i: imp.impute(x[i]),
             "us_v1_interpreter": lambda i: run1(**feeds1[i]), "us_v2_interpreter": lambda i: run(values=x[i:i + 1])}
    t = {k: [] for k in calls}
    for _ in range(repeats):
        for i in range(len(x)):
            for k, fn in calls.items():
                t0 = time.perf_counter()
                fn(i)
                t[k].append(time.perf_counter() - t0)
    out = {k: float(np.median(v) * 1e6) for k, v in t.items()}
    out["speedup_end_to_end"] = out["us_v1_end_to_end"] / out["us_v2_end_to_end"]
    out["v2_edges_us"] = out["us_v2_interpreter"] - out["us_v1_interpreter"]
    return out


def output_step(meta_v1: dict, path_v1) -> np.ndarray | None:
    """One step of an integer file's impute output, in raw units per feature (None for float files)."""
    if meta_v1["quantization"] != "int8":
        return None
    from lsm_edge.core.tflite import float_output_scale

    if meta_v1.get("io"):
        q = meta_v1["io"]["impute"]["outputs"]["values"]["scale"]
    else:
        q = float_output_scale(Path(path_v1).read_bytes(), "impute", "values")
    norm = meta_v1["normalization"]
    return q * np.asarray(norm.get("scale", 1.0), np.float32) * np.asarray(norm["std"], np.float32)


def rel(got, want) -> float:
    """max |got - want| relative to each feature's largest |value| in the window."""
    scale = np.maximum(np.nanmax(np.abs(want), axis=-2, keepdims=True), 1e-6)
    return float(np.max(np.abs(got - want) / scale))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--v1", required=True, type=Path)
    ap.add_argument("--runtime-v1", required=True, type=Path)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--pretrained", type=Path, default=ROOT / "pretrained")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--arm-windows", type=int, default=4)
    ap.add_argument("--web-windows", type=int, default=64)
    ap.add_argument("--skip-arm", action="store_true")
    ap.add_argument("--recordings", type=Path, help="the covid19 folder: a test person's <ID>_hr.csv.zip is the "
                    "page's screenshot")
    ap.add_argument("--timing-only", action="store_true", help="remeasure the x86 timings into an existing apps.json")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    rt1 = load_v1(a.runtime_v1)
    x, truth, people = windows(a.data)
    if a.timing_only:
        result = json.loads((a.out / "apps.json").read_text())
        for row in result["rows"]:
            imp = Imputer(a.pretrained / row["file"], num_threads=1)
            imp1 = rt1.Imputer(a.v1 / Path(row["file"]).name, num_threads=1)
            row.update(timing(imp, imp1, x, prepared_v1(rt1, imp1, x), a.repeats))
            row["hidden_mae_v1"] = hidden_mae(imp1.impute(x), truth)
            row["hidden_mae_v2"] = hidden_mae(imp.impute(x), truth)
            print(row["file"], {k: v for k, v in row.items() if k.startswith("us_") or k.startswith("speed")})
        result["timing_command"] = " ".join(sys.argv)
        result["timing_machine"] = machine()
        (a.out / "apps.json").write_text(json.dumps(result, indent=1))
        (a.out / "tables.md").write_text(tables(result))
        return
    print(f"{len(x)} windows of {len(people)} test people: {', '.join(people)}", flush=True)
    tmp = Path(tempfile.mkdtemp())
    program = apps.build_c(tmp)
    program_arm = None if a.skip_arm else apps.build_c(tmp, arm=True)
    rows = []
    for name in FILES:
        new, old = a.pretrained / name, a.v1 / Path(name).name
        meta, meta1 = read_metadata(new.read_bytes()), rt1.read_metadata(old.read_bytes())
        imp, imp1 = Imputer(new, num_threads=1), rt1.Imputer(old, num_threads=1)
        want1 = imp1.impute(x)
        got = imp.impute(x)
        obs = ~np.isnan(x)
        row = {"file": name, "quantization": meta["quantization"], "bytes_v1": old.stat().st_size,
               "bytes": new.stat().st_size, "observed_passed_through": bool(np.array_equal(got[obs], x[obs])),
               "v2_vs_v1_max_rel": rel(got, want1)}
        row["hidden_mae_v1"], row["hidden_mae_v2"] = hidden_mae(want1, truth), hidden_mae(got, truth)
        step = output_step(meta1, old)
        if step is not None:
            row["v2_vs_v1_max_steps"] = float(np.max(np.abs(got - want1) / step))
        raw, feeds1 = [w[None] for w in x], prepared_v1(rt1, imp1, x)
        row.update(timing(imp, imp1, x, feeds1, a.repeats))
        # C, x86: every window, against the Python call of the same file
        c_rel, c_exact = 0.0, True
        for i, w in enumerate(x):
            c, _ = apps.run_c(program, new, w)
            c_rel = max(c_rel, rel(c, got[i]))
            c_exact &= bool(np.array_equal(c, got[i]))
        _, us_c = apps.run_c(program, new, x[0], calls=200)
        row.update(c_x86_max_rel=c_rel, c_x86_bit_exact=c_exact, us_c_x86=us_c)
        # C on the emulated cores: parity on a few windows, instructions per call (the first call not counted)
        for core in ([] if a.skip_arm else CORES):
            r_max, per_call = 0.0, None
            for i in range(a.arm_windows):
                c, per_call = apps.run_c_arm(core, program_arm, new, x[i], calls=3)
                r_max = max(r_max, rel(c, got[i]))
            # the interpreter's Invoke alone (arm_guest.py), on the first window: v1 on what its runtime prepared
            _, _, span1 = arm.run_guest(core, old, "impute", 3, feeds1[0])
            _, _, span2 = arm.run_guest(core, new, "impute", 3, {"values": raw[0]})
            row[core] = {"c_max_rel": r_max, "c_instructions_per_call": per_call,
                         "v1_interpreter_instructions_per_call": span1 / 3,
                         "v2_interpreter_instructions_per_call": span2 / 3}
        # the web page in headless chromium (real time)
        web = apps.web_run(new, x[:a.web_windows], calls=50)
        wv = web["values"].reshape(got[:a.web_windows].shape)
        row.update(web_max_rel=rel(wv, got[:a.web_windows]),
                   web_bit_exact=bool(np.array_equal(wv, got[:a.web_windows])), web_ms_per_call=web["ms_per_call"])
        row["nodes"] = {s: (c["xnnpack_nodes"], c["nodes"], c["reference_ops"]) for s, c in meta["xnnpack"].items()}
        row["nodes_core"] = {s: (c["xnnpack_nodes"], c["nodes"]) for s, c in meta["xnnpack_core"].items()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if a.recordings:  # a test person's own file as the page reads it: their covid19 heart-rate CSV, unzipped
        import zipfile

        rec = tmp / "heart_rate.csv"
        with zipfile.ZipFile(a.recordings / f"{people[0].split('-', 1)[1]}_hr.csv.zip") as z:
            rec.write_bytes(z.read(z.namelist()[0]))
        apps.web_screenshot(a.pretrained / FILES[3], rec, a.out / "web_fill.png",
                            query=f"&hide=1&window={shown_window(rec)}")
    result = {"command": " ".join(sys.argv), "machine": machine(), "screenshot_person": people[0], "people": people, "windows": len(x),
              "hidden": [HIDE.start, HIDE.stop], "rows": rows}
    (a.out / "apps.json").write_text(json.dumps(result, indent=1))
    (a.out / "tables.md").write_text(tables(result))
    print(tables(result))


def tables(r: dict) -> str:
    def f(v, fmt):
        return "-" if v is None else format(v, fmt)

    out = [f"{r['windows']} windows of {len(r['people'])} covid19 test people ({', '.join(r['people'])}); minutes "
           f"{r['hidden'][0]}-{r['hidden'][1] - 1} hidden in every window.", "",
           "| file | v2 vs v1 runtime (max rel; int: output steps) | hidden heart rate MAE v1 / v2 (bpm) | hidden steps "
           "MAE v1 / v2 | observed cells bit-exact | C x86 vs Python | web vs Python | v1 end to end µs | "
           "v1 interpreter µs | v2 end to end µs | v2 interpreter µs | speed-up | C µs | web ms |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for w in r["rows"]:
        par = f"{w['v2_vs_v1_max_rel']:.1e}" + (f" ({w['v2_vs_v1_max_steps']:.2f} steps)" if "v2_vs_v1_max_steps" in w else "")
        cx = "bit-exact" if w["c_x86_bit_exact"] else f"{w['c_x86_max_rel']:.1e}"
        wb = "bit-exact" if w["web_bit_exact"] else f"{w['web_max_rel']:.1e}"
        m1, m2 = w.get("hidden_mae_v1", {}), w.get("hidden_mae_v2", {})
        mae = " | ".join(f"{m1[k]:.3f} / {m2[k]:.3f}" if k in m1 else "-" for k in ("heart_rate", "step_count"))
        out.append(f"| {w['file'].split('/')[-1]} | {par} | {mae} | {w['observed_passed_through']} | {cx} | {wb} | "
                   f"{w['us_v1_end_to_end']:.0f} | {w['us_v1_interpreter']:.0f} | {w['us_v2_end_to_end']:.0f} | "
                   f"{w['us_v2_interpreter']:.0f} | {w['speedup_end_to_end']:.2f}x | {f(w['us_c_x86'], '.0f')} | "
                   f"{f(w['web_ms_per_call'], '.2f')} |")
    if any(c in w for w in r["rows"] for c in CORES):
        out += ["", "| file | core | C vs Python (max rel) | C M instr / call | v2 interpreter M instr / call | "
                    "v1 interpreter M instr / call | v2 / v1 |", "|---|---|---|---|---|---|---|"]
        for w in r["rows"]:
            for c in CORES:
                if c in w:
                    e = w[c]
                    out.append(f"| {w['file'].split('/')[-1]} | {c} | {e['c_max_rel']:.1e} | "
                               f"{e['c_instructions_per_call'] / 1e6:.2f} | "
                               f"{e['v2_interpreter_instructions_per_call'] / 1e6:.2f} | "
                               f"{e['v1_interpreter_instructions_per_call'] / 1e6:.2f} | "
                               f"{e['v2_interpreter_instructions_per_call'] / e['v1_interpreter_instructions_per_call']:.2f}x |")
    out += ["", "| file | signature | nodes on XNNPACK (file) | off XNNPACK | core nodes on XNNPACK |", "|---|---|---|---|---|"]
    for w in r["rows"]:
        for s, (xn, n, ref) in w["nodes"].items():
            cx, cn = w["nodes_core"][s]
            off = ", ".join(f"{k} x{v}" for k, v in sorted(ref.items()))
            out.append(f"| {w['file'].split('/')[-1]} | {s} | {xn}/{n} | {off or '-'} | {cx}/{cn} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
