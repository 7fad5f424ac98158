"""The file is the app's whole contract: the C example (native and on emulated ARM cores) and the web page (LiteRT.js
in headless chromium) fill windows exactly as the Python runtime does, and their code only moves buffers.

Each check skips, naming what is missing, where its toolchain is not installed (``make test`` installs them where
it can: ``make apps``)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lsm_edge.core import apps
from lsm_edge.verbs import convert as conv
from lsm_edge.data.dataset import Dataset
from lsm_edge.runtime import Imputer

FORBIDDEN = [r"\bmean\b", r"\bstd\b", r"\bstddev\b", r"\bzero_?point\b", r"\bscale\b", r"\boffset\b", r"normali[sz]",
             r"quantiz", r"interpol", r"\blerp\b", r"valid_?min", r"valid_?max", r"\bclip\b", r"\bclamp\b"]


def _code(text: str) -> str:
    """Source without its comments (C and JavaScript)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


@pytest.mark.parametrize("path", [apps.C_SOURCE, apps.WEB / "app.js", apps.WEB / "index.html"],
                         ids=["c", "web-js", "web-html"])
def test_app_code_only_moves_buffers(path):
    """No normalisation, fill or quantization in the apps: the .tflite does it."""
    code = _code(path.read_text())
    found = [w for w in FORBIDDEN if re.search(w, code, flags=re.I)]
    assert not found, f"{path.name} does arithmetic the model file should do: {found}"
    assert path.suffix == ".html" or "impute" in code


def test_the_io_only_check_can_fail():
    code = _code("x = (v - mean) / std;  // z\n#include <stdio.h>")
    assert [w for w in FORBIDDEN if re.search(w, code, flags=re.I)] == [r"\bmean\b", r"\bstd\b"]


@pytest.fixture(scope="module")
def files(small_run, tmp_path_factory):
    """The nano teacher's float32 file and a full-integer (int8) file of it, and six test windows with a hidden
    60-minute span and one out-of-range cell."""
    d = tmp_path_factory.mktemp("apps")
    conv.convert(small_run / "run", d / "int8.tflite", "int8", calibration_windows=16)
    x = Dataset(small_run / "data").load("test").values[:6].copy()
    x[:, 120:180] = np.nan
    x[1, 5, 0] = 500.0  # heart rate out of range: filled as missing, counted
    return {"float32": small_run / "f32.tflite", "int8": d / "int8.tflite"}, x


def _check(got, want, kind, tol_float=1e-5):
    if kind == "int8":
        np.testing.assert_array_equal(got, want)
    else:  # relative to each feature's scale in the window
        scale = np.maximum(np.nanmax(np.abs(want), axis=-2, keepdims=True), 1e-6)
        assert (np.abs(got - want) <= tol_float * scale).all(), np.max(np.abs(got - want) / scale)


def test_c_example_fills_as_python_does(files, tmp_path):
    try:
        program = apps.build_c(tmp_path)
    except apps.AppSetupError as e:
        pytest.skip(str(e))
    models, x = files
    for kind, f in models.items():
        want = Imputer(f).impute(x)
        for i in range(3):  # window 1 holds an out-of-range cell
            got, _ = apps.run_c(program, f, x[i])
            _check(got, want[i], kind)
    _, us = apps.run_c(program, models["int8"], x[0], calls=5)
    assert us and us > 0


@pytest.mark.parametrize("core, kind", [("cortex-a53", "int8"), ("cortex-a76", "float32")])
def test_c_example_on_emulated_arm_cores(files, tmp_path, core, kind):
    """One file on each core (both files on both cores: benchmarks/apps.py)."""
    from lsm_edge.core import arm

    lacking = arm.missing()
    if lacking:
        pytest.skip("ARM emulation needs " + "; ".join(lacking))
    try:
        program = apps.build_c(tmp_path, arm=True)
    except apps.AppSetupError as e:
        pytest.skip(str(e))
    models, x = files
    want = Imputer(models[kind]).impute(x[1])
    got, per_call = apps.run_c_arm(core, program, models[kind], x[1], calls=2)
    scale = np.maximum(np.abs(want).max(0), 1e-6)
    assert (np.abs(got - want) <= 1e-3 * scale).all(), (kind, np.max(np.abs(got - want) / scale))
    assert per_call > 1e5, per_call  # instructions per call were counted


def test_web_page_fills_as_python_does(files):
    try:
        apps.chromium()
        apps.litertjs_ready()
    except apps.AppSetupError as e:
        pytest.skip(str(e))
    models, x = files
    for kind, f in models.items():
        res = apps.web_run(f, x[:3], calls=3)
        want = Imputer(f).impute(x[:3])
        assert res["invalid"].tolist() == [0, 1, 0]
        _check(res["values"].reshape(want.shape), want, kind, tol_float=1e-4)
        assert res["ms_per_call"] > 0


STUB = """package org.tensorflow.lite;
import java.io.File;
import java.util.Map;
/** The two members of LiteRT's Java Interpreter the docs' Kotlin snippet calls, with their real signatures. */
public final class Interpreter implements AutoCloseable {
  public Interpreter(File modelFile) { throw new UnsupportedOperationException("a compile-time stub"); }
  public void runSignature(Map<String, Object> inputs, Map<String, Object> outputs, String signatureKey) {}
  public void close() {}
}
"""


def test_kotlin_snippet_of_the_docs_compiles(tmp_path):
    """docs/on-device.md's Kotlin compiles with kotlinc against the Interpreter API it calls (a stub: LiteRT's
    Android library is not reachable here, so this checks types and names, not a run)."""
    import shutil
    import subprocess

    if shutil.which("kotlinc") is None or shutil.which("javac") is None:
        pytest.skip("kotlinc and javac not found (apt-get install kotlin default-jdk-headless)")
    text = (apps.ROOT / "docs" / "on-device.md").read_text()
    (kotlin,) = re.findall(r"```kotlin\n(.*?)```", text, re.S)
    (tmp_path / "stub").mkdir()
    (tmp_path / "stub" / "Interpreter.java").write_text(STUB)
    r = subprocess.run(["javac", "-d", str(tmp_path / "cls"), str(tmp_path / "stub" / "Interpreter.java")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (tmp_path / "Fill.kt").write_text(kotlin)
    r = subprocess.run(["kotlinc", str(tmp_path / "Fill.kt"), "-cp", str(tmp_path / "cls"), "-d",
                        str(tmp_path / "fill.jar")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and (tmp_path / "fill.jar").is_file(), r.stderr
    (tmp_path / "Bad.kt").write_text(kotlin.replace('"impute")', '"impute", 3)'))  # the check can fail
    r = subprocess.run(["kotlinc", str(tmp_path / "Bad.kt"), "-cp", str(tmp_path / "cls"), "-d",
                        str(tmp_path / "bad.jar")], capture_output=True, text=True, timeout=600)
    assert r.returncode != 0
