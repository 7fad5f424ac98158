"""The run folder: what ``train``, ``distill`` and ``finetune`` write and every other step reads.

    model.keras    the Keras model (loads with ``safe_mode=True``)
    config.json    ``kind`` (teacher / student / classifier), the recipe, the parameter count, ...
    stats.json     the normalisation statistics of the training people (data/stats.py)
    log.csv        one row per checkpoint segment (``append_log``)
    manifest.json  sha256 of the files above and of the dataset it was trained on
    checkpoint/    ckpt.keras + state.json while a run is unfinished (``--resume`` reads them)

``load_run`` is the one reader; ``run_name`` / ``run_hash`` name a run inside a ``.tflite`` file's metadata.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from dataclasses import asdict
from pathlib import Path

import keras

from ..data.dataset import Dataset
from ..data.stats import NormStats
from ..errors import LsmEdgeError
from ..io import atomic_path, atomic_write_text, sha256_file
from ..models import conv, intconv, mae  # noqa: F401  (registers the model classes load_run reads)
from ..version import __version__


def write_manifest(out: Path, ds: Dataset) -> dict:
    m = {"kind": "teacher", "lsm_edge_version": __version__,
         "data": {"path": str(ds.dir), "dataset_json_sha256": sha256_file(ds.dir / "dataset.json")},
         "files": {f: sha256_file(out / f) for f in ("model.keras", "stats.json", "config.json")}}
    atomic_write_text(out / "manifest.json", json.dumps(m, indent=1))
    return m


def load_run(run_dir):
    """-> (model, stats, config dict) of a finished run."""
    run = Path(run_dir)
    if not (run / "model.keras").is_file():
        hint = " (interrupted: rerun `lsm-edge train ... --resume`)" if (run / "checkpoint").exists() else ""
        raise LsmEdgeError(f"{run} is not a finished lsm-edge run: no model.keras{hint}")
    model = keras.models.load_model(run / "model.keras", safe_mode=True, compile=False)
    return model, NormStats.load(run / "stats.json"), json.loads((run / "config.json").read_text())


def checkpoint(run: Path, model, segments_done: int, cfg, row: dict) -> None:
    """The end of a training segment: its log row, then the model with its optimizer state, then
    ``checkpoint/state.json`` (what ``--resume`` continues from), each written atomically in that order."""
    append_log(run / "log.csv", row)
    with atomic_path(run / "checkpoint" / "ckpt.keras") as tmp:
        model.save(tmp)
    atomic_write_text(run / "checkpoint" / "state.json", json.dumps({"segments_done": segments_done,
                                                                     "config": asdict(cfg)}))


def read_config(run_dir) -> dict:
    """A run's config.json ({} when it has none)."""
    path = Path(run_dir) / "config.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def run_kind(cfg: dict) -> str:
    """teacher, student or classifier (a run written before runs said their kind is a teacher)."""
    return cfg.get("kind", "teacher")


def masked_student(run_dir) -> bool:
    """A conv-family run trained on the masks alone (``distill --use-teacher false``, e.g. pretrained/real_conv96x5):
    continuing it is distill's loop, not the teacher's."""
    cfg = read_config(run_dir)
    return run_kind(cfg) == "student" and not cfg.get("distill", {}).get("use_teacher", True)


def check_out(out: Path, resume: bool, holds: str, interrupted: str) -> bool:
    """Before training into the run folder ``out`` -> True when ``resume`` finds it finished already.  Refuses a
    folder that holds a finished model (``holds``: "a trained model") or an interrupted run (``interrupted``:
    "run") without ``resume``, and ``resume`` with nothing to resume."""
    state = out / "checkpoint" / "state.json"
    if (out / "model.keras").exists():
        if resume:
            return True
        raise LsmEdgeError(f"{out} already holds {holds}; choose another --out")
    if resume and not state.exists():
        raise LsmEdgeError(f"nothing to resume in {out}: no checkpoint/state.json")
    if not resume and state.exists():
        raise LsmEdgeError(f"{out} holds an interrupted {interrupted}; pass --resume to continue it")
    return False


def prefetch(it, depth: int = 2):
    """Prepare the next batches on a thread while the model trains on this one (numpy releases the GIL)."""
    q: queue.Queue = queue.Queue(depth)
    done = object()

    def work():
        try:
            for item in it:
                q.put(item)
        except BaseException as e:  # hand the error to the consumer
            q.put(e)
        q.put(done)

    threading.Thread(target=work, daemon=True).start()
    while (item := q.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


def append_log(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a") as f:
        if new:
            f.write(",".join(row) + "\n")
        f.write(",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row.values()) + "\n")


def run_name(cfg: dict) -> str:
    """A run's model name from its config.json (teachers: the size; students: family and size)."""
    return cfg.get("name") or cfg["train"]["size"]


def run_hash(run: Path) -> str:
    h = hashlib.sha256()
    for f in ("model.keras", "stats.json", "config.json"):
        h.update(sha256_file(run / f).encode())
    return h.hexdigest()
