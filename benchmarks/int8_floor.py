"""What an int8 file of the intconv shape costs before it holds a model: untrained intconv students of 4 and 8
channels (one block), converted with every op int8 and integer I/O, counted on the emulated cores beside the
released teacher's float32 file.  The 30x bar of issue 39 is a budget of teacher / 30 instructions per impute
call; this is the part of it that the window's own size takes (quantized [300, 26] inputs, concatenation,
the first and last layers over 7,800 values, the fill blend).

    python benchmarks/int8_floor.py --out benchmarks/results/int8/floor.md   (needs `make arm`)
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--teacher-file", default=str(ROOT / "pretrained/real_conv96x5/conv96x5_float32.tflite"))
    ap.add_argument("--data", default=str(ROOT / "runs/real/corpus"), help="calibration windows (train split)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    from lsm_edge.core import arm
    from lsm_edge.verbs import convert
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.data.stats import NormStats
    from lsm_edge.models.intconv import IntStudent, feature_range
    from lsm_edge.models.mae import count_params

    stats_file = ROOT / "pretrained/real_conv96x5/stats.json"
    z = NormStats.load(stats_file).normalize(Dataset(a.data).load("train").values[:2000])
    offset, scale = feature_range(z)
    import keras

    keras.utils.set_random_seed(0)
    files = [Path(a.teacher_file)]
    with tempfile.TemporaryDirectory() as tmp:
        for dim in (4, 8):
            run = Path(tmp) / f"floor{dim}"
            run.mkdir()
            m = IntStudent(dim, 1, offset=offset, scale=scale)
            m.save(run / "model.keras")
            shutil.copy(stats_file, run / "stats.json")
            (run / "config.json").write_text(json.dumps({"kind": "student", "name": f"untrained-{dim}x1",
                                                         "model": m.get_config(), "params": count_params(m)}))
            (run / "manifest.json").write_text(json.dumps({"data": {"path": a.data}}))
            for io in ("float32", "int8"):
                f = Path(tmp) / f"untrained{dim}x1_{'int8io' if io == 'int8' else 'int8'}.tflite"
                convert.convert(run, f, "int8", calibration_windows=100, io=io, strict=True)
                files.append(f)
        res = arm.arm_bench(files, ("cortex-a53", "cortex-a76"), calls=20, signatures=["impute"], progress=False)
    rows = {(r["artifact"], r["core"]): r["instructions_per_call"] for r in res["rows"]}
    t = {c: rows[(files[0].stem, c)] for c in ("cortex-a53", "cortex-a76")}
    lines = ["# The floor of an intconv-shaped int8 file (untrained, impute, instructions per call)", "",
             f"Command: `python benchmarks/int8_floor.py --out {a.out}`", "",
             "| file | cortex-a53 M instr. | share of the 30x budget | cortex-a76 M instr. | share of the 30x budget |",
             "|---|---|---|---|---|"]
    for i, f in enumerate(files):
        a53, a76 = rows[(f.stem, "cortex-a53")], rows[(f.stem, "cortex-a76")]
        share = (f"{a53 / (t['cortex-a53'] / 30):.0%}", f"{a76 / (t['cortex-a76'] / 30):.0%}") if i else ("-", "-")
        lines.append(f"| {f.stem} | {a53 / 1e6:.3f} | {share[0]} | {a76 / 1e6:.3f} | {share[1]} |")
    lines += ["", f"30x budget = {files[0].stem} / 30: {t['cortex-a53'] / 30e6:.3f} M (a53), "
              f"{t['cortex-a76'] / 30e6:.3f} M (a76)."]
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
