"""Embedding probes: an embedding per window from a Keras run or a ``.tflite`` file, and classifiers on it scored
on person-grouped folds (no person in training and test of one fold), beside classifiers on plain statistics.

What ``evaluate-real`` scores activity recognition with (aw_fb, the MMASH diary) and the real-data benchmarks reuse.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import schema
from ..data.awfb import ACTIVITIES
from .inputs import model_inputs
from .scoring import valid_range


def activity_folds(y, groups) -> list:
    """The participant-grouped folds every aw_fb method is scored on: [(train index, test index)] x 5
    (fewer with fewer participants); no participant in training and test of one fold."""
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(n_splits=min(5, len(set(groups)))).split(y, y, groups))


def score_activity(x, y, groups, features: dict, seed: int = 0, classes=ACTIVITIES) -> tuple[dict, dict]:
    """features: {method: (array [n, d], "rf" | "lr")} -> ({method: scores}, {method: confusion})."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folds = activity_folds(y, groups)
    res, conf = {}, {}
    for name, (f, kind) in features.items():
        acc, f1, cm = [], [], np.zeros((len(classes),) * 2, int)
        for tr, te in folds:
            clf = (RandomForestClassifier(300, random_state=seed, n_jobs=1) if kind == "rf" else
                   make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0)))
            pred = clf.fit(f[tr], y[tr]).predict(f[te])
            acc.append(accuracy_score(y[te], pred))
            f1.append(f1_score(y[te], pred, average="macro", labels=range(len(classes)), zero_division=0))
            cm += confusion_matrix(y[te], pred, labels=range(len(classes)))
        res[name] = {"accuracy": float(np.mean(acc)), "accuracy_std": float(np.std(acc)),
                     "macro_f1": float(np.mean(f1)), "macro_f1_std": float(np.std(f1)), "folds": len(folds)}
        conf[name] = cm
    return res, conf


def phase_average(embed, x: np.ndarray) -> np.ndarray:
    """embed: windows [n, 300, 26] -> [n, D]; x: segments placed at the window's start (``segments``).
    -> the mean embedding over the segment starting at minute 0, 1, ..., PATCH_MINUTES - 1.

    A short segment fills one or two 10-minute patches, and where its first minute falls inside a
    patch decides which minutes share a token: an accident of placement, not of the recording.
    Averaging over the patch's phases removes it (measured on aw_fb: +3 points for a random forest on
    the teacher's embedding, benchmarks/results/real/README.md).  A shift drops the window's last
    minutes, which are missing for any segment shorter than 300 - PATCH_MINUTES minutes."""
    total = embed(x).astype(np.float64)
    for off in range(1, schema.PATCH_MINUTES):
        shifted = np.full_like(x, np.nan)
        shifted[:, off:] = x[:, :schema.WINDOW_MINUTES - off]
        total += embed(shifted)
    return (total / schema.PATCH_MINUTES).astype(np.float32)


def keras_embed(model, stats):
    def embed(x):
        out = []
        for i in range(0, len(x), 64):
            inp = model_inputs(stats.normalize(x[i:i + 64]))
            out.append(np.asarray(model.embed(inp["values"], inp["missing"])[1]))
        return np.concatenate(out)

    return embed


def artifact_embed(path):
    from ..runtime import Embedder

    e = Embedder(path)
    return lambda x: e.embed(np.clip(x, *valid_range(e)))


def model_function(model, what: str):
    """A ``.tflite`` file (through the app runtime, as an app runs it) or a run folder -> its ``what`` ("impute"
    or "embed") on raw windows [n, 300, 26] with NaN for missing."""
    from .run import load_run
    from .scoring import artifact_imputer, keras_imputer

    if Path(model).suffix == ".tflite":
        return (artifact_imputer if what == "impute" else artifact_embed)(Path(model))
    m, stats, _ = load_run(model)
    return (keras_imputer if what == "impute" else keras_embed)(m, stats)
