"""Per-feature z-score statistics, computed on training subjects only and saved as JSON next to every model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import schema
from ..errors import LsmEdgeError, SchemaError
from ..io import atomic_write_text

MIN_STD = 1e-3


@dataclass
class NormStats:
    """mean/std: [F] float64 over observed cells; count: observed cells per feature."""

    feature_names: tuple
    mean: np.ndarray
    std: np.ndarray
    count: np.ndarray

    @classmethod
    def fit(cls, batches, feature_names=schema.FEATURE_NAMES) -> "NormStats":
        """Streaming fit over an iterable of ``values [N, T, F]`` arrays (NaN = missing)."""
        acc = None
        for values in batches:
            v = np.asarray(values, np.float64).reshape(-1, len(feature_names))
            obs = ~np.isnan(v)
            z = np.where(obs, v, 0.0)
            part = np.stack([obs.sum(0), z.sum(0), (z * z).sum(0)])
            acc = part if acc is None else acc + part
        if acc is None:
            raise LsmEdgeError("cannot compute normalisation statistics: no training windows")
        count, s, ss = acc
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, s / np.maximum(count, 1), 0.0)
            var = np.where(count > 1, ss / np.maximum(count, 1) - mean**2, 1.0)
        std = np.sqrt(np.maximum(var, 0.0))
        std = np.where(std < MIN_STD, 1.0, std)  # constant or unseen feature: leave its scale alone
        return cls(tuple(feature_names), mean, std, count.astype(np.int64))

    def normalize(self, values: np.ndarray) -> np.ndarray:
        self._check(values)
        return ((values - self.mean) / self.std).astype(np.float32)

    def denormalize(self, z: np.ndarray) -> np.ndarray:
        self._check(z)
        return (z * self.std + self.mean).astype(np.float32)

    def _check(self, a):
        if np.shape(a)[-1] != len(self.mean):
            raise SchemaError(f"expected {len(self.mean)} features in the last axis, found {np.shape(a)[-1]}")

    def to_dict(self) -> dict:
        return {"feature_names": list(self.feature_names), "mean": self.mean.tolist(),
                "std": self.std.tolist(), "count": self.count.tolist()}

    @classmethod
    def from_dict(cls, d) -> "NormStats":
        try:
            names = tuple(d["feature_names"])
            arr = [np.asarray(d[k], np.float64) for k in ("mean", "std", "count")]
        except (KeyError, TypeError) as e:
            raise LsmEdgeError(f"normalisation statistics lack {e}; expected keys feature_names, mean, std, count")
        if not all(len(a) == len(names) for a in arr):
            raise LsmEdgeError("normalisation statistics: mean/std/count lengths differ from feature_names")
        return cls(names, arr[0], arr[1], arr[2].astype(np.int64))

    def save(self, path) -> None:
        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path) -> "NormStats":
        path = Path(path)
        if not path.is_file():
            raise LsmEdgeError(f"no normalisation statistics at {path}")
        return cls.from_dict(json.loads(path.read_text()))
