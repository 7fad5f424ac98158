"""Peers: the imputers a user would pick instead (PyPOTS: SAITS, BRITS, and its linear / LOCF / mean),
trained and scored on exactly lsm-edge's windows and masks.

Optional: ``pip install "lsm-edge[peers]"`` (pypots, which brings PyTorch; a CPU build of torch is
enough).  Nothing in the core package or in ``lsm_edge.runtime`` imports this module; only
``benchmarks/peers.py`` does.

Data contract: the same normalised windows as the teacher (z: [N, 300, 26], NaN = missing).  A peer
is trained on the training split and early-stopped on the validation split, whose cells are hidden
by lsm-edge's own evaluation masks (the same generator as ``evaluate``, a different seed); it is
scored through :func:`lsm_edge.evaluate.evaluate_generative`, i.e. on the same masks as the teacher.

Budget: a peer trains in passes over chunks of the training windows (``chunk`` windows each, the
order reshuffled every pass from the seed) until ``budget_cpu_s`` seconds of process CPU time (all
threads; validation included) are spent or the validation MAE has not improved for ``patience``
chunks; the best chunk's weights are kept.  CPU time, not wall time, so that a shared machine's
other load neither shortens nor lengthens a peer's training.
Models are kept in memory only (PyPOTS saves with torch pickles, which lsm-edge never loads).
"""

from __future__ import annotations

import copy
import os
import sys
import time

import numpy as np

from . import schema
from .data import masks
from .errors import LsmEdgeError

if "tensorflow" in sys.modules and "torch" not in sys.modules:
    raise LsmEdgeError("import lsm_edge.peers before anything that loads TensorFlow: PyTorch's triton "
                       "crashes the process when TensorFlow was loaded first")
os.environ.setdefault("USE_TF", "0")  # transformers (a PyPOTS dependency) must not load TensorFlow itself
try:
    import torch
    import torch._dynamo  # noqa: F401  (first, on its own: through transformers' import chain it segfaults)
    import pypots.imputation as imputation
except ImportError as e:
    raise LsmEdgeError(f"the peers need the optional extra: pip install \"lsm-edge[peers]\" ({e})") from None

# name -> (PyPOTS class, its hyper-parameters, where they come from)
PEERS = {
    "saits": ("SAITS", dict(n_layers=2, d_model=256, n_heads=4, d_k=64, d_v=64, d_ffn=128, dropout=0.1),
              "PyPOTS README quick start (SAITS n_layers=2, d_model=256, n_heads=4, d_k=d_v=64, d_ffn=128, "
              "dropout=0.1); 1.37 M parameters at 300 x 26"),
    "saits_small": ("SAITS", dict(n_layers=1, d_model=64, n_heads=4, d_k=16, d_v=16, d_ffn=128, dropout=0.1),
                    "the quick-start recipe narrowed to the size of our best student (86 k parameters)"),
    "brits": ("BRITS", dict(rnn_hidden_size=108),
              "BRITS paper (Cao et al., NeurIPS 2018): hidden size 108"),
}
PYPOTS_BASELINES = ("pypots linear", "pypots locf", "pypots mean")


def baseline_methods() -> dict:
    """PyPOTS' own linear, LOCF (the first value carried backward) and mean imputers as methods."""
    made = {"pypots linear": imputation.Lerp(), "pypots locf": imputation.LOCF(first_step_imputation="backward"),
            "pypots mean": imputation.Mean()}
    return {name: _method(m) for name, m in made.items()}


def _method(model):
    def run(z):
        out = np.asarray(model.predict({"X": z.astype(np.float32)})["imputation"], np.float32)
        return np.where(np.isnan(z), out, z).astype(np.float32)

    return run


def validation_set(z_val: np.ndarray, seed: int = 1) -> dict:
    """z_val with cells hidden by lsm-edge's task masks (each window one task, cycling through them)."""
    tasks = [(t, n) for t in ("interpolation", "extrapolation", "sensor") for n in masks.HORIZONS] + [("random", None)]
    rng = np.random.default_rng(seed)
    hide = np.zeros(z_val.shape, bool)
    for k, (task, n) in enumerate(tasks):
        idx = np.arange(k, len(z_val), len(tasks))
        if len(idx):
            hide[idx] = masks.make_mask(task, rng, len(idx), n)
    return {"X": np.where(hide, np.nan, z_val).astype(np.float32), "X_ori": z_val.astype(np.float32)}


def n_params(model) -> int:
    return int(sum(p.numel() for p in model.model.parameters()))


def train_peer(name: str, z_train: np.ndarray, z_val: np.ndarray, budget_cpu_s: float, seed: int = 0,
               batch_size: int = 32, chunk: int = 1024, patience: int = 6, threads: int | None = None,
               progress: bool = True) -> tuple[object, dict]:
    """-> (trained PyPOTS model, {params, train_seconds (wall), train_cpu_seconds, chunks, windows_seen,
    epochs, best_val_mae, history})."""
    if name not in PEERS:
        raise LsmEdgeError(f"unknown peer {name!r}; expected one of {', '.join(PEERS)}")
    from tqdm import tqdm

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    cls, kw, _ = PEERS[name]
    model = getattr(imputation, cls)(n_steps=schema.WINDOW_MINUTES, n_features=schema.N_FEATURES, epochs=1,
                                     batch_size=batch_size, device="cpu", verbose=False, **kw)
    val = validation_set(z_val)
    scored = np.isnan(val["X"]) & ~np.isnan(val["X_ori"])
    fill = _method(model)
    rng = np.random.default_rng(seed)
    t0, c0, best, best_state, stale, history, seen = time.time(), time.process_time(), np.inf, None, 0, [], 0
    bar = tqdm(total=int(budget_cpu_s), desc=f"train {name}", unit="cpu-s", disable=not progress)
    while time.process_time() - c0 < budget_cpu_s and stale < patience:
        order = rng.permutation(len(z_train))
        for i in range(0, len(order), chunk):
            part = z_train[np.sort(order[i:i + chunk])]
            model.fit({"X": part})
            seen += len(part)
            mae = float(np.abs(fill(val["X"])[scored] - val["X_ori"][scored]).mean())
            cpu = time.process_time() - c0
            history.append({"seconds": round(time.time() - t0, 1), "cpu_seconds": round(cpu, 1),
                            "windows_seen": seen, "val_mae": mae})
            bar.update(min(int(cpu), bar.total) - bar.n)
            bar.set_postfix(val_mae=f"{mae:.4f}")
            if mae < best:
                best, best_state, stale = mae, copy.deepcopy(model.model.state_dict()), 0
            else:
                stale += 1
            if cpu >= budget_cpu_s or stale >= patience:
                break
    bar.close()
    model.model.load_state_dict(best_state)
    return model, {"params": n_params(model), "train_seconds": round(time.time() - t0, 1),
                   "train_cpu_seconds": round(time.process_time() - c0, 1), "chunks": len(history),
                   "windows_seen": seen, "epochs": round(seen / len(z_train), 2), "best_val_mae": best,
                   "history": history, "recipe": PEERS[name][2], "hyper_parameters": kw}


def peer_method(model):
    """A trained peer as an lsm-edge imputation method (z with NaN -> filled z; observed cells kept)."""
    return _method(model)
