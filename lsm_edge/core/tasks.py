"""The classification task model and its metrics, shared by ``finetune``, ``convert`` and ``report``.

``TaskModel``: a pretrained encoder (teacher or student) + a head (models/heads.py), pooled over
tokens; ``TASKS``: the label sets (exercise, 8-class activity); ``labelled`` picks a split's labelled
windows; ``metrics`` (accuracy, macro-F1, mAP, confusion) and ``classical_baselines`` (forest and
logistic regression on window summaries) score any classifier the same way.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .. import schema
from ..data.dataset import Dataset
from ..data.summary import window_summary
from ..errors import LsmEdgeError
from ..io import atomic_path
from ..models.heads import HEADS, ConvProbe, LinearProbe
from ..models.layers import unwrap_config
from ..models.mae import MaskedAutoencoder
from ..recipe import POOLS
from .inputs import model_inputs

TASKS = {"exercise": schema.EXERCISE_LABELS, "activity": schema.ACTIVITIES}


def labelled(ds: Dataset, task: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """-> (windows [N, 300, 26] raw with NaN, labels [N]) of one split."""
    if task not in TASKS:
        raise LsmEdgeError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    w = ds.load(split)
    y = w.exercise if task == "exercise" else w.activity
    keep = y >= 0
    return w.values[keep], y[keep].astype(np.int64)


def subsample(y: np.ndarray, shots: int | None, cap: int, seed: int) -> np.ndarray:
    """Indices: ``shots`` per class (few-shot), else at most ``cap`` windows, stratified."""
    rng = np.random.default_rng(seed)
    if shots:
        return np.concatenate([rng.permutation(np.flatnonzero(y == c))[:shots] for c in np.unique(y)])
    if len(y) <= cap:
        return np.arange(len(y))
    return np.sort(rng.choice(len(y), cap, replace=False))


def pool_tokens(tokens, pooled, pool: str):
    """The features a linear or full head reads.  tokens [B, L, D], pooled [B, D] (the encoder's own
    pooling: mean over tokens with data) -> "mean": pooled [B, D]; "stats": pooled, max over tokens
    and std over tokens [B, 3D] — per-window summary statistics of the tokens, what the random forest
    reads from the raw features (it beats a mean-pooled small student by 16 points on activity)."""
    if pool == "mean":
        return pooled
    if pool != "stats":
        raise LsmEdgeError(f"unknown pool {pool!r}; expected one of {', '.join(POOLS)}")
    spread = ops.mean(ops.square(tokens - ops.expand_dims(pooled, 1)), axis=1)
    return ops.concatenate([pooled, ops.max(tokens, axis=1), ops.sqrt(ops.maximum(spread, 1e-6))], axis=-1)


@keras.saving.register_keras_serializable("lsm_edge")
class TaskModel(keras.Model):
    """encoder (an MAE's) + head.  ``call({values, missing})`` -> logits; ``classify`` -> probabilities.

    ``pool`` (linear and full heads): which features of the tokens the head reads (:func:`pool_tokens`)."""

    def __init__(self, mae: MaskedAutoencoder, head: str, n_classes: int, dropout: float = 0.3,
                 pool: str = "mean", **kw):
        super().__init__(**kw)
        if head not in HEADS:
            raise LsmEdgeError(f"unknown head {head!r}; expected one of {', '.join(HEADS)}")
        if pool not in POOLS:
            raise LsmEdgeError(f"unknown pool {pool!r}; expected one of {', '.join(POOLS)}")
        if head == "conv" and pool != "mean":
            raise LsmEdgeError(f"the conv probe reads the token grid, not pooled features; got pool {pool!r}")
        self.mae, self.head_kind, self.n_classes, self.dropout, self.pool = mae, head, n_classes, dropout, pool
        d, grid = mae.embed_dim, tuple(mae.token_grid)
        self.head = (ConvProbe(n_classes, grid=grid, dropout=dropout, name="conv_probe") if head == "conv"
                     else LinearProbe(n_classes, dropout=dropout, name="linear_probe"))
        self.head.build((None, grid[0] * grid[1], d) if head == "conv" else (None, d * (3 if pool == "stats" else 1)))
        self.mae.trainable = head == "full"
        if head == "full":  # only the encoder serves a classifier; the decoder stays as pretrained
            for layer in mae.decoder_layers():
                layer.trainable = False
            if hasattr(mae, "mask_token"):
                mae.mask_token.trainable = False
        self.built = True

    def features(self, values, missing):
        tokens, pooled = self.mae.embed(values, missing)
        return tokens if self.head_kind == "conv" else pool_tokens(tokens, pooled, self.pool)

    def call(self, inputs, training=False):
        return self.head(self.features(inputs["values"], inputs["missing"]), training=training)

    def classify(self, values, missing):
        return ops.softmax(self.head(self.features(values, missing)), axis=-1)

    def get_config(self):
        return {**super().get_config(), "mae": keras.saving.serialize_keras_object(self.mae),
                "head": self.head_kind, "n_classes": self.n_classes, "dropout": self.dropout, "pool": self.pool}

    @classmethod
    def from_config(cls, config):
        mae, rest = unwrap_config(config, "mae")
        return cls(mae, **rest)


def _batched(fn, z, batch: int = 64) -> np.ndarray:
    """``fn(values, missing)`` over normalised windows z [N, 300, 26] in batches, results stacked."""
    out = []
    for i in range(0, len(z), batch):
        x = model_inputs(z[i:i + batch])
        out.append(np.asarray(fn(x["values"], x["missing"])))
    return np.concatenate(out)


def embed_features(model: TaskModel, z, batch: int = 64) -> np.ndarray:
    return _batched(model.features, z, batch)


def predict_proba(model: TaskModel, z, batch: int = 64) -> np.ndarray:
    return _batched(model.classify, z, batch)


def metrics(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> dict:
    from sklearn.metrics import average_precision_score, confusion_matrix

    pred = proba.argmax(1)
    present = [c for c in range(n_classes) if (y_true == c).any()]
    if n_classes == 2:
        m_ap = float(average_precision_score(y_true, proba[:, 1]))
    else:
        m_ap = float(np.mean([average_precision_score(y_true == c, proba[:, c]) for c in present]))
    return {"accuracy": float((pred == y_true).mean()), "mAP": m_ap, "n": int(len(y_true)),
            "confusion": confusion_matrix(y_true, pred, labels=list(range(n_classes))).tolist()}


def classical_baselines(x_train, y_train, x_test, n_classes: int, seed: int = 0) -> dict:
    """Random forest and logistic regression on window summary statistics -> {name: probabilities}."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    a, b = window_summary(x_train), window_summary(x_test)
    out = {}
    for name, clf in (("random forest", RandomForestClassifier(300, random_state=seed, n_jobs=-1,
                                                               class_weight="balanced")),
                      ("logistic regression", make_pipeline(StandardScaler(), LogisticRegression(
                          max_iter=2000, class_weight="balanced")))):
        clf.fit(a, y_train)
        p = np.zeros((len(b), n_classes))
        p[:, clf.classes_] = clf.predict_proba(b)
        out[name] = p
    return out


def plot_confusion(cm, classes, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm, float)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.1 * len(classes) + 2, 1.0 * len(classes) + 1.5))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
