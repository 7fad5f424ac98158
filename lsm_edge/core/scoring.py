"""One scoring core for imputation: methods x tasks, on windows in z-units.

A *method* fills the NaN of normalised windows (``Method``): the classical fills (``baseline_methods``:
mean, nearest, linear, MICE), a Keras run (``model_method``), a ``.tflite`` file through the app
runtime (``artifact_method``) or a peer (core/peers.py).  A *task* (``Task``) is a span kind and a
length in minutes (data/masks.py draws it).  ``evaluate_generative`` draws one seeded mask per window
and task, shares it across methods, and scores MAE / MSE over hidden cells that were observed.
``evaluate``, ``report`` and ``evaluate-real`` all score through here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from .. import schema
from ..data import masks
from ..data.stats import NormStats
from ..data.windows import fill_linear, fill_locf, fill_nearest
from ..runtime import Imputer, read_metadata
from .bootstrap import bootstrap_gains

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


def training_mean_fill(z):
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
    from .inputs import model_inputs

    def run(z):
        out = np.empty_like(z)
        for i in range(0, len(z), batch_size):
            x = model_inputs(z[i:i + batch_size])
            rec = np.asarray(model.infer(x["values"], x["missing"], hidden=hidden))
            out[i:i + batch_size] = np.where(np.isnan(z[i:i + batch_size]), rec, z[i:i + batch_size])
        return out

    return run


def baseline_methods(z_train: np.ndarray, seed: int = 0) -> dict[str, Method]:
    return {"mean": training_mean_fill, "nearest": lambda z: fill_nearest(z), "linear": lambda z: fill_linear(z),
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


def artifact_method(path, stats: NormStats, num_threads: int = 1, core: str | None = None):
    """A .tflite file's ``impute`` signature, through the app API, as a method on normalised windows; on the
    emulated ARM ``core`` when given (:func:`lsm_edge.arm.impute_on`), else here."""
    meta = read_metadata(Path(path).read_bytes(), str(path))
    lo = np.array([f["valid_min"] for f in meta["features"]], np.float32)
    hi = np.array([f["valid_max"] for f in meta["features"]], np.float32)
    if core is None:
        impute = Imputer(path, num_threads=num_threads).impute
    else:
        from .arm import impute_on

        def impute(values):
            return impute_on(core, path, values)

    def method(z_in):  # back to raw units (clipped: the z round trip leaves -2e-7 steps), through the app API
        return stats.normalize(impute(np.clip(stats.denormalize(z_in), lo, hi)))

    return method


def score_generative(path, z: np.ndarray, stats: NormStats, tasks, seed: int) -> dict:
    """{task: {"mae", "linear_mae", "gain"}} of one file on normalised windows ``z`` (NaN = missing)."""
    res = evaluate_generative(z, {"artifact": artifact_method(path, stats), "linear": fill_linear},
                              tasks, seed, progress=False)
    return {t: {"mae": r["artifact"]["mae"], "linear_mae": r["linear"]["mae"],
                "gain": 1.0 - r["artifact"]["mae"] / r["linear"]["mae"]} for t, r in res.items()}


# -- spans on real recordings, in each channel's own unit (evaluate-real, fill) ----------------------
SPAN_HORIZONS = (10, 30, 60, 120)  # minutes of the hidden spans on real recordings
SPAN_TASKS = ("interpolation", "extrapolation", "steps visible")  # where a span is hidden, and of what
MODEL_FREE = ("mean (window)", "median (window)", "last value", "nearest", "linear")  # classical_fills(), in order
# the channels scored on real recordings (and filled by `lsm-edge fill`): {channel: (label, unit)}; log_energy
# in counts per minute (``to_unit``)
CHANNELS = {"heart_rate": ("heart rate", "bpm"), "step_count": ("steps", "steps/min"),
            "log_energy": ("counts", "counts/min"), "skin_temperature": ("skin temperature", "degC")}


def task_name(task: str, n: int) -> str:
    return f"heart rate, steps visible {n} min" if task == "steps visible" else f"{task} {n} min"


def to_unit(channel: str, v: np.ndarray) -> np.ndarray:
    return np.expm1(v) if channel == "log_energy" else v


def column(windows: np.ndarray, channel: str) -> int:
    """The channel's column: its schema index in [n, 300, 26] windows, 0 in an extra channel's [n, 300, 1]."""
    return schema.INDEX[channel] if windows.shape[-1] == schema.N_FEATURES else 0


def draw_spans(windows: np.ndarray, channel: str, task: str, n: int, rng) -> list:
    """One hidden span (window index, start) per window that has a valid one (``steps visible``
    draws as interpolation does)."""
    obs = ~np.isnan(windows[:, :, column(windows, channel)])
    spans = []
    for i, o in enumerate(obs):
        if task == "extrapolation":
            if o[schema.WINDOW_MINUTES - n:].mean() >= 0.5 and o[:schema.WINDOW_MINUTES - n].any():
                spans.append((i, schema.WINDOW_MINUTES - n))
            continue
        ok = [s for s in range(1, schema.WINDOW_MINUTES - n) if o[s - 1] and o[s + n] and o[s:s + n].mean() >= 0.5]
        if ok:
            spans.append((i, int(rng.choice(ok))))
    return spans


def score_imputation(windows, channel, methods: dict, seed: int = 0, progress: bool = True,
                     horizons=SPAN_HORIZONS, tasks=("interpolation", "extrapolation"), desc: str = "",
                     people=None) -> dict:
    """-> {task name: {"windows": n, "people": p, "methods": {method: {mae_unit, mae_z, cells, gain}}}}.  The
    span of (task, N) is drawn from generator (seed, k), k its index in (interpolation, extrapolation) x
    SPAN_HORIZONS, whatever subset is scored.  ``steps visible`` hides only ``channel``, in the spans of
    ``interpolation N min``: the two differ only in what the model sees.

    ``people``: the person of each window ([n]; default: one person per window).  Every method outside
    MODEL_FREE gets ``gain`` {classical method: [gain, low, high]}: 1 - its MAE / that method's MAE, with
    the 95 % interval of a bootstrap over people (``bootstrap_gains``)."""
    people = np.arange(len(windows)) if people is None else np.asarray(people)
    j = column(windows, channel)
    vals = to_unit(channel, windows[:, :, j])
    z_scale = float(np.nanstd(windows[:, :, j])) or 1.0
    out = {}
    todo = [(t, n) for t in SPAN_TASKS for n in SPAN_HORIZONS if t in tasks and n in horizons]
    for task, n in tqdm(todo, desc=desc or f"real {channel}", unit="task", disable=not progress):
        kind = "interpolation" if task == "steps visible" else task
        k = [(t, m) for t in SPAN_TASKS[:2] for m in SPAN_HORIZONS].index((kind, n))
        spans = draw_spans(windows, channel, kind, n, np.random.default_rng([seed, k]))
        if not spans:
            continue
        idx = np.array([i for i, _ in spans])
        x = windows[idx].copy()
        hide = np.zeros(x.shape[:2], bool)
        for r, (_, s) in enumerate(spans):
            hide[r, s:s + n] = True
        scored = hide & ~np.isnan(x[:, :, j])
        truth_u, truth_m = vals[idx], windows[idx][:, :, j][scored]
        if task == "steps visible":
            x[:, :, j][hide] = np.nan
        else:
            x[hide] = np.nan
        row, per_window = {}, {}
        for name, method in methods.items():
            filled = method(x)[:, :, j]
            err = np.where(scored, np.abs(to_unit(channel, filled) - truth_u), 0)  # [n, 300]; 0 off the scored cells
            per_window[name] = err.sum(1)
            row[name] = {"mae_unit": float(err[scored].mean()),
                         "mae_z": float(np.abs(filled[scored] - truth_m).mean() / z_scale),
                         "cells": int(scored.sum())}
        refs = [m for m in MODEL_FREE if m in per_window]
        models = [m for m in per_window if m not in MODEL_FREE]
        if refs and models:
            for name, gain in bootstrap_gains(per_window, scored.sum(1), people[idx], models, refs, seed).items():
                row[name]["gain"] = gain
        out[task_name(task, n)] = {"windows": len(spans), "people": len(set(people[idx].tolist())), "methods": row}
    return out


def linear_fill(x):
    return fill_linear(x)


def nearest_fill(x):
    return fill_nearest(x)


def last_value_fill(x):
    """The last observed value carried forward (the first one carried back before it)."""
    return fill_locf(x)


def window_median_fill(x):
    """Each window's own observed median per feature."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m = np.nanmedian(x, axis=1, keepdims=True)
    return np.where(np.isnan(x), np.nan_to_num(m), x)


def window_mean_fill(x):
    """Each window's own observed mean per feature (no training data needed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m = np.nanmean(x, axis=1, keepdims=True)
    return np.where(np.isnan(x), np.nan_to_num(m), x)


def classical_fills() -> dict:
    """{name: fill} of the classical methods scored beside every model on real recordings (``MODEL_FREE``): each
    needs the window alone, no training data."""
    return dict(zip(MODEL_FREE, (window_mean_fill, window_median_fill, last_value_fill, nearest_fill, linear_fill)))


def reference(task: str) -> str:
    """The classical method a model's gain on ``task`` is quoted against: the last value for extrapolation (a span
    at the window's end has no right edge to interpolate to), linear interpolation otherwise."""
    return "last value" if task.startswith("extrapolation") else "linear"


def keras_imputer(model, stats):
    run = model_method(model)

    def impute(x):
        z = stats.normalize(x)
        return np.where(np.isnan(x), stats.denormalize(run(z)), x)

    return impute


def artifact_imputer(path):
    imp = Imputer(path)
    return lambda x: imp.impute(np.clip(x, *valid_range(imp)))


def valid_range(model):
    """(low, high) of each feature a runtime model clips its raw input to (the schema's valid ranges)."""
    return model._lo, model._hi
