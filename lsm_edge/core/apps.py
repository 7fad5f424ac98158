"""The example apps outside Python (``examples/c``, ``web/``): build them, give them a window, read back the fill.

What ``make test`` (tests/test_apps.py) and ``benchmarks/apps.py`` use.  Each app only moves buffers: the
``.tflite`` takes raw units with NaN and returns raw units (``edges.py``).  Where a toolchain is missing,
:class:`AppSetupError` names it and how to get it (the tests skip with that message).

    C, native        examples/c/lsm_fill.c built with the system ``cc`` against the ai-edge-litert wheel's
                     libLiteRt.so (LiteRT's CompiledModel C API)
    C, emulated ARM  the same source built with ``aarch64-linux-gnu-gcc`` against the aarch64 wheel's
                     libLiteRt.so (``make arm``), run under qemu-user on a cortex-a53 or a76 (``arm.py``)
    web              web/index.html with LiteRT.js (``@litertjs/core`` from npm, its WASM CPU path) in
                     Debian's headless chromium, driven by ``web_run`` (a local server on 127.0.0.1 only)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from .. import schema
from ..errors import LsmEdgeError

ROOT = Path(__file__).resolve().parents[2]  # the folder holding lsm_edge/
C_SOURCE = ROOT / "examples" / "c" / "lsm_fill.c"
WEB = ROOT / "web"


class AppSetupError(LsmEdgeError):
    """A toolchain an example app needs is missing; the message names it and how to get it."""


# -- C ---------------------------------------------------------------------------------------------------
def host_litert() -> Path:
    """The ai-edge-litert wheel's libLiteRt.so (the C API) on this machine."""
    import ai_edge_litert

    lib = Path(ai_edge_litert.__file__).parent / "libLiteRt.so"
    if not lib.is_file():
        raise AppSetupError(f"{lib} not found: the ai-edge-litert wheel ships libLiteRt.so from 2.x on")
    return lib


def build_c(out_dir, arm: bool = False) -> Path:
    """Compile examples/c/lsm_fill.c for this machine (``cc``) or for aarch64 (``aarch64-linux-gnu-gcc`` against
    ``make arm``'s libLiteRt.so) -> the program."""
    if arm:
        from .arm import cache

        cc, lib = "aarch64-linux-gnu-gcc", cache() / "capi" / "libLiteRt.so"
        if shutil.which(cc) is None:
            raise AppSetupError(f"{cc} not found (apt-get install gcc-aarch64-linux-gnu; make arm does)")
        if not lib.is_file():
            raise AppSetupError(f"{lib} not found (make arm)")
        rpath = []
    else:
        cc = next((c for c in ("cc", "gcc", "clang") if shutil.which(c)), None)
        if cc is None:
            raise AppSetupError("no C compiler (cc, gcc or clang) found (apt-get install gcc)")
        lib = host_litert()
        rpath = [f"-Wl,-rpath,{lib.parent}"]
    out = Path(out_dir) / ("lsm_fill_aarch64" if arm else "lsm_fill")
    r = subprocess.run([cc, "-O2", "-Wall", "-o", str(out), str(C_SOURCE), str(lib), *rpath, "-lm"],
                       capture_output=True, text=True)
    if r.returncode:
        raise LsmEdgeError(f"{cc} could not build {C_SOURCE}: {r.stderr.strip()[-800:]}")
    return out


def write_window_csv(path, window: np.ndarray) -> None:
    """One window [300, 26] as the C example reads it: a header of feature names, empty cells for NaN."""
    lines = [",".join(schema.FEATURE_NAMES)]
    lines += [",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in np.asarray(window, np.float32)]
    Path(path).write_text("\n".join(lines) + "\n")


def read_window_csv(path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)


def run_c(program, model, window: np.ndarray, calls: int = 0) -> tuple[np.ndarray, float | None]:
    """The C example on one window -> (the filled window, median microseconds per call over ``calls``)."""
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        write_window_csv(d / "in.csv", window)
        r = subprocess.run([str(program), str(model), str(d / "in.csv"), str(d / "out.csv"), str(calls)],
                           capture_output=True, text=True, timeout=600)
        if r.returncode:
            raise LsmEdgeError(f"{program} failed (exit {r.returncode}): {r.stderr.strip()[-800:]}")
        return read_window_csv(d / "out.csv"), _median_us(r.stdout)


def run_c_arm(core: str, program, model, window: np.ndarray, calls: int = 3) -> tuple[np.ndarray, float]:
    """The aarch64 C example on the emulated ``core`` -> (the filled window, guest instructions per call, counted
    over ``calls`` calls after the first)."""
    from .arm import cache, counted, run_emulated

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        write_window_csv(d / "in.csv", window)
        run_emulated(core, [str(Path(program).resolve()), str(Path(model).resolve()), str(d / "in.csv"),
                            str(d / "out.csv"), str(calls)], d, count=True, timeout=1800,
                     what=f"{Path(program).name} {Path(model).name}",
                     env={"LD_LIBRARY_PATH": str(cache() / "capi")})
        _, span = counted(d)
        return read_window_csv(d / "out.csv"), span / calls


def _median_us(stdout: str) -> float | None:
    for line in stdout.splitlines():
        if line.startswith("median_us"):
            return float(line.split()[1])
    return None


# -- web -------------------------------------------------------------------------------------------------
def chromium() -> str:
    exe = next((c for c in ("chromium", "chromium-browser") if shutil.which(c)), None)
    if exe is None:
        raise AppSetupError("chromium not found (apt-get install chromium: Debian's headless-capable build)")
    return exe


def litertjs_ready() -> Path:
    """web/node_modules/@litertjs/core (``npm install`` in web/, which ``make test`` runs)."""
    pkg = WEB / "node_modules" / "@litertjs" / "core"
    if not (pkg / "dist" / "index.js").is_file():
        raise AppSetupError(f"{pkg} not found (cd web && npm install; make test does)")
    return pkg


def _handler(root: Path, results: list):
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def do_POST(self):  # the page posts its answer here
            n = int(self.headers.get("Content-Length", 0))
            results.append(json.loads(self.rfile.read(n)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    Handler.extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                              ".js": "text/javascript", ".mjs": "text/javascript"}
    return Handler


@contextmanager
def _serving(files: dict, results: list):
    """The repository on a local server (127.0.0.1, a free port), with ``files`` ({name: source path}) copied into a
    temporary folder under web/ -> (base URL, that folder's path in URLs); the page's POSTs land in ``results``."""
    with tempfile.TemporaryDirectory(dir=WEB) as d:
        d = Path(d)
        for name, src in files.items():
            shutil.copy(src, d / name)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ROOT, results))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/web/index.html", d
        finally:
            server.shutdown()


def _chromium_args(exe: str, profile: Path) -> list:
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}"]


def web_run(model, windows: np.ndarray, calls: int = 0, timeout: float = 300) -> dict:
    """web/index.html in headless chromium on ``windows`` [n, 300, 26] through ``model`` -> {"values": [n, 300, 26],
    "invalid": [n], "ms_per_call": median wall ms over ``calls`` calls (real time)}."""
    exe = chromium()
    litertjs_ready()
    results: list = []
    with _serving({"model.tflite": model}, results) as (page, d):  # the page fetches the model and windows from it
        (d / "windows.json").write_text(json.dumps(np.where(np.isnan(windows), None, windows).tolist()))
        rel = "/" + str(d.relative_to(ROOT))
        url = f"{page}?model={rel}/model.tflite&windows={rel}/windows.json&calls={calls}&report=/result"
        proc = subprocess.Popen([*_chromium_args(exe, d / "profile"), url], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        t0 = time.monotonic()
        while not results and time.monotonic() - t0 < timeout and proc.poll() is None:
            time.sleep(0.1)
        proc.kill()
        err = proc.communicate()[1]
    if not results:
        raise LsmEdgeError(f"the page posted no result within {timeout:.0f} s: {err.strip()[-800:]}")
    res = results[0]
    if "error" in res:
        raise LsmEdgeError(f"the page failed: {res['error']}")
    return {"values": np.asarray(res["values"], np.float32), "invalid": np.asarray(res["invalid"]),
            "ms_per_call": res.get("ms_per_call")}


def web_screenshot(model, recording, out_png, size=(1100, 640), query: str = "") -> None:
    """A screenshot of the page filling ``recording`` (a file it reads as a person's upload would be read);
    ``query``: more of the page's parameters (``&hide=1&window=3``)."""
    exe = chromium()
    litertjs_ready()
    name = Path(recording).name
    with _serving({"model.tflite": model, name: recording}, []) as (page, d):
        rel = "/" + str(d.relative_to(ROOT))
        url = f"{page}?model={rel}/model.tflite&recording={rel}/{name}&label={Path(model).name}{query}"
        r = subprocess.run([*_chromium_args(exe, d / "profile"), "--hide-scrollbars",
                            f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=60000",
                            f"--screenshot={Path(out_png).resolve()}", url], capture_output=True, text=True, timeout=300)
    if r.returncode or not Path(out_png).is_file():
        raise LsmEdgeError(f"chromium took no screenshot: {r.stderr.strip()[-800:]}")
