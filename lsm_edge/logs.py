"""Quiet by default: the CLI hides TensorFlow's, absl's, XLA's and LiteRT's log lines and libraries'
deprecation warnings; ``lsm-edge --verbose ...`` (or ``LSM_EDGE_VERBOSE=1``) shows them.  Progress bars,
results and errors are never hidden.

Some of those lines are written by C++ straight to file descriptor 2 before any Python setting can reach
them (oneDNN's and the CPU-feature notice at ``import tensorflow``, absl's "before InitializeLog" line,
LiteRT's "Created TensorFlow Lite XNNPACK delegate"), so :func:`quiet` points descriptor 2 at a pipe
and a thread copies every line to the real stderr except those that match :data:`NOISE`.  Light: no
TensorFlow import here.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading
import warnings

NOISE = re.compile(
    rb"^(?:[IWEF]\d{4} [\d:.]+ +\d+ [\w./-]+:\d+\]"  # absl / glog: I0000 00:00:1796314527.338751   20858 port.cc:153]
    rb"|WARNING: All log messages before absl::InitializeLog\(\)"
    rb"|To enable the following instructions:"  # the second line of TensorFlow's CPU-feature notice
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate"
    rb"|fully_quantize: \d+, inference_type: \d+"  # TensorFlow's MLIR quantizer, at every int8 conversion
    rb"|WARNING:tensorflow:|WARNING:absl:|Instructions for updating:|This API was designed for TensorFlow v1"
    rb"|.*(?:Deprecation|Future)Warning:)")
_PREFIXES = (b"WARNING: All log", b"To enable the following", b"INFO: Created TensorFlow", b"WARNING:tensorflow",
             b"WARNING:absl", b"Instructions for updating", b"This API was designed")
_GLOG_START = re.compile(rb"^[IWEF]\d{0,4}(?: [\d:.]*(?: +[\d]*(?: [\w./-]*(?::\d*)?)?)?)?$")
_state: dict = {}


def verbose_requested() -> bool:
    return os.environ.get("LSM_EDGE_VERBOSE", "") not in ("", "0")


def quiet() -> None:
    """Hide library log lines and deprecation warnings for the rest of this process (idempotent)."""
    if _state:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("tensorflow", "absl", "jax._src.xla_bridge"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for cat in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=cat)
    # a masks-only objective never trains the distillation projection: expected, not the user's concern
    warnings.filterwarnings("ignore", message="Gradients do not exist for variables")
    warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
    warnings.filterwarnings("ignore", message=r"\[IterativeImputer\] Early stopping")  # the MICE baseline's fixed budget
    try:
        real = os.dup(2)
        r, w = os.pipe()
    except OSError:  # no descriptor 2 (embedded interpreters): nothing to filter
        _state["off"] = True
        return
    sys.stderr.flush()
    os.dup2(w, 2)
    os.close(w)
    t = threading.Thread(target=_copy, args=(r, real), daemon=True, name="lsm-edge-stderr")
    t.start()
    _state.update(real=real, thread=t)
    atexit.register(_restore)


def _copy(r: int, real: int) -> None:
    held = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        held += chunk
        parts = re.split(rb"(?<=[\r\n])", held)
        held = parts.pop()  # the part after the last line end (maybe empty)
        out = b"".join(p for p in parts if not NOISE.match(p))
        if held and not _may_be_noise(held):  # a progress bar between its carriage returns: show it now
            out, held = out + held, b""
        if out:
            os.write(real, out)
    if held and not NOISE.match(held):
        os.write(real, held)


def _may_be_noise(partial: bytes) -> bool:
    return bool(NOISE.match(partial) or _GLOG_START.match(partial)
                or any(p.startswith(partial) or partial.startswith(p) for p in _PREFIXES))


def _restore() -> None:
    """At exit: flush, give descriptor 2 back, let the copying thread drain the pipe."""
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os.dup2(_state["real"], 2)  # closes the pipe's last write end: the thread reads to its end
    _state["thread"].join(timeout=5)
