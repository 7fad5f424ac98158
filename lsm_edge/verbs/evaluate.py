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

from ..core.scoring import BASELINES, gain
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
