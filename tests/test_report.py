import json

import numpy as np
import pytest
from click.testing import CliRunner

from lsm_edge.verbs import report as rp
from lsm_edge.cli import main
from lsm_edge.errors import LsmEdgeError


def _row(name, teacher=False, kind="student", p50=1.0, interp=0.1, act=0.7, kept=None):
    return {"artifact": name, "file": name + ".tflite", "model": name, "kind": kind, "quantization": "float32",
            "params": 1000, "bytes": 10_000, "teacher": teacher,
            "generative": {"interpolation 60 min": {"mae": 0.4, "linear_mae": 0.44, "gain": interp},
                           "extrapolation 60 min": {"mae": 0.4, "linear_mae": 0.5, "gain": 0.2}},
            "classify": {"activity": {"accuracy": act, "mAP": 0.5, "n": 10}},
            "cost": {"1": {"impute_p50_ms": p50, "peak_rss_mb": 50.0}}, "kept": kept or {},
            "speedup_vs_teacher_1thread": 1.0}


def _report():
    rows = [_row("teacher_float32", True, "teacher", p50=8.0, kept={"activity accuracy": 1.0, "interpolation 60 min": 1.0}),
            _row("pico_int8", p50=0.5, kept={"activity accuracy": 0.96, "interpolation 60 min": 0.85}),
            _row("conv_float32", p50=0.8, kept={"interpolation 60 min": 0.97})]
    return {"teacher_run": "t", "teacher_file": "teacher_float32.tflite", "windows": 8, "seed": 0,
            "tasks": ["interpolation 60 min", "extrapolation 60 min"],
            "labelled_test_windows": {"exercise": 10, "activity": 10},
            "baselines": {"activity": {"accuracy": 0.8, "mAP": 0.7}}, "rows": rows}


def test_gate_names_each_artifact_and_metric_below():
    fails = rp.gate(_report(), 0.9)
    assert fails == ["pico_int8: interpolation 60 min kept 85.0% < 90%",
                     "conv_float32: activity accuracy not measured (no such task or signature in the file)"]
    assert rp.gate(_report(), 0.8, ("interpolation 60 min",)) == []


def test_markdown_and_pareto(tmp_path):
    rep = _report()
    md = rp.to_markdown(rep)
    lines = [l for l in md.splitlines() if l.startswith("| ")]
    assert "(teacher)" in lines[1]  # the teacher first, then by latency
    assert lines[2].startswith("| pico_int8 ") and lines[3].startswith("| conv_float32 ")
    assert "random forest on window summary statistics: activity accuracy 80.0%" in md
    path = rp.write_report(rep, tmp_path, command="lsm-edge report ...")
    assert path.read_text().count("![Pareto chart](pareto.png)") == 1
    png = (tmp_path / "pareto.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert json.loads((tmp_path / "report.json").read_text())["command"] == "lsm-edge report ..."


def test_arm_columns_ratios_and_second_pareto_row(tmp_path):
    rep = _report()
    plain = len(rp.write_report(_report(), tmp_path / "plain").parent.joinpath("pareto.png").read_bytes())
    rep["arm"] = {"cores": ["cortex-a53", "cortex-a76"], "windows": 4, "calls": 3}
    for r, m in zip(rep["rows"], (80e6, 5e6, 10e6)):
        r["arm"] = {c: {"impute_instructions": m * k, "max_abs_diff": 0.5 if r["artifact"] == "pico_int8" else 0.0,
                        "heldout": {"interpolation 60 min": {"host_mae": 0.4, "arm_mae": 0.404, "rel_diff": 0.01}}}
                    for c, k in (("cortex-a53", 2.0), ("cortex-a76", 1.0))}
    md = rp.to_markdown(rep)
    table = md[md.index("On emulated ARM cores"):]
    rows = [l for l in table.splitlines() if l.startswith("| ")]
    assert rows[1].startswith("| **teacher_float32** (teacher) | float32 | 8.00 | 1.0x | 160.0 | 1.0x | 0 |")
    assert rows[2].startswith("| conv_float32 ")  # then by cortex-a53 instructions, most first
    assert rows[3].split(" | ")[2:6] == ["0.50", "16.0x", "10.0", "16.0x"]  # pico: x86 16x, a53 160 / 10 M
    assert "0.4040 (+1.00%)" in rows[3] and rows[3].rstrip(" |").endswith("-")  # no extrapolation parity given
    rp.write_report(rep, tmp_path / "arm")
    assert len((tmp_path / "arm" / "pareto.png").read_bytes()) > 1.5 * plain  # the cortex-a53 row beneath


def test_report_end_to_end_on_small_run(small_run, tmp_path):
    from lsm_edge.verbs.convert import convert
    from lsm_edge.core.scoring import Task

    arts = tmp_path / "arts"
    arts.mkdir()
    (arts / "teacher_float32.tflite").write_bytes((small_run / "f32.tflite").read_bytes())
    convert(small_run / "run", arts / "teacher_float16.tflite", "float16")
    rep = rp.build_report(small_run / "run", arts, small_run / "data", windows=6,
                          tasks=[Task("interpolation", 60), Task("random")], threads=(1,), runs=2,
                          with_baselines=False, progress=False)
    rows = {r["artifact"]: r for r in rep["rows"]}
    assert rows["teacher_float32"]["teacher"] and not rows["teacher_float16"]["teacher"]
    t, h = rows["teacher_float32"], rows["teacher_float16"]
    for task in ("interpolation 60 min", "random 80%"):
        # same windows and masks: the same linear baseline; float16 within a whisker of float32
        assert h["generative"][task]["linear_mae"] == t["generative"][task]["linear_mae"]
        assert abs(h["generative"][task]["mae"] - t["generative"][task]["mae"]) < 1e-2
    assert t["cost"]["1"]["impute_p50_ms"] > 0 and t["speedup_vs_teacher_1thread"] == 1.0
    assert rp.gate(rep, 0.5, ("activity accuracy",)) == [
        f"{n}: activity accuracy not measured (no such task or signature in the file)" for n in
        [r["artifact"] for r in rep["rows"]]]


def test_report_refuses_an_arm_bench_without_every_file_before_scoring(small_run, tmp_path, monkeypatch):
    arts = tmp_path / "arts"
    arts.mkdir()
    (arts / "teacher_float32.tflite").write_bytes((small_run / "f32.tflite").read_bytes())
    monkeypatch.setattr(rp, "score_generative", lambda *a, **k: pytest.fail("scored before the check"))
    partial = {"cores": ["cortex-a53"], "calls": 20, "rows": [
        {"file": "x/teacher_float32.tflite", "core": "cortex-a76", "signature": "impute"}]}
    with pytest.raises(LsmEdgeError, match="no impute row for teacher_float32.tflite on cortex-a53: rerun"):
        rp.build_report(small_run / "run", arts, small_run / "data", windows=4, bench_result={"rows": []},
                        with_baselines=False, progress=False, arm_cores=("cortex-a53",), arm_result=partial)


def test_report_needs_the_teachers_float32_file(small_run, tmp_path):
    arts = tmp_path / "arts"
    arts.mkdir()
    with pytest.raises(LsmEdgeError, match="no .tflite files"):
        rp.find_artifacts(arts)
    (arts / "other.tflite").write_bytes((small_run / "f32.tflite").read_bytes())
    other = tmp_path / "run2"  # another run: a different hash
    other.mkdir()
    for f in ("model.keras", "stats.json"):
        (other / f).write_bytes((small_run / "run" / f).read_bytes())
    (other / "config.json").write_text((small_run / "run" / "config.json").read_text().replace("{", '{"other": 1, ', 1))
    r = CliRunner().invoke(main, ["report", "--teacher", str(other), "--artifacts", str(arts),
                                  "--data", str(small_run / "data"), "--out", str(tmp_path / "rep")])
    assert r.exit_code != 0 and "float32 conversion of" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "rep").exists()
