"""Which op makes a dynamic-range file differ on the emulated cortex-a76 (issue 33).

The dynamic-range student matches x86 on cortex-a53 but differs on cortex-a76 (benchmarks/results/arm/).  Its
only quantized ops are FULLY_CONNECTED and CONV_2D (int8 weights, activations quantized per call).  This builds
one-op models of each, at the student's shapes (60 tokens of 130 values -> 64 channels; a dilated conv of 64
channels), converts each to float32 and to dynamic range, and compares every file's output on the emulated cores
with LiteRT's on this machine, on the same seeded input.  Also: the same a76 file with qemu's core switched
(cortex-a72: no dot-product or fp16 instructions) to show which instructions carry it.

    python benchmarks/arm_trace.py --out benchmarks/results/arm/trace.md \
        --trace runs/arm/sim_artifacts/teacher_dynamic.tflite runs/arm/sim_artifacts/teacher_int8.tflite

Then each file of ``--trace`` (default: the released dynamic-range student) is run on LiteRT's built-in kernels on
x86 and on each core with every intermediate tensor kept (``lsm_edge.core.arm.trace``): the first tensors that differ
name the op where the core departs (on those kernels; XNNPACK keeps its intermediates to itself).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np


def one_op_models():
    import keras

    L = keras.layers
    dense = keras.Sequential([keras.Input((60, 130), batch_size=1), L.Dense(64)])
    conv = keras.Sequential([keras.Input((60, 64), batch_size=1), L.Conv1D(64, 3, dilation_rate=2, padding="same")])
    gelu = keras.Sequential([keras.Input((60, 64), batch_size=1), L.Activation("gelu")])
    norm = keras.Sequential([keras.Input((60, 64), batch_size=1), L.LayerNormalization(epsilon=1e-6)])
    x = keras.Input((60, 64), batch_size=1)  # one block of the conv student: x + Dense(gelu(Conv1D(LN(x))))
    y = L.Dense(64)(L.Conv1D(64, 3, dilation_rate=2, padding="same", activation="gelu")(L.LayerNormalization(
        epsilon=1e-6)(x)))
    block = keras.Model(x, L.Add()([x, y]))
    rng = np.random.default_rng(0)
    models = {"FULLY_CONNECTED (Dense 130->64)": dense, "CONV_2D (Conv1D 64->64, k3, dilation 2)": conv,
              "GELU": gelu, "LayerNorm (MEAN, SQUARED_DIFFERENCE, RSQRT, MUL, ADD)": norm,
              "one conv-student block: x + Dense(gelu(Conv1D(LN(x))))": block}
    for m in models.values():
        m.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.1 for w in m.get_weights()])
    return models


def to_tflite(model, dynamic: bool) -> bytes:
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_keras_model(model)  # (a bare tf.function leaves the weights uninitialised)
    if dynamic:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    return conv.convert()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--trace", nargs="*", default=["pretrained/real_student_conv64/student_conv64_dynamic.tflite"])
    args = ap.parse_args(argv)
    from ai_edge_litert.interpreter import Interpreter

    from lsm_edge.core import arm
    from lsm_edge.io import atomic_write_text

    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name, model in one_op_models().items():
            for dynamic in (False, True):
                path = Path(d) / f"m{len(rows)}.tflite"
                path.write_bytes(to_tflite(model, dynamic))
                host = Interpreter(model_path=str(path), num_threads=1)
                sig = list(host.get_signature_list())[0]
                runner = host.get_signature_runner(sig)
                (key, detail), = runner.get_input_details().items()
                feeds = {key: np.random.default_rng(1).standard_normal(detail["shape"]).astype(np.float32)}
                want = runner(**feeds)
                cells = []
                for core in arm.CORES:
                    out, _, span = arm.run_guest(core, path, sig, 2, feeds)
                    diff = max(float(np.abs(out[k] - v).max() / np.abs(v).max()) for k, v in want.items())
                    cells.append(f"{diff:.1e} ({span / 2 / 1e3:.0f} k instr.)")
                rows.append(f"| {name} | {'dynamic range' if dynamic else 'float32'} | " + " | ".join(cells) + " |")
    from lsm_edge.core.tflite import example_inputs

    traced = {}
    for f in args.trace:
        runner = Interpreter(model_path=f).get_signature_runner("impute")
        feeds = example_inputs(runner.get_input_details(), np.random.default_rng(0))
        traced[f] = {core: arm.trace(core, f, "impute", feeds) for core in arm.CORES}
    head = ("| op | file | " + " | ".join(f"{c}: max rel diff vs x86 (instructions / call)" for c in arm.CORES)
            + " |\n|---|---|" + "---|" * len(arm.CORES))
    text = ("# Which op differs on an emulated core\n\nCommand: `python benchmarks/arm_trace.py --out "
            f"{args.out} --trace {' '.join(args.trace)}`\n\nOne-op models at the dynamic-range student's shapes, same seeded input on x86 and on each "
            "emulated core; relative difference = max |ARM - x86| / max |x86|.\n\n" + head + "\n" + "\n".join(rows) + "\n"
            + "\nWhole files, `impute` on the bench's seeded inputs, on LiteRT's built-in kernels (no XNNPACK) with every "
            "intermediate tensor kept (`lsm_edge.core.arm.trace`): the float tensors that differ from x86 by more than 1e-5 "
            "relative, the first six in tensor order (the converter numbers tensors roughly in execution order).\n\n"
            + "\n".join(f"- `{f}` on {core}: {len(t)} tensors differ" + ("".join(
                f"\n  - `{x['name'][:90]}`: {x['max_rel_diff']:.1e}" for x in t[:6]) if t else "")
                for f, by_core in traced.items() for core, t in by_core.items()) + "\n")
    atomic_write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
