"""Generative evaluation (``lsm-edge evaluate``), shaped like the LSM paper's Table 3(a).

On held-out windows, for each task and horizon, one mask per window is drawn from a seeded
generator and shared by every method.  A method receives the normalised windows with hidden
cells set to NaN and returns them filled.  Scores: MAE and MSE in z-units over the cells that
were hidden AND originally observed (nothing is ever scored on a cell that was not observed).

Baselines (the paper's appendix F.2): mean fill (the training mean, 0 in z-units), nearest
neighbour and linear interpolation along time (both back/forward-fill at the edges), and MICE
(scikit-learn's IterativeImputer across the 26 features, fitted on training minutes).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.run import load_run, run_kind
from ..core.scoring import BASELINES, baseline_methods, default_tasks, evaluate_generative, gain, model_method
from ..data.dataset import Dataset
from ..errors import LsmEdgeError
from ..io import atomic_write_text


def to_markdown(results: dict, model_name: str = "teacher") -> str:
    """One row per task: MAE / MSE of every method, then each model's gain over linear interpolation."""
    methods = list(next(iter(results.values())))
    models = [m for m in methods if m not in BASELINES] or [model_name]
    gains = {m: gain(results, m) for m in models if m in methods}
    head = "| task | " + " | ".join(methods) + "".join(f" | {m} gain vs linear (MAE)" for m in gains) + " |"
    lines = [head, "|" + "---|" * (len(methods) + len(gains) + 1)]
    for t, r in results.items():
        cells = [f"{r[m]['mae']:.3f} / {r[m]['mse']:.3f}" for m in methods]
        cells += [f"{100 * g[t]:+.1f}%" for g in gains.values()]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    return "MAE / MSE in z-units on hidden, originally observed cells.\n\n" + "\n".join(lines)


def write_report(results: dict, out_dir, meta: dict, model_name: str = "teacher") -> Path:
    out = Path(out_dir)
    md = to_markdown(results, model_name)
    atomic_write_text(out / "generative.json", json.dumps({"meta": meta, "results": results}, indent=1))
    atomic_write_text(out / "generative.md", "# Generative evaluation\n\n" + "\n".join(
        f"- {k}: {v}" for k, v in meta.items()) + "\n\n" + md + "\n")
    return out / "generative.md"


def evaluate_run(run, data_dir, split: str, windows: int, horizons, seed: int, others, compare_hidden: bool,
                 out_dir: Path) -> dict:
    """``lsm-edge evaluate --task generative``: the run (and ``others``, on the same windows and masks) against the
    classical baselines on the first ``windows`` windows of ``split`` -> {results, model_name, report}."""
    model, stats, cfg = load_run(run)
    ds = Dataset(data_dir)
    test = ds.load(split)
    if len(test) == 0:
        raise LsmEdgeError(f"{data_dir} has no {split} windows")
    z = stats.normalize(test.values[:windows])
    z_train = stats.normalize(ds.load("train").values[:2000])
    found = baseline_methods(z_train, seed)
    name = run_kind(cfg)  # a student run is scored under its own name
    found[name] = model_method(model)
    for other in others:
        m2, st2, c2 = load_run(other)
        if not (np.allclose(st2.mean, stats.mean) and np.allclose(st2.std, stats.std)):
            raise LsmEdgeError(f"--with {other}: its normalisation statistics differ from {run}'s; "
                               f"compare runs trained on the same data")
        found[f"{run_kind(c2)} {Path(other).name}"] = model_method(m2)
    if compare_hidden:
        found["teacher (mask-token encoder)"] = model_method(model, hidden="token")
    res = evaluate_generative(z, found, default_tasks(horizons), seed)
    meta = {"teacher": str(run), "data": str(data_dir), "split": split, "windows": len(z),
            "subjects": int(len(set(test.subject[:windows]))), "seed": seed,
            "model": f"{cfg.get('name') or cfg['train']['size']} ({cfg['params']:,} params)"}
    write_report(res, out_dir, meta, name)
    return {"results": res, "model_name": name, "report": out_dir / "generative.md"}
