"""ARM emulation (lsm-edge bench --arm): parity with this machine and deterministic instruction counts on a
tiny model where qemu-user and the cache of `make arm` are present; a skip that says what is missing elsewhere."""

import numpy as np
import pytest
from click.testing import CliRunner

from lsm_edge.core import arm
from lsm_edge.cli import main

LACKING = arm.missing()
needs_arm = pytest.mark.skipif(bool(LACKING), reason="ARM emulation needs " + "; ".join(LACKING))


def test_missing_pieces_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("LSM_EDGE_ARM", str(tmp_path / "empty"))
    lacking = arm.missing()
    assert any("sysroot" in m and "make arm" in m for m in lacking)
    assert any("libinsn.so" in m for m in lacking)
    with pytest.raises(arm.ArmSetupError, match="ARM emulation needs .*make arm"):
        arm.run_guest("cortex-a53", tmp_path / "x.tflite", "impute", 1, {})
    r = CliRunner().invoke(main, ["bench", "--arm", "cortex-a9", str(tmp_path / "empty")])
    assert r.exit_code == 2  # the file does not exist: click refuses before anything runs
    r = CliRunner().invoke(main, ["bench", "--arm", "cortex-a9", __file__])
    assert r.exit_code == 2 and "expected cores among cortex-a53, cortex-a76" in r.output
    r = CliRunner().invoke(main, ["report", "--teacher", str(tmp_path), "--artifacts", str(tmp_path), "--data",
                                  str(tmp_path), "--out", str(tmp_path / "o"), "--arm-bench", __file__])
    assert r.exit_code == 2 and "--arm-bench needs --arm" in r.output


def test_cpuinfo_names_the_core():
    text = arm.cpuinfo(*arm.CORES["cortex-a76"], cpus=2)
    assert text.count("CPU part\t: 0xd0b") == 2 and "asimddp" in text
    assert "asimddp" not in arm.cpuinfo(*arm.CORES["cortex-a53"])


@needs_arm
def test_float_file_matches_the_host_and_counts_are_deterministic(small_run):
    f = small_run / "f32.tflite"
    res = arm.arm_bench([f], cores=("cortex-a76",), calls=3, progress=False)
    rows = {r["signature"]: r for r in res["rows"]}
    assert set(rows) == {"impute", "forecast", "embed"}
    for r in rows.values():
        assert max(r["max_rel_diff"].values()) < 1e-3, r
        assert r["instructions_per_call"] > 1e5 and r["xnnpack_nodes"] > 0 and r["instructions_per_flop"] > 0
    from ai_edge_litert.interpreter import Interpreter

    from lsm_edge.core.tflite import example_inputs

    feeds = example_inputs(Interpreter(model_path=str(f)).get_signature_runner("embed").get_input_details(),
                           np.random.default_rng(0))
    counts = [arm.run_guest("cortex-a53", f, "embed", 3, feeds)[2] for _ in range(2)]
    assert abs(counts[0] - counts[1]) <= 1e-3 * counts[0], counts


@needs_arm
def test_report_on_arm_fills_held_out_windows_like_the_host(small_run, tmp_path):
    from lsm_edge.verbs import report as rp
    from lsm_edge.verbs.convert import convert
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.core.scoring import Task
    from lsm_edge.runtime import Imputer

    arts = tmp_path / "arts"
    arts.mkdir()
    (arts / "teacher_float32.tflite").write_bytes((small_run / "f32.tflite").read_bytes())
    convert(small_run / "run", arts / "teacher_dynamic.tflite", "dynamic")
    v = Dataset(small_run / "data").load("test").values[:3].copy()
    v[:, 120:180] = np.nan
    f = arts / "teacher_float32.tflite"
    here, there = Imputer(f).impute(v), arm.impute_on("cortex-a53", f, v)
    assert not np.isnan(there).any() and np.abs(there - here).max() <= 1e-3 * np.abs(here).max()
    rep = rp.build_report(small_run / "run", arts, small_run / "data", windows=4,
                          tasks=[Task("interpolation", 60), Task("extrapolation", 60)], threads=(1,), runs=2,
                          with_baselines=False, progress=False, arm_cores=("cortex-a53",), arm_windows=3)
    assert rep["arm"] == {"cores": ["cortex-a53"], "windows": 3, "calls": 20}
    for r in rep["rows"]:
        a = r["arm"]["cortex-a53"]
        assert a["impute_instructions"] > 1e5 and set(a["heldout"]) == {"interpolation 60 min", "extrapolation 60 min"}
        for t in a["heldout"].values():  # float: the same fills; dynamic range: ARM's kernels may round differently
            assert abs(t["rel_diff"]) < (1e-3 if r["quantization"] == "float32" else 0.05) and t["host_mae"] > 0, r
    print({r["artifact"]: r["arm"] for r in rep["rows"]})
    assert "cortex-a53 M instr. / call" in rp.to_markdown(rep)


@needs_arm
def test_trace_compares_every_intermediate_tensor(small_run):
    from ai_edge_litert.interpreter import Interpreter

    from lsm_edge.core.tflite import example_inputs

    f = small_run / "f32.tflite"
    feeds = example_inputs(Interpreter(model_path=str(f)).get_signature_runner("impute").get_input_details(),
                           np.random.default_rng(0))
    everything = arm.trace("cortex-a76", f, "impute", feeds, tol=-1.0)  # every float tensor, with its name
    assert len(everything) > 20 and all(t["max_rel_diff"] < 1e-4 for t in everything)
    assert any("values" in t["name"] for t in everything) and arm.trace("cortex-a76", f, "impute", feeds) == []
