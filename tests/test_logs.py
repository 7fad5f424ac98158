"""Quiet logs: library log lines and deprecation warnings hidden, progress bars and errors kept."""

import os
import subprocess
import sys
import threading

from lsm_edge import logs

NOISY = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
         b"I0000 00:00:1796314527.338751   20858 port.cc:153] oneDNN custom operations are on.\n"
         b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow\n"
         b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
         b"W0000 00:00:1796314527.1   20858 service.cc:12] XLA service initialized\n"
         b"fully_quantize: 0, inference_type: 6, input_inference_type: FLOAT32, output_inference_type: FLOAT32\n")


def _through_filter(chunks):
    r, w = os.pipe()
    out_r, out_w = os.pipe()
    t = threading.Thread(target=logs._copy, args=(r, out_w))
    t.start()
    for c in chunks:
        os.write(w, c)
    os.close(w)
    t.join(5)
    os.close(out_w)
    got = b""
    while chunk := os.read(out_r, 65536):
        got += chunk
    return got


def test_filter_drops_library_lines_and_keeps_bars_and_errors():
    bar = [b"\rtraining:  50%|#####     | 1/2", b"\rtraining: 100%|##########| 2/2\n"]
    got = _through_filter([NOISY[:50], NOISY[50:]] + bar + [b"Error: data/x is not a dataset\n", b"no newline"])
    assert got == b"".join(bar) + b"Error: data/x is not a dataset\nno newline"
    # a log line split across reads is still dropped; a line that merely mentions TensorFlow is kept
    got = _through_filter([b"I00", b"00 00:00:17.5 1 port.cc:153] x\n", b"TensorFlow is fine\n"])
    assert got == b"TensorFlow is fine\n"


def test_quiet_hides_tensorflow_import_lines_and_deprecations(tmp_path):
    code = ("import sys, os, warnings; from lsm_edge import logs\n"
            "if len(sys.argv) < 2: logs.quiet()\n"
            "import tensorflow\n"
            "warnings.warn('old API', DeprecationWarning)\n"
            "os.write(2, b'I0000 00:00:17.5   7 port.cc:153] oneDNN custom operations are on.\\n')\n"
            "sys.stderr.write('kept: an error message\\n')\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0", "PYTHONWARNINGS": "always"}
    env.pop("LSM_EDGE_VERBOSE", None)
    q = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, timeout=120)
    v = subprocess.run([sys.executable, "-c", code, "verbose"], capture_output=True, env=env, timeout=120)
    assert q.returncode == 0 and v.returncode == 0, q.stderr
    assert q.stderr == b"kept: an error message\n"
    assert b"oneDNN custom operations" in v.stderr and b"DeprecationWarning: old API" in v.stderr
