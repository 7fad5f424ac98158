"""Runs in a fresh process for tests/test_distributed.py: the backend and the number of virtual CPU
devices must be chosen before Keras starts, so these trainings cannot share the pytest process.

    python tests/scale_worker.py BACKEND DATA OUT      (writes OUT/results.json)

Every run trains the same nano recipe from the same seed with the same global batch; what changes
is where it runs: 1 or 2 devices, killed after one checkpoint and resumed on the other count, and
(JAX) mixed bfloat16 against float32.
"""

import json
import sys
from pathlib import Path

from lsm_edge.core.distributed import select_backend

backend, data, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
select_backend(backend, devices=2)  # two virtual CPU devices, before Keras starts

import numpy as np  # noqa: E402

from lsm_edge.verbs.train import TrainConfig, train  # noqa: E402
from lsm_edge.core.run import load_run  # noqa: E402

# task_mask_p = 0: one training path, so each run compiles one step function (compiling dominates here)
CFG = dict(size="nano", steps=4, batch_size=16, checkpoint_every=2, warmup_steps=1, val_windows=16, task_mask_p=0.0,
           backend=backend)


def run(name, devices, resume_on=None, **extra):
    cfg = TrainConfig(**{**CFG, **extra, "devices": devices})
    if resume_on is None:
        train(data, out / name, cfg, progress=False)
    else:  # "killed" after its first checkpoint, resumed on another device count
        train(data, out / name, cfg, progress=False, stop_after_segments=1)
        train(data, out / name, TrainConfig(**{**CFG, **extra, "devices": resume_on}), resume=True, progress=False)
    log = (out / name / "log.csv").read_text().split()
    cols = log[0].split(",")
    rows = [dict(zip(cols, map(float, r.split(",")))) for r in log[1:]]
    model, _, _ = load_run(out / name)
    return {"loss": [r["loss"] for r in rows], "val_loss": [r["val_loss"] for r in rows],
            "devices": [r["devices"] for r in rows], "weights": [float(np.abs(w).sum()) for w in model.get_weights()]}


if backend == "jax":
    # "two_then_one" starts data parallel, "one_then_two" ends so (and is the file converted)
    results = {"one": run("one", 1), "two_then_one": run("two_then_one", 2, resume_on=1),
               "one_then_two": run("one_then_two", 1, resume_on=2), "bf16": run("bf16", 1, precision="mixed_bfloat16"),
               "model_parallel": run("model_parallel", 2, model_parallel=2)}
else:  # Keras clips each replica's gradient before tf.distribute sums them: compare without clipping
    results = {"one": run("one", 1, clipnorm=1e9), "two": run("two", 2, clipnorm=1e9)}
if backend == "jax":  # which variables the layout map actually shards over the "model" axis
    import keras

    from lsm_edge.core.distributed import layout_map
    from lsm_edge.models.mae import build_mae

    lm = layout_map(keras.distribution.DeviceMesh((1, 2), ["batch", "model"]))
    results["sharded"] = sorted({v.path.split("/")[-2] + "/" + v.path.split("/")[-1] for v in build_mae("nano").weights
                                 if lm[v.path] is not None and "model" in lm[v.path].axes})
(out / "results.json").write_text(json.dumps(results))
