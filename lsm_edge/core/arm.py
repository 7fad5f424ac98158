"""Phone cores without a phone: run ``.tflite`` files on emulated ARM cores and count what they cost.

qemu-user runs an aarch64 Python 3.11 (Debian's arm64 packages unpacked into a sysroot) with numpy and
the ``manylinux_2_27_aarch64`` wheel of ai-edge-litert; ``lsm_edge/core/arm_guest.py`` runs one signature
there.  Each run happens in a private mount namespace (``unshare -m``) whose ``/proc/cpuinfo`` is an
ARM one naming the emulated core (its ``CPU part`` and ``Features``), because LiteRT's cpuinfo crashes
on the host's x86 file and XNNPACK picks its kernels from it.  A TCG plugin (``insn.c``, built here)
counts the guest instructions executed between two marks the guest makes around K calls (after two
warm-up calls), so start-up and the first call's weight packing stay out of the figure.  Instructions are deterministic, unlike
time on a shared machine; no time on a named core is derived from them.

Set up once (as root: it adds Debian's arm64 architecture): ``make arm``.  The cache lives in
``$LSM_EDGE_ARM`` (default ``~/.cache/lsm-edge/arm``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..errors import LsmEdgeError

CORES = {  # name: (CPU part, Features of an ARM /proc/cpuinfo)
    "cortex-a53": ("0xd03", "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid"),
    "cortex-a76": ("0xd0b", "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm "
                            "lrcpc dcpop asimddp"),
}
DEBS = ["python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib", "libc6", "libstdc++6", "libgcc-s1",
        "zlib1g", "libffi8", "libssl3", "libexpat1", "libbz2-1.0", "liblzma5", "libsqlite3-0", "libuuid1",
        "libncursesw6", "libtinfo6", "libcrypt1"]
WHEELS = ["numpy", "ai-edge-litert==2.3.*"]
ROOT = Path(__file__).resolve().parents[2]  # the folder holding lsm_edge/


class ArmSetupError(LsmEdgeError):
    """Something the emulation needs is missing; the message names it and how to get it."""


def cache() -> Path:
    return Path(os.environ.get("LSM_EDGE_ARM", "~/.cache/lsm-edge/arm")).expanduser()


def missing() -> list[str]:
    """What the emulation lacks on this machine, each with how to get it ([] when ready)."""
    c, out = cache(), []
    if shutil.which("qemu-aarch64") is None:
        out.append("qemu-aarch64 (apt-get install qemu-user)")
    if shutil.which("unshare") is None:
        out.append("unshare (util-linux)")
    if not (c / "sysroot" / "usr" / "bin" / "python3.11").is_file():
        out.append(f"the arm64 Python sysroot in {c / 'sysroot'} (make arm)")
    if not (c / "wheels" / "ai_edge_litert").is_dir():
        out.append(f"the aarch64 numpy and ai-edge-litert wheels in {c / 'wheels'} (make arm)")
    if not (c / "libinsn.so").is_file():
        out.append(f"the instruction-counting plugin {c / 'libinsn.so'} (make arm; needs gcc)")
    if not out:  # the guest's /proc/cpuinfo is bind-mounted over the host's in a private mount namespace
        probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind {c / 'libinsn.so'} /proc/cpuinfo"],
                               capture_output=True, text=True)
        if probe.returncode:
            out.append("a private mount namespace with a bind mount over /proc/cpuinfo (unshare -m: "
                       f"{probe.stderr.strip() or 'not permitted'}; run as root)")
    return out


def setup(progress: bool = True) -> Path:
    """Build the cache: the arm64 sysroot, the aarch64 wheels, the plugin and one cpuinfo per core."""
    c = cache()
    c.mkdir(parents=True, exist_ok=True)
    for tool, how in (("qemu-aarch64", "apt-get install qemu-user"), ("gcc", "apt-get install gcc"),
                      ("apt-get", "a Debian-based machine"), ("dpkg-deb", "a Debian-based machine")):
        if shutil.which(tool) is None:
            raise ArmSetupError(f"{tool} not found: {how}")
    if "arm64" not in subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True,
                                     text=True).stdout.split():
        raise ArmSetupError("Debian's arm64 packages are not available: run `dpkg --add-architecture arm64 && "
                            "apt-get update` as root (make arm does)")
    if not (c / "sysroot" / "usr" / "bin" / "python3.11").is_file():
        debs = c / "debs"
        debs.mkdir(exist_ok=True)
        r = subprocess.run(["apt-get", "download", *[f"{d}:arm64" for d in DEBS]], cwd=debs, capture_output=True,
                           text=True)
        if r.returncode:
            raise ArmSetupError(f"apt-get download of the arm64 packages failed: {r.stderr.strip()[-500:]}")
        tmp = Path(tempfile.mkdtemp(dir=c))
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        shutil.rmtree(c / "sysroot", ignore_errors=True)
        tmp.rename(c / "sysroot")
    if not (c / "wheels" / "ai_edge_litert").is_dir():
        tmp = Path(tempfile.mkdtemp(dir=c))
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(tmp), "--platform",
                            "manylinux_2_27_aarch64", "--only-binary=:all:", "--python-version", "3.11", *WHEELS],
                           capture_output=True, text=True)
        if r.returncode:
            raise ArmSetupError(f"pip could not fetch the aarch64 wheels: {r.stderr.strip()[-500:]}")
        shutil.rmtree(c / "wheels", ignore_errors=True)
        tmp.rename(c / "wheels")
    capi = c / "capi" / "libLiteRt.so"  # the C API alone: LiteRT's environment dlopens the GPU accelerators it
    if not capi.is_file():               # finds beside it, and the wheel's WebGPU one is built with LSE atomics,
        capi.parent.mkdir(exist_ok=True)  # which stops a cortex-a53 (ARMv8.0) at load
        shutil.copy(c / "wheels" / "ai_edge_litert" / "libLiteRt.so", capi)
    plugin = c / "libinsn.so"
    if not plugin.is_file():
        src = Path(__file__).with_name("insn.c")
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(plugin), str(src)], check=True)
    for core, (part, features) in CORES.items():
        (c / f"cpuinfo_{core}").write_text(cpuinfo(part, features))
    return c


def cpuinfo(part: str, features: str, cpus: int = 1) -> str:
    """An aarch64 /proc/cpuinfo (what LiteRT's cpuinfo reads to pick XNNPACK's kernels)."""
    block = (f"processor\t: {{i}}\nBogoMIPS\t: 50.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\n"
             f"CPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: {part}\nCPU revision\t: 0\n\n")
    return "".join(block.format(i=i) for i in range(cpus))


def _guest(core: str, args: list[str], d: Path, count: bool, timeout: float, what: str) -> None:
    """``python -m lsm_edge.core.arm_guest ARGS`` on the emulated ``core`` (counting into ``d/count`` if asked)."""
    c = cache()
    env = {"PYTHONHASHSEED": "0", "PYTHONPATH": f"{ROOT}{os.pathsep}{c / 'wheels'}", "PYTHONDONTWRITEBYTECODE": "1"}
    run_emulated(core, [str(c / "sysroot/usr/bin/python3.11"), "-m", "lsm_edge.core.arm_guest", *args], d, count, timeout,
                 what, env)
    if not (d / "out.npz").is_file():
        raise LsmEdgeError(f"{what} on emulated {core} wrote no result")


def run_emulated(core: str, argv: list[str], d: Path, count: bool, timeout: float, what: str, env=None) -> str:
    """An aarch64 program (``argv``) on the emulated ``core``, in the sysroot, counting guest instructions into
    ``d/count`` if asked -> its standard output."""
    if core not in CORES:
        raise LsmEdgeError(f"unknown core {core!r}; expected one of {', '.join(CORES)}")
    lacking = missing()
    if lacking:
        raise ArmSetupError("ARM emulation needs " + "; ".join(lacking))
    c = cache()
    plugin = f"-plugin {c / 'libinsn.so'},out={d / 'count'} " if count else ""
    script = (f"mount --bind {c / f'cpuinfo_{core}'} /proc/cpuinfo && exec qemu-aarch64 -cpu {core} {plugin}"
              + " ".join(argv))
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                       env={**os.environ, "QEMU_LD_PREFIX": str(c / "sysroot"), **(env or {})}, timeout=timeout)
    if r.returncode:
        raise LsmEdgeError(f"{what} on emulated {core} failed (exit {r.returncode}): {r.stderr.strip()[-800:]}")
    return r.stdout


def counted(d: Path) -> tuple[int, int]:
    """(guest instructions before the first mark, between the two marks) that the plugin wrote to ``d/count``."""
    before, span = (int(v) for v in (d / "count").read_text().split())
    if span < 0:
        raise LsmEdgeError(f"the counting plugin saw no marks around the calls ({cache() / 'libinsn.so'} is stale: "
                           "delete it and run make arm)")
    return before, span


def run_guest(core: str, file, signature: str, calls: int, feeds: dict, timeout: float = 900) -> tuple[dict, int, int]:
    """Run ``signature`` of ``file`` on the emulated ``core``: two warm-up calls, then ``calls`` counted ->
    (first call's outputs and XNNPACK coverage, guest instructions before the counted calls, during them)."""
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        np.savez(d / "feeds.npz", **feeds)
        _guest(core, [str(Path(file).resolve()), signature, str(calls), str(d / "feeds.npz"), str(d / "out.npz")],
               d, count=True, timeout=timeout, what=f"{Path(file).name} {signature}")
        out = dict(np.load(d / "out.npz"))
        before, span = counted(d)
    out["coverage"] = json.loads(str(out["coverage"]))
    return out, before, span


def impute_on(core: str, file, values: np.ndarray, timeout: float = 3600) -> np.ndarray:
    """What ``lsm_edge.runtime.Imputer(file).impute(values)`` returns on the emulated ``core`` (not counted):
    values [n, 300, F] in raw units, NaN = missing."""
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        np.savez(d / "windows.npz", values=np.asarray(values, np.float32))
        _guest(core, ["--impute", str(Path(file).resolve()), str(d / "windows.npz"), str(d / "out.npz")], d,
               count=False, timeout=timeout, what=f"{Path(file).name} impute of {len(values)} windows")
        return np.load(d / "out.npz")["values"]


def trace(core: str, file, signature: str, feeds: dict, tol: float = 1e-5) -> list[dict]:
    """Where an emulated core departs from this machine: ``signature`` run once on LiteRT's built-in kernels
    (without XNNPACK, whose intermediate tensors are not kept) on both, every float tensor compared ->
    [{"tensor", "name", "max_rel_diff"}] for the tensors whose max |ARM - x86| / max |x86| exceeds ``tol``,
    in tensor order (the converter numbers a graph's tensors roughly in execution order)."""
    from .arm_guest import kept_tensors

    want, names = kept_tensors(file, signature, feeds)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        np.savez(d / "feeds.npz", **feeds)
        _guest(core, ["--tensors", str(Path(file).resolve()), signature, str(d / "feeds.npz"), str(d / "out.npz")],
               d, count=False, timeout=900, what=f"{Path(file).name} {signature} (traced)")
        got = dict(np.load(d / "out.npz"))
    out = []
    for k in sorted(want, key=lambda k: int(k[1:])):
        if k not in got or got[k].shape != want[k].shape:
            continue
        a, b = got[k], want[k]
        fin = np.isfinite(a) & np.isfinite(b)
        same = fin | (a == b) | (np.isnan(a) & np.isnan(b))  # -inf attention masks, NaN left in unused buffers
        if not same.all():
            rel = float("inf")
        else:
            rel = float(np.abs(a[fin] - b[fin]).max(initial=0.0) / max(float(np.abs(b[fin]).max(initial=0.0)), 1e-12))
        if rel > tol:
            out.append({"tensor": int(k[1:]), "name": names[k], "max_rel_diff": rel})
    return out


def arm_bench(files, cores=("cortex-a53", "cortex-a76"), calls: int = 20, signatures=None,
              progress: bool = True) -> dict:
    """Every signature of every file on each emulated core: parity against the host interpreter on the same
    inputs (max abs difference, in the outputs' raw units), guest instructions per call (1 call
    counted over ``calls`` after two warm-up calls), instructions per FLOP, and XNNPACK's share of the nodes on that
    core.  ``signatures``: only these (default: every signature of each file)."""
    from ai_edge_litert.interpreter import Interpreter
    from tqdm import tqdm

    from ..runtime import read_metadata
    from .tflite import dequantize, example_inputs, signature_flops

    rows = []
    jobs = [(Path(f), core) for f in files for core in cores]
    bar = tqdm(total=len(jobs), desc="emulating", unit="run", disable=not progress)
    for path, core in jobs:
        flat = path.read_bytes()
        read_metadata(flat, str(path))  # an lsm-edge file of this version: its outputs are raw units
        flops = signature_flops(flat)
        host = Interpreter(model_path=str(path), num_threads=1)
        for sig in host.get_signature_list():
            if signatures and sig not in signatures:
                continue
            runner = host.get_signature_runner(sig)
            feeds = example_inputs(runner.get_input_details(), np.random.default_rng(0))
            want = runner(**feeds)
            one, before, span = run_guest(core, path, sig, calls, feeds)
            diff, rel = {}, {}
            outs = runner.get_output_details()
            for k, v in want.items():
                v, got = dequantize(v, outs[k]), dequantize(one[k], outs[k])
                d = np.abs(got.astype(np.float64) - v.astype(np.float64))
                diff[k] = float(d.max())
                rel[k] = float(np.abs(got - v).max() / max(np.abs(v).max(), 1e-12))
            per_call = span / calls
            cov = one["coverage"]
            rows.append({"file": str(path), "artifact": path.stem, "core": core, "signature": sig,
                         "instructions_per_call": per_call, "instructions_before": before,
                         "flops": flops.get(sig), "instructions_per_flop": per_call / flops[sig] if flops.get(sig) else None,
                         "max_abs_diff": diff, "max_rel_diff": rel, "xnnpack_nodes": cov["xnnpack_nodes"],
                         "nodes": cov["nodes"], "reference_ops": cov["reference_ops"]})
        bar.update(1)
    bar.close()
    return {"cores": list(cores), "calls": calls, "rows": rows}


def to_table(result: dict) -> str:
    lines = ["| artifact | core | signature | M instructions / call | instructions / FLOP | max abs diff vs host "
             "(raw units for impute / forecast) | max rel diff | XNNPACK nodes |", "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        ipf = f"{r['instructions_per_flop']:.2f}" if r["instructions_per_flop"] else "-"
        lines.append(f"| {r['artifact']} | {r['core']} | {r['signature']} | {r['instructions_per_call'] / 1e6:.2f} | "
                     f"{ipf} | {max(r['max_abs_diff'].values()):.3g} | {max(r['max_rel_diff'].values()):.2e} | "
                     f"{r['xnnpack_nodes']}/{r['nodes']} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m lsm_edge.core.arm setup
    if sys.argv[1:] == ["setup"]:
        print(f"ARM emulation ready in {setup()}")
    else:
        sys.exit("usage: python -m lsm_edge.core.arm setup")
