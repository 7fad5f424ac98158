"""Inside the emulated ARM core (``lsm_edge/arm.py`` starts it under qemu-user): numpy and LiteRT only.

    python -m lsm_edge.arm_guest FILE SIGNATURE CALLS FEEDS.npz OUT.npz

Runs SIGNATURE of FILE on the feeds twice (the first call packs XNNPACK's weights), then CALLS times
between two marks that the counting plugin (``insn.c``) sees, on one thread, and saves the first call's
outputs and which ops XNNPACK took (``coverage`` as JSON) to OUT.npz.
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

    from .bench import xnnpack_coverage

    path, sig, calls, feeds_path, out_path = (argv or sys.argv[1:])[:5]
    interp = Interpreter(model_path=path, num_threads=1)
    run = interp.get_signature_runner(sig)
    feeds = dict(np.load(feeds_path))
    outputs = run(**feeds)  # the first call also packs XNNPACK's weights: outside the counted span
    run(**feeds)
    mark(MARK_START)
    for _ in range(int(calls)):
        run(**feeds)
    mark(MARK_END)
    np.savez(out_path, coverage=np.array(json.dumps(xnnpack_coverage(interp))), **outputs)


if __name__ == "__main__":
    main()
