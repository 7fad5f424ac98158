"""Several teacher runs against linear interpolation on the windows and masks of `lsm-edge evaluate`.

`lsm-edge evaluate` also fits and runs MICE and the mean / nearest fills, which takes 15-20 minutes
on a busy 2-core host; comparing teachers trained for different numbers of steps only needs linear
interpolation and the teachers.  The task list, windows (first N test windows) and mask seeds are
those of `lsm-edge evaluate` (`evaluate.default_tasks`, seed 0), so each figure here is the one
`lsm-edge evaluate` prints for the same run.

    python benchmarks/teacher_steps.py --data runs/ref/data --run 4800=runs/long/micro_s4800 \
        --run 2400_of_4800=runs/long/s4800_at2400 --out benchmarks/results/teacher/steps_4800/teacher_steps.md
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from lsm_edge.data.dataset import Dataset
from lsm_edge.data.windows import fill_linear
from lsm_edge.evaluate import default_tasks, evaluate_generative, model_method, to_markdown
from lsm_edge.io import atomic_write_text
from lsm_edge.train import load_run


@click.command()
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--run", "runs", multiple=True, required=True, help="NAME=RUN_FOLDER (repeatable).")
@click.option("--windows", default=512, show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def main(data_dir, runs, windows, out):
    named = [r.split("=", 1) for r in runs]
    if any(len(n) != 2 for n in named):
        raise click.UsageError(f"--run takes NAME=RUN_FOLDER, got {runs}")
    models, stats0 = {}, None
    for name, folder in named:
        model, stats, _ = load_run(folder)
        if stats0 is not None and not (np.allclose(stats.mean, stats0.mean) and np.allclose(stats.std, stats0.std)):
            raise click.UsageError(f"{folder}: normalisation statistics differ from the first run's")
        stats0 = stats0 or stats
        models[name] = model_method(model)
    z = stats0.normalize(Dataset(data_dir).load("test").values[:windows])
    res = evaluate_generative(z, {"linear": lambda x: fill_linear(x), **models}, default_tasks(), seed=0)
    text = (f"# Teacher runs vs linear interpolation ({len(z)} test windows of {data_dir}, masks of `lsm-edge evaluate`)"
            "\n\n" + to_markdown(res))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(out), text + "\n")
    atomic_write_text(Path(out).with_suffix(".json"), json.dumps(res, indent=1))
    click.echo(text)


if __name__ == "__main__":
    main()
