"""Inside the emulated ARM core (``lsm_edge/core/arm.py`` starts it under qemu-user): numpy and LiteRT only.

    python -m lsm_edge.core.arm_guest FILE SIGNATURE CALLS FEEDS.npz OUT.npz
    python -m lsm_edge.core.arm_guest --impute FILE WINDOWS.npz OUT.npz
    python -m lsm_edge.core.arm_guest --tensors FILE SIGNATURE FEEDS.npz OUT.npz

The first form runs SIGNATURE of FILE on the feeds twice (the first call packs XNNPACK's weights), then
invokes it CALLS times more between two marks that the counting plugin (``insn.c``) sees, on one thread, and saves the
first call's outputs and which ops XNNPACK took (``coverage`` as JSON) to OUT.npz.  The second fills the
raw windows (NaN = missing) through the app API, ``lsm_edge.runtime.Imputer(FILE).impute``, as an app on
that core would, and saves them as ``values``.  The third runs SIGNATURE once on LiteRT's built-in kernels
(no XNNPACK, which keeps its intermediate tensors to itself) with every tensor kept, and saves each float
tensor of the signature's subgraph as ``t<index>`` and its name in ``names`` (JSON): what ``lsm_edge.core.arm.trace``
compares.
"""

from __future__ import annotations

import json
import sys

MARK_START, MARK_END = 0x15ED6E00, 0x15ED6E01  # lseek(-1, MARK, 0): insn.c counts between the two


def mark(which: int) -> None:
    import os

    try:
        os.lseek(-1, which, 0)
    except OSError:  # EBADF, as intended: the syscall itself is the mark
        pass


def main(argv=None) -> None:
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    from .tflite import signature_coverage

    argv = argv or sys.argv[1:]
    if argv[0] == "--impute":
        from ..runtime import Imputer

        path, windows_path, out_path = argv[1:4]
        np.savez(out_path, values=Imputer(path, num_threads=1).impute(np.load(windows_path)["values"]))
        return
    if argv[0] == "--tensors":
        path, sig, feeds_path, out_path = argv[1:5]
        values, names = kept_tensors(path, sig, dict(np.load(feeds_path)))
        np.savez(out_path, names=np.array(json.dumps(names)), **values)
        return
    path, sig, calls, feeds_path, out_path = argv[:5]
    interp = Interpreter(model_path=path, num_threads=1)
    run = interp.get_signature_runner(sig)
    feeds = dict(np.load(feeds_path))
    outputs = run(**feeds)  # the first call also packs XNNPACK's weights: outside the counted span
    run(**feeds)
    # Counted: the interpreter's Invoke alone, on the inputs the calls above set.  The Python signature
    # runner around it (resize checks, copies in and out, dict building) is the harness, not the model: at
    # ~0.2 M emulated instructions per call it was the larger part of a small int8 student's count.
    invoke, subgraph = run._interpreter_wrapper.Invoke, run._subgraph_index
    mark(MARK_START)
    for _ in range(int(calls)):
        invoke(subgraph)
    mark(MARK_END)
    coverage = signature_coverage(open(path, "rb").read(), sig)  # after the counted span: not counted
    np.savez(out_path, coverage=np.array(json.dumps(coverage)), **outputs)


def kept_tensors(path, sig: str, feeds: dict) -> tuple[dict, dict]:
    """Run ``sig`` once on LiteRT's built-in kernels (no XNNPACK) with every tensor kept -> :func:`tensors` of
    its subgraph (the same call on the host and in the guest: ``lsm_edge.core.arm.trace`` compares the two)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(path), num_threads=1, experimental_preserve_all_tensors=True,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    runner = interp.get_signature_runner(sig)
    runner(**feeds)
    return tensors(interp, runner._subgraph_index)


def tensors(interp, subgraph: int) -> tuple[dict, dict]:
    """Every named float32 tensor of ``subgraph`` that holds a value -> ({"t<index>": value}, {"t<index>": name})."""
    import numpy as np

    values, names = {}, {}
    for d in interp.get_tensor_details(subgraph):
        try:
            v = interp.get_tensor(d["index"], subgraph)
        except (ValueError, TypeError):
            continue
        if v.dtype == np.float32 and v.size and d["name"]:  # unnamed: a kernel's scratch buffer
            values[f"t{d['index']}"], names[f"t{d['index']}"] = v, d["name"]
    return values, names


if __name__ == "__main__":
    main()
