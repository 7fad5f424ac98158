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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from . import schema
from .data import masks
from .data.windows import fill_linear, fill_nearest
from .io import atomic_write_text

Method = Callable[[np.ndarray], np.ndarray]  # z with NaN at missing|hidden -> filled z
BASELINES = ("mean", "nearest", "linear", "mice")


@dataclass(frozen=True)
class Task:
    name: str
    minutes: int | None = None

    @property
    def label(self) -> str:
        return f"{self.name} {self.minutes} min" if self.minutes else f"{self.name} 80%"


def default_tasks(horizons=masks.HORIZONS) -> list[Task]:
    return ([Task(t, n) for t in ("interpolation", "extrapolation", "sensor") for n in horizons]
            + [Task("random")])


def mean_fill(z):
    return np.where(np.isnan(z), 0.0, z).astype(np.float32)


def fit_mice(z_train: np.ndarray, max_rows: int = 20000, seed: int = 0, max_iter: int = 10) -> Method:
    """MICE over features, fitted on a sample of training minutes (rows with at least one observed cell)."""
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    rows = z_train.reshape(-1, z_train.shape[-1]).astype(np.float64)
    rows = rows[~np.isnan(rows).all(1)]
    rng = np.random.default_rng(seed)
    rows = rows[rng.choice(len(rows), min(max_rows, len(rows)), replace=False)]
    # float64 and bounds from the training range: the RR features are nearly collinear and, unbounded
    # in float32, the chained regressions diverged to NaN
    with np.errstate(all="ignore"):
        lo, hi = np.nanmin(rows, 0), np.nanmax(rows, 0)
    lo, hi = np.nan_to_num(lo, nan=-10.0), np.nan_to_num(hi, nan=10.0)
    imp = IterativeImputer(max_iter=max_iter, random_state=seed, keep_empty_features=True,
                           min_value=lo, max_value=hi).fit(rows)

    def mice(z):
        flat = z.reshape(-1, z.shape[-1]).astype(np.float64)
        return np.where(np.isnan(z), imp.transform(flat).reshape(z.shape), z).astype(np.float32)

    return mice


def model_method(model, batch_size: int = 64, hidden: str = "attention") -> Method:
    """The teacher (or any model with ``infer``) as an imputation method on normalised windows."""
    from .train import model_inputs

    def run(z):
        out = np.empty_like(z)
        for i in range(0, len(z), batch_size):
            x = model_inputs(z[i:i + batch_size])
            rec = np.asarray(model.infer(x["values"], x["missing"], hidden=hidden))
            out[i:i + batch_size] = np.where(np.isnan(z[i:i + batch_size]), rec, z[i:i + batch_size])
        return out

    return run


def baseline_methods(z_train: np.ndarray, seed: int = 0) -> dict[str, Method]:
    return {"mean": mean_fill, "nearest": lambda z: fill_nearest(z), "linear": lambda z: fill_linear(z),
            "mice": fit_mice(z_train, seed=seed)}


def evaluate_generative(z: np.ndarray, methods: dict[str, Method], tasks=None, seed: int = 0,
                        progress: bool = True, per_feature: bool = False, only=None) -> dict:
    """z: [N, 300, 26] normalised test windows (NaN = missing) -> {task label: {method: {mae, mse, cells}}}.

    A task's masks are drawn from ``(seed, its position in tasks)``.  ``only``: labels of the tasks to
    score; the others are skipped, and each scored task keeps the masks it has in the full list, so a
    subset reproduces the full table's rows.  ``per_feature`` adds ``mae_per_feature`` {feature name:
    MAE} (features with a scored cell) to each entry."""
    tasks = tasks or default_tasks()
    if only is not None:
        unknown = set(only) - {t.label for t in tasks}
        if unknown:
            raise ValueError(f"unknown task labels {sorted(unknown)}; expected some of {[t.label for t in tasks]}")
    observed = ~np.isnan(z)
    results = {}
    for k, task in enumerate(tqdm(tasks, desc="evaluating", unit="task", disable=not progress)):
        if only is not None and task.label not in only:
            continue
        hide = masks.make_mask(task.name, np.random.default_rng([seed, k]), len(z), task.minutes)
        scored = hide & observed
        z_in = np.where(hide, np.nan, z)
        row = {}
        for name, method in methods.items():
            diff = method(z_in) - z
            err = diff[scored]
            row[name] = {"mae": float(np.abs(err).mean()), "mse": float((err ** 2).mean()), "cells": int(scored.sum())}
            if per_feature:
                total, n = np.where(scored, np.abs(diff), 0.0).sum((0, 1)), scored.sum((0, 1))
                row[name]["mae_per_feature"] = {f: float(total[j] / n[j])
                                                for j, f in enumerate(schema.FEATURE_NAMES) if n[j]}
        results[task.label] = row
    return results


def gain(results: dict, method: str, over: str = "linear", metric: str = "mae") -> dict:
    """Relative improvement of ``method`` over ``over`` per task: 1 - method / over."""
    return {t: 1.0 - r[method][metric] / r[over][metric] for t, r in results.items() if method in r}


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


from .api import callable_module  # noqa: E402  (lsm_edge.evaluate(...) is the API verb too)

callable_module(__name__)
