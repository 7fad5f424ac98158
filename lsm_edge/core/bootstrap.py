"""95 % intervals from a bootstrap over people: a person is the unit a claim is about.

``bootstrap_counts`` draws people with replacement and each drawn person's windows with replacement;
``bootstrap_gains`` turns summed per-window errors into a gain over a reference method with its interval.
Used by ``evaluate-real`` (core/scoring.py ``score_imputation``) and the cohort and bars benchmarks.
"""

from __future__ import annotations

import numpy as np

BOOTSTRAP = 1000  # resamples of people (and of windows within each person)


def bootstrap_counts(people: np.ndarray, seed: int = 0, n: int = BOOTSTRAP) -> np.ndarray:
    """-> [n, w] how many times each of w windows is drawn in each of n resamples.  One resample draws as many
    people as there are, with replacement, and for each draw of a person as many of their windows as they
    have, with replacement: a person is the unit a claim is about, and one person's windows are not
    independent of each other."""
    rng = np.random.default_rng([seed, 46])
    ids, who = np.unique(people, return_inverse=True)
    drawn = rng.multinomial(len(ids), np.full(len(ids), 1 / len(ids)), size=n)  # [n, people]
    counts = np.zeros((n, len(people)))
    for p in range(len(ids)):
        mine = np.flatnonzero(who == p)
        counts[:, mine] = rng.multinomial(drawn[:, p] * len(mine), np.full(len(mine), 1 / len(mine)))
    return counts


def bootstrap_gains(errors: dict, cells: np.ndarray, people: np.ndarray, names, refs, seed: int = 0) -> dict:
    """Gains of each of ``names`` over each of ``refs`` -> {name: {ref: [gain, low, high]}} (fractions; the 95 %
    interval of ``bootstrap_counts``).  errors: {method: [w] summed absolute error of each window}; cells: [w]
    scored cells of each window; people: [w] the person of each window.  A resample's gain is
    1 - MAE(name) / MAE(ref) over its cells; the interval is its 2.5 and 97.5 percentiles."""
    counts = bootstrap_counts(people, seed)
    total = counts @ cells
    ok = total > 0
    mae = {m: (counts @ errors[m])[ok] / total[ok] for m in set(names) | set(refs)}
    out = {}
    for name in names:
        out[name] = {}
        for r in refs:
            with np.errstate(invalid="ignore", divide="ignore"):
                g = 1 - mae[name] / mae[r]
            g = g[np.isfinite(g)]
            point = 1 - errors[name].sum() / errors[r].sum() if errors[r].sum() > 0 else float("nan")
            lo, hi = np.percentile(g, [2.5, 97.5]) if len(g) else (np.nan, np.nan)
            out[name][r] = [float(point), float(lo), float(hi)]
    return out
