"""Can the peers ship to a phone?  Try litert-torch (PyTorch -> .tflite) on SAITS and BRITS.

    pip install litert-torch==0.10.0        (beside the [peers] extra; not a dependency of lsm-edge)
    python benchmarks/peers_export.py --out benchmarks/results/peers/export.md

Each peer is built with the hyper-parameters of lsm_edge.core.peers.PEERS (weights as initialised: the
question is whether its graph converts and runs, not how well it imputes) and wrapped as
``(x [1, 300, 26] with 0 where missing, observed [1, 300, 26] 0/1) -> imputed``.  For each: does
``litert_torch.convert`` succeed, the file's size, whether the LiteRT interpreter runs it, the largest
difference from PyTorch's output, and the median latency at one thread of both (batch 1, interleaved).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--peers", default="saits_small,saits,brits")
    ap.add_argument("--rounds", type=int, default=30)
    a = ap.parse_args()

    from lsm_edge.core import peers  # first: PyTorch before TensorFlow

    torch = peers.torch
    import litert_torch
    from ai_edge_litert.interpreter import Interpreter

    from lsm_edge import schema
    from lsm_edge.io import atomic_write_text

    torch.set_num_threads(1)

    class Wrapped(torch.nn.Module):
        def __init__(self, core):
            super().__init__()
            self.core = core

        def forward(self, x, observed):
            return self.core({"X": x, "missing_mask": observed})["imputation"]

    class SaitsConstantMask(torch.nn.Module):
        """SAITS' own forward (pypots/imputation/saits/core.py) with its diagonal attention mask
        built once as a constant instead of by torch.eye at every call: the same arithmetic."""

        def __init__(self, core):
            super().__init__()
            self.core = core
            self.register_buffer("diag", (1 - torch.eye(core.n_steps)).unsqueeze(0))

        def forward(self, x, observed):
            x3 = self.core.encoder(x, observed, self.diag)[2]
            return observed * x + (1 - observed) * x3

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, schema.WINDOW_MINUTES, schema.N_FEATURES)).astype(np.float32)
    obs = (rng.random(x.shape) > 0.3).astype(np.float32)
    x = x * obs
    lines = ["# Peers to .tflite with litert-torch", "", f"Command: `python {' '.join(sys.argv)}`  ",
             f"Machine: {platform.machine()}, torch {torch.__version__}, litert-torch "
             f"{getattr(litert_torch, '__version__', '0.10.0')}, Python {platform.python_version()}", "",
             "| peer | params | converts | .tflite size | runs in LiteRT | max abs diff vs PyTorch | "
             "PyTorch ms (1 thread) | LiteRT ms (1 thread) |", "|---|---|---|---|---|---|---|---|"]
    notes = []
    class BritsInputs(torch.nn.Module):
        """BRITS takes each direction's values, mask and time gaps (``deltas``, computed by the caller
        as PyPOTS' DatasetForBRITS does)."""

        def __init__(self, core):
            super().__init__()
            self.core = core

        def forward(self, x, observed, deltas, back_x, back_observed, back_deltas):
            inputs = {"forward": {"X": x, "missing_mask": observed, "deltas": deltas},
                      "backward": {"X": back_x, "missing_mask": back_observed, "deltas": back_deltas}}
            return self.core(inputs)["imputation"]

    attempts = []
    for name in a.peers.split(","):
        cls, kw, _ = peers.PEERS[name]
        model = getattr(peers.imputation, cls)(n_steps=schema.WINDOW_MINUTES, n_features=schema.N_FEATURES,
                                               epochs=1, device="cpu", verbose=False, **kw)
        attempts.append((name, model, (BritsInputs if cls == "BRITS" else Wrapped)(model.model).eval()))
        if cls == "SAITS":
            attempts.append((f"{name} (diagonal mask as a constant)", model, SaitsConstantMask(model.model).eval()))
    from pypots.imputation.brits.data import DatasetForBRITS

    item = DatasetForBRITS({"X": np.where(obs > 0, x, np.nan)}, return_X_ori=False, return_y=False)[0]
    brits_args = tuple(t.unsqueeze(0).float() for t in item[1:7])
    for name, model, net in attempts:
        args = brits_args if isinstance(net, BritsInputs) else (torch.from_numpy(x), torch.from_numpy(obs))
        with torch.no_grad():
            ref = net(*args).numpy()
        row = [name, f"{peers.n_params(model):,}"]
        try:
            edge = litert_torch.convert(net, args)
            with tempfile.TemporaryDirectory() as d:
                f = Path(d) / f"{name}.tflite"
                edge.export(str(f))
                size = f.stat().st_size
                it = Interpreter(model_path=str(f), num_threads=1)
                runner = it.get_signature_runner()
                names = list(runner.get_input_details())
                feed = dict(zip(names, (t.numpy() for t in args)))
                got = list(runner(**feed).values())[0]
                diff = float(np.abs(got - ref).max())

                def lite():
                    runner(**feed)

                def pt():
                    with torch.no_grad():
                        net(*args)

                ms = {"pt": [], "lite": []}
                lite(), pt()
                for _ in range(a.rounds):
                    for k, fn in (("pt", pt), ("lite", lite)):
                        t = time.perf_counter()
                        fn()
                        ms[k].append(1000 * (time.perf_counter() - t))
            row += ["yes", f"{size / 1e6:.2f} MB", "yes", f"{diff:.2e}", f"{np.median(ms['pt']):.2f}",
                    f"{np.median(ms['lite']):.2f}"]
        except Exception as e:  # the finding is whether it converts; record why not
            text = "".join(traceback.format_exception_only(type(e), e)).strip().splitlines()
            msg = " / ".join(t.strip() for t in text if t.strip() and "tlparse" not in t)[:400]
            traceback.print_exc()
            row += ["no", "", "", "", "", ""]
            notes.append(f"- {name}: {msg}")
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], flush=True)
    if notes:
        lines += ["", "Why a conversion failed (the exception, shortened):", "", *notes]
    atomic_write_text(Path(a.out), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
