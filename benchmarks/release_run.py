"""Copy a finished run into a release folder without its optimizer state (a third of the file's size for
AdamW) and without checkpoints or TensorBoard logs; check that the copy fills windows exactly as the run
does, and write its manifest with the new hashes.

    python benchmarks/release_run.py runs/real/vit_micro pretrained/candidates/vit_micro
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np


def main(src, dst):
    import keras

    from lsm_edge.io import atomic_path, atomic_write_text, sha256_file
    from lsm_edge.core.inputs import model_inputs

    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    model = keras.models.load_model(src / "model.keras", safe_mode=True, compile=False)
    with atomic_path(dst / "model.keras") as tmp:
        model.save(tmp)  # not compiled: no optimizer state in the file
    for f in ("stats.json", "config.json", "log.csv"):
        shutil.copy(src / f, dst / f)
    again = keras.models.load_model(dst / "model.keras", safe_mode=True, compile=False)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 300, 26)).astype(np.float32)
    z[rng.random(z.shape) < 0.5] = np.nan
    x = model_inputs(z)
    a = np.asarray(model.infer(x["values"], x["missing"]))
    b = np.asarray(again.infer(x["values"], x["missing"]))
    if not np.array_equal(a, b):
        sys.exit(f"{dst}: the copy does not fill windows as {src} does (max difference {np.abs(a - b).max():g})")
    old = json.loads((src / "manifest.json").read_text()) if (src / "manifest.json").exists() else {}
    m = {**old, "released_from": str(src),
         "files": {f: sha256_file(dst / f) for f in ("model.keras", "stats.json", "config.json")}}
    atomic_write_text(dst / "manifest.json", json.dumps(m, indent=1))
    print(f"{dst}: {(dst / 'model.keras').stat().st_size / 1e6:.1f} MB (was {(src / 'model.keras').stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(*sys.argv[1:3])
