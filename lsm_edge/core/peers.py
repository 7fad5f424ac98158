"""Peers: the imputers a user would pick instead (PyPOTS: SAITS, BRITS, and its linear / LOCF / mean),
trained and scored on exactly lsm-edge's windows and masks.

Optional: ``pip install "lsm-edge[peers]"`` (pypots, which brings PyTorch; a CPU build of torch is
enough).  Nothing in the core package or in ``lsm_edge.runtime`` imports this module; only
``benchmarks/peers.py`` does.

Data contract: the same normalised windows as the teacher (z: [N, 300, 26], NaN = missing).  A peer
is trained on the training split and early-stopped on the validation split, whose cells are hidden
by lsm-edge's own evaluation masks (the same generator as ``evaluate``, a different seed); it is
scored through :func:`lsm_edge.core.scoring.evaluate_generative`, i.e. on the same masks as the teacher.

Budget: a peer trains in passes over chunks of the training windows (``chunk`` windows each, the
order reshuffled every pass from the seed) until ``budget_cpu_s`` seconds of process CPU time (all
threads; validation included) are spent or the validation MAE has not improved for ``patience``
chunks; the best chunk's weights are kept.  CPU time, not wall time, so that a shared machine's
other load neither shortens nor lengthens a peer's training.
Saved peers: weights as safetensors (no pickle: PyPOTS' own ``save`` writes torch pickles, which
lsm-edge never loads) beside a JSON with the class and hyper-parameters (:func:`save_peer`,
:func:`load_peer`); ``evaluate-real --peers DIR`` scores them on real recordings.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from .. import schema
from ..data import masks
from ..errors import LsmEdgeError


def _have_extra() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("pypots") is not None
    except (ValueError, ImportError):
        return False


_EXTRA = 'the peers need the optional extra: pip install "lsm-edge[peers]"'
if not _have_extra():
    raise LsmEdgeError(f"{_EXTRA} (pypots is not installed)")
if "tensorflow" in sys.modules and "torch" not in sys.modules:
    raise LsmEdgeError("import lsm_edge.core.peers before anything that loads TensorFlow: PyTorch's triton "
                       "crashes the process when TensorFlow was loaded first")
os.environ.setdefault("USE_TF", "0")  # transformers (a PyPOTS dependency) must not load TensorFlow itself
try:
    import pypots.imputation as imputation
    import torch
    import torch._dynamo  # noqa: F401  (first, on its own: through transformers' import chain it segfaults)
except ImportError as e:
    raise LsmEdgeError(f"{_EXTRA} ({e})") from None

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


def build_peer(name: str, batch_size: int = 32):
    """A fresh (untrained) PyPOTS model of a named peer at lsm-edge's window shape."""
    if name not in PEERS:
        raise LsmEdgeError(f"unknown peer {name!r}; expected one of {', '.join(PEERS)}")
    cls, kw, _ = PEERS[name]
    return getattr(imputation, cls)(n_steps=schema.WINDOW_MINUTES, n_features=schema.N_FEATURES, epochs=1,
                                    batch_size=batch_size, device="cpu", verbose=False, **kw)


def train_peer(name: str, z_train: np.ndarray, z_val: np.ndarray, budget_cpu_s: float, seed: int = 0,
               batch_size: int = 32, chunk: int = 1024, patience: int = 6, threads: int | None = None,
               progress: bool = True, model=None) -> tuple[object, dict]:
    """-> (trained PyPOTS model, {params, train_seconds (wall), train_cpu_seconds, chunks, windows_seen,
    epochs, best_val_mae, history}).  ``model``: continue training a copy of this one (e.g. a loaded
    peer, to adapt it to a user's windows) instead of a fresh one; the best chunk, or the model as given if no
    chunk beat it on the validation windows, is kept."""
    if name not in PEERS:
        raise LsmEdgeError(f"unknown peer {name!r}; expected one of {', '.join(PEERS)}")
    from tqdm import tqdm

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    kw = PEERS[name][1]
    val = validation_set(z_val)
    scored = np.isnan(val["X"]) & ~np.isnan(val["X_ori"])
    start_mae = np.inf
    if model is None:
        model = build_peer(name, batch_size)
    else:  # a copy: the caller's model (e.g. scored as "zero-shot") stays as it was
        model = copy.deepcopy(model)
        start_mae = float(np.abs(_method(model)(val["X"])[scored] - val["X_ori"][scored]).mean())
        best_state = copy.deepcopy(model.model.state_dict())
    fill = _method(model)
    rng = np.random.default_rng(seed)
    t0, c0, best, stale, history, seen = time.time(), time.process_time(), start_mae, 0, [], 0
    if start_mae == np.inf:
        best_state = None
    bar = tqdm(total=int(budget_cpu_s), desc=f"train {name}", unit="cpu-s", disable=not progress)
    while not history or (time.process_time() - c0 < budget_cpu_s and stale < patience):  # >= 1 chunk
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
                   "start_val_mae": None if start_mae == np.inf else start_mae,
                   "history": history, "recipe": PEERS[name][2], "hyper_parameters": kw}


def peer_method(model):
    """A trained peer as an lsm-edge imputation method (z with NaN -> filled z; observed cells kept)."""
    return _method(model)


def peer_imputer(model, stats):
    """A peer as a method on raw-unit windows [n, 300, 26] (NaN missing), through normalisation ``stats``."""
    run = _method(model)
    return lambda x: np.where(np.isnan(x), stats.denormalize(run(stats.normalize(x))), x).astype(np.float32)


def save_peer(model, name: str, info: dict, out_dir, stats=None) -> Path:
    """OUT/<name>.safetensors (weights) + OUT/<name>.peer.json (peer name, hyper-parameters, the
    normalisation ``stats`` it was trained with, training record), each written to a temporary name
    and renamed."""
    from safetensors.torch import save_file

    from ..io import atomic_write_text

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{name}.safetensors.tmp"
    save_file({k: v.contiguous() for k, v in model.model.state_dict().items()}, str(tmp))
    tmp.replace(out / f"{name}.safetensors")
    meta = {"peer": name, "hyper_parameters": PEERS[name][1], "params": n_params(model),
            **{k: v for k, v in info.items() if k not in ("history", "scores", "hyper_parameters")},
            "stats": stats.to_dict() if stats is not None else None}
    atomic_write_text(out / f"{name}.peer.json", json.dumps(meta, indent=1))
    return out / f"{name}.safetensors"


def load_peer(path) -> tuple[object, dict]:
    """PATH/<name>.peer.json (or the .safetensors beside it) -> (PyPOTS model with the saved weights, its
    record; record["stats"]: the NormStats it was trained with, or None)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    base = path.name.removesuffix(".peer.json").removesuffix(".safetensors")
    meta_f, weights_f = path.with_name(base + ".peer.json"), path.with_name(base + ".safetensors")
    for f in (meta_f, weights_f):
        if not f.is_file():
            raise LsmEdgeError(f"{f}: no such file; a saved peer is <name>.peer.json + <name>.safetensors "
                               f"(benchmarks/peers.py --save DIR writes them)")
    try:
        meta = json.loads(meta_f.read_text())
        name = meta["peer"]
    except (ValueError, KeyError, TypeError) as e:
        raise LsmEdgeError(f"{meta_f}: not a saved peer record ({e}); expected JSON with a 'peer' name") from None
    if name not in PEERS:
        raise LsmEdgeError(f"{meta_f}: unknown peer {name!r}; expected one of {', '.join(PEERS)}")
    if meta.get("hyper_parameters") != PEERS[name][1]:
        raise LsmEdgeError(f"{meta_f}: hyper-parameters {meta.get('hyper_parameters')} differ from this version's "
                           f"{name} ({PEERS[name][1]})")
    model = build_peer(name)
    try:
        model.model.load_state_dict(load_file(str(weights_f)))
    except (SafetensorError, RuntimeError, OSError) as e:
        raise LsmEdgeError(f"{weights_f}: cannot load {name} weights ({str(e).splitlines()[0]})") from None
    meta.setdefault("stats", None)  # a record saved without them: the caller's (the teacher's) apply
    if meta["stats"] is not None:
        from ..data.stats import NormStats

        meta["stats"] = NormStats.from_dict(meta["stats"])
    return model, meta


def find_peers(folder) -> list[Path]:
    """Every saved peer in a folder (its .peer.json files), sorted; LsmEdgeError if none."""
    found = sorted(Path(folder).glob("*.peer.json"))
    if not found:
        raise LsmEdgeError(f"{folder}: no saved peer (<name>.peer.json + <name>.safetensors); "
                           f"benchmarks/peers.py --save {folder} writes them")
    return found
