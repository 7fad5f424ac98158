"""Several teacher (or student) runs against linear interpolation on the windows and masks of `lsm-edge evaluate`.

`lsm-edge evaluate` also fits and runs MICE and the mean / nearest fills, which takes 15-20 minutes
on a busy 2-core host; comparing teachers trained for different numbers of steps only needs linear
interpolation and the teachers.  The task list, windows (first N test windows) and mask seeds are
those of `lsm-edge evaluate` (`evaluate.default_tasks`, seed 0), so each figure here is the one
`lsm-edge evaluate` prints for the same run.

``--seeds K`` scores K mask draws (seeds 0..K-1; seed 0 is `lsm-edge evaluate`'s) and adds a table of
each run's gain over linear per draw, to show how much one draw's figure moves; ``--task`` scores
only the named rows (each keeps its masks); ``--windows 0`` takes every test window.

    python benchmarks/teacher_steps.py --data runs/ref/data --run 4800=runs/long/micro_s4800 \\
        --run 2400_of_4800=runs/long/s4800_at2400 --out benchmarks/results/teacher/steps_4800/teacher_steps.md
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from lsm_edge.data.dataset import Dataset
from lsm_edge.data.windows import fill_linear
from lsm_edge.core.scoring import default_tasks, evaluate_generative, gain, model_method
from lsm_edge.verbs.evaluate import to_markdown
from lsm_edge.io import atomic_write_text
from lsm_edge.core.run import load_run


def spread_table(by_seed: dict[int, dict], names: list[str]) -> str:
    """{seed: evaluate_generative result} -> Markdown: per run and task, the gain over linear per draw."""
    seeds = sorted(by_seed)
    lines = ["| run | task | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | min .. max |",
             "|---|---|" + "---|" * (len(seeds) + 2)]
    for name in names:
        for task in by_seed[seeds[0]]:
            g = [100 * gain(by_seed[s], name)[task] for s in seeds]
            lines.append(f"| {name} | {task} | " + " | ".join(f"{x:+.1f} %" for x in g)
                         + f" | {np.mean(g):+.1f} % | {min(g):+.1f} .. {max(g):+.1f} % |")
    return "\n".join(lines)


@click.command()
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--run", "runs", multiple=True, required=True, help="NAME=RUN_FOLDER (repeatable).")
@click.option("--windows", default=512, show_default=True, help="First N test windows; 0 = all.")
@click.option("--seeds", default=1, show_default=True, help="Mask draws 0..K-1.")
@click.option("--task", "only", multiple=True, help="Score only this row, e.g. 'interpolation 60 min' (repeatable).")
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def main(data_dir, runs, windows, seeds, only, out):
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
    values = Dataset(data_dir).load("test").values
    z = stats0.normalize(values[:windows] if windows else values)
    methods = {"linear": lambda x: fill_linear(x), **models}
    try:
        by_seed = {s: evaluate_generative(z, methods, default_tasks(), seed=s, only=set(only) or None)
                   for s in range(seeds)}
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    text = (f"# Runs vs linear interpolation ({len(z)} test windows of {data_dir}, masks of `lsm-edge evaluate`)"
            "\n\n" + to_markdown(by_seed[0]))
    if seeds > 1:
        text += (f"\n\n## Gain over linear interpolation, {seeds} mask draws (seed 0 is the table above)\n\n"
                 + spread_table(by_seed, list(models)))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(out), text + "\n")
    atomic_write_text(Path(out).with_suffix(".json"),
                      json.dumps(by_seed[0] if seeds == 1 else {str(s): r for s, r in by_seed.items()}, indent=1))
    click.echo(text)


if __name__ == "__main__":
    main()
