"""Issue 3 ablation: train the micro recipe with a variant of the inference-path training step.

    python benchmarks/task_batch_variants.py --variant multigap --steps 600 --out runs/ab/multigap_600
    python benchmarks/quick_generative.py runs/ab/multigap_600

Variants of ``lsm_edge.core.inputs.task_batch`` (the other half of the steps, true MAE, is unchanged):
- ``recipe``:   as committed (one span of 5..150 minutes per window; interpolation, extrapolation or sensor);
- ``multigap``: interpolation and sensor windows get 1-3 spans each, so more hidden cells are
                supervised per forward pass (extrapolation keeps its one span at the end);
- ``long``:     spans of 20..150 minutes only (the bar's horizon is 60).
Not a library option: none of them measured better (benchmarks/results/teacher/ablations/proxies_600.md).
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np

import lsm_edge.verbs.train as T
from lsm_edge.data import masks
from lsm_edge.recipe import TrainConfig


def multigap(z, rng, max_minutes=150):
    hide = np.zeros(z.shape, bool)
    tasks = rng.integers(0, len(T.TRAIN_TASKS), len(z))
    for i, t in enumerate(tasks):
        name = T.TRAIN_TASKS[t]
        for _ in range(1 if name == "extrapolation" else int(rng.integers(1, 4))):
            hide[i] |= masks.make_mask(name, rng, 1, int(rng.integers(5, max_minutes + 1)))[0]
    return T.hidden_batch(z, hide)


VARIANTS = {"recipe": T.task_batch, "multigap": multigap, "long": partial(T.task_batch, min_minutes=20)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=VARIANTS, required=True)
    ap.add_argument("--recipe", default="train/micro.toml")
    ap.add_argument("--data", default="runs/ref/data")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--warmup-steps", type=int, default=30)
    ap.add_argument("--task-mask-p", type=float, default=None)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    T.task_batch = VARIANTS[a.variant]  # segment_batches looks it up in the module at call time
    cfg = TrainConfig.from_toml(a.recipe)
    cfg.steps, cfg.warmup_steps = a.steps, a.warmup_steps
    if a.task_mask_p is not None:
        cfg.task_mask_p = a.task_mask_p
    T.train(a.data, a.out, cfg, progress=False)


if __name__ == "__main__":
    main()
