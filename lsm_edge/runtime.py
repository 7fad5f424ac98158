"""What an app imports: lsm-edge ``.tflite`` files on the LiteRT interpreter.

Needs only numpy and ``ai-edge-litert`` (no TensorFlow, no Keras).  Windows are raw units,
``[300, 26]`` or ``[n, 300, 26]`` float arrays with NaN for missing, features in the order of
the file's metadata (``model.feature_names``).

    from lsm_edge.runtime import Imputer
    imp = Imputer("teacher_float32.tflite", num_threads=2)
    filled = imp.impute(window)          # observed cells come back unchanged

The file does all the work (``lsm_edge/core/edges.py``): every signature takes the raw window and returns raw
units, so this module only loads, checks and calls -- what an app in C, JavaScript, Kotlin or Swift does
too.  A cell that is inf or outside its feature's valid range is treated as missing by the graph, and
``impute`` counts such cells per window (``Imputer.last_invalid``).  Windows of the wrong shape, or with
no observed value, raise :class:`InputError` before they reach the interpreter.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

METADATA_NAME = "lsm_edge"
SUPPORTED_METADATA_VERSION = 2  # 2: raw units in and out of every signature; 1 (before 0.x): z-units

from .errors import LsmEdgeError  # a plain module: importing it brings no TensorFlow


class ModelFileError(LsmEdgeError):
    """The file is not a .tflite, has no lsm-edge metadata, or is from a newer incompatible version."""


class InputError(LsmEdgeError):
    """A window the model must not be given."""


def read_metadata(flat: bytes, where: str = "model") -> dict:
    """The lsm-edge metadata embedded in a .tflite flatbuffer."""
    if len(flat) < 8 or flat[4:8] != b"TFL3":
        raise ModelFileError(f"{where} is not a .tflite file (no TFL3 identifier)")
    from ai_edge_litert import schema_py_generated as fb

    try:
        m = fb.Model.GetRootAsModel(flat, 0)
        entries = {m.Metadata(i).Name().decode(): m.Metadata(i).Buffer() for i in range(m.MetadataLength())}
    except Exception as e:  # a corrupt flatbuffer raises anything from struct.error to IndexError
        raise ModelFileError(f"{where} is not a readable .tflite file ({type(e).__name__})") from None
    if METADATA_NAME not in entries:
        raise ModelFileError(f"{where} has no lsm-edge metadata; convert it with `lsm-edge convert` "
                             f"(metadata entries found: {sorted(entries) or 'none'})")
    try:
        meta = json.loads(m.Buffers(entries[METADATA_NAME]).DataAsNumpy().tobytes())
    except (ValueError, AttributeError):
        raise ModelFileError(f"{where}: its lsm-edge metadata is not valid JSON") from None
    version = meta.get("metadata_version", 0)
    if version > SUPPORTED_METADATA_VERSION:
        raise ModelFileError(f"{where} has lsm-edge metadata version {version}; this runtime reads "
                             f"{SUPPORTED_METADATA_VERSION}: upgrade lsm-edge")
    if version < SUPPORTED_METADATA_VERSION:
        raise ModelFileError(f"{where} has lsm-edge metadata version {version}: its signatures take windows the "
                             f"app normalised and filled itself; this runtime reads version "
                             f"{SUPPORTED_METADATA_VERSION} files, which take raw units: reconvert it "
                             f"(lsm-edge convert RUN --quant {meta.get('quantization', 'float32')} --out FILE)")
    return meta


class Model:
    """A loaded lsm-edge file: metadata, one interpreter, one reusable runner per signature."""

    signature: str = ""

    def __init__(self, path, num_threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        p = Path(path)
        if not p.is_file():
            raise ModelFileError(f"{p}: no such file")
        flat = p.read_bytes()
        self.metadata = read_metadata(flat, str(p))
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive int, got {num_threads!r}")
        self.path = p
        self._interp = Interpreter(model_content=flat, num_threads=num_threads)
        self._runners: dict = {}
        self.feature_names = [f["name"] for f in self.metadata["features"]]
        self.window = int(self.metadata["window_minutes"])
        self.batch = int(self.metadata.get("batch", 1))
        self._lo = np.array([f["valid_min"] for f in self.metadata["features"]], np.float32)
        self._hi = np.array([f["valid_max"] for f in self.metadata["features"]], np.float32)
        if self.signature and self.signature not in self.signatures:
            raise ModelFileError(f"{p} has no {self.signature!r} signature (it has: {', '.join(self.signatures)})")

    @property
    def signatures(self) -> list:
        return list(self._interp.get_signature_list())

    def runner(self, name: str):
        if name not in self._runners:
            self._runners[name] = self._interp.get_signature_runner(name)
        return self._runners[name]

    def check(self, values) -> tuple[np.ndarray, bool]:
        """-> (windows [n, 300, F] float32, whether the input was a single window)."""
        try:
            v = np.asarray(values, dtype=np.float32)
        except (TypeError, ValueError):
            raise InputError(f"windows must be numeric arrays, got {type(values).__name__}") from None
        F = len(self.feature_names)
        single = v.ndim == 2
        if single:
            v = v[None]
        if v.ndim != 3 or v.shape[1] != self.window:
            raise InputError(f"expected a window [{self.window}, {F}] or windows [n, {self.window}, {F}], "
                             f"got shape {list(np.shape(values))}")
        if v.shape[2] != F:
            raise InputError(f"expected {F} features per minute ({', '.join(self.feature_names[:3])}, ...), "
                             f"got {v.shape[2]}")
        if v.shape[0] == 0:
            raise InputError("got 0 windows")
        empty = np.isnan(v).all((1, 2))
        if empty.any():
            raise InputError(f"window {int(np.argmax(empty))} has no observed value; nothing to work from")
        return v, single

    def _run(self, signature: str, v: np.ndarray) -> dict:
        """Run ``signature`` over raw windows [n, 300, F] in model-sized batches; outputs stacked along n."""
        r = self.runner(signature)
        outs: dict = {}
        b = self.batch
        for i in range(0, len(v), b):
            vc = v[i:i + b]
            pad = b - len(vc)
            if pad:
                vc = np.concatenate([vc, np.repeat(vc[-1:], pad, 0)])
            for k, a in r(values=vc).items():
                outs.setdefault(k, []).append(a[:b - pad])
        return {k: np.concatenate(a) if len(a) > 1 else a[0] for k, a in outs.items()}


def quantize(x: np.ndarray, q: dict) -> np.ndarray:
    """Real values -> the integer tensor described by ``q`` ({"dtype", "scale", "zero_point"}: the metadata's
    ``io`` entries, or :func:`tensor_quantization` of LiteRT's tensor details), saturating."""
    info = np.iinfo(q["dtype"])
    return np.clip(np.round(x / q["scale"]) + q["zero_point"], info.min, info.max).astype(q["dtype"])


def dequantize(a: np.ndarray, q: dict) -> np.ndarray:
    """An integer tensor described by ``q`` -> real values (float32)."""
    return ((a.astype(np.float32) - q["zero_point"]) * q["scale"]).astype(np.float32)


def tensor_quantization(details: dict) -> dict:
    """LiteRT's tensor details -> {"dtype", "scale", "zero_point"} (real value = scale * (q - zero_point))."""
    return {"dtype": np.dtype(details["dtype"]).name, "scale": float(details["quantization"][0]),
            "zero_point": int(details["quantization"][1])}


class Imputer(Model):
    signature = "impute"
    last_invalid: np.ndarray | None = None  # [n]: cells per window that were inf or outside the valid range

    def impute(self, values) -> np.ndarray:
        """Fill the missing cells (NaN, inf, or outside the feature's valid range); observed cells are returned
        unchanged.  Same shape as the input."""
        v, single = self.check(values)
        res = self._run("impute", v)
        self.last_invalid = res["invalid"].astype(np.int64)
        return res["values"][0] if single else res["values"]


class Forecaster(Model):
    signature = "forecast"

    @property
    def minutes(self) -> int:
        return int(self.metadata["forecast_minutes"])

    def forecast(self, values) -> np.ndarray:
        """The last ``minutes`` of each window, predicted from the minutes before (whatever they hold, the last
        ``minutes`` are never seen): [N, 26] or [n, N, 26]."""
        v, single = self.check(values)
        if np.isnan(v[:, :self.window - self.minutes]).all((1, 2)).any():
            raise InputError(f"a window has no observed value before its last {self.minutes} minutes")
        out = self._run("forecast", v)["forecast"]
        return out[0] if single else out


class Embedder(Model):
    signature = "embed"

    def embed(self, values) -> np.ndarray:
        """Pooled embedding [D] or [n, D]."""
        v, single = self.check(values)
        out = self._run("embed", v)["embedding"]
        return out[0] if single else out


class _Classifier(Model):
    task = ""

    @property
    def classes(self) -> list:
        return list(self.metadata["classes"][self.task])

    def predict_proba(self, values) -> np.ndarray:
        v, single = self.check(values)
        out = self._run(self.signature, v)["probabilities"]
        return out[0] if single else out

    def predict(self, values):
        """Class name (or a list of names for several windows)."""
        p = self.predict_proba(values)
        return self.classes[int(np.argmax(p))] if p.ndim == 1 else [self.classes[int(i)] for i in p.argmax(1)]


class ActivityClassifier(_Classifier):
    signature, task = "classify_activity", "activity"


class ExerciseDetector(_Classifier):
    signature, task = "classify_exercise", "exercise"


def _demo(argv=None) -> None:
    """``python -m lsm_edge.runtime MODEL.tflite DATASET_DIR``: one test window through the runtime."""
    import argparse

    from .data.dataset import Dataset  # numpy only

    ap = argparse.ArgumentParser(prog="python -m lsm_edge.runtime", description=_demo.__doc__)
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("--gap", type=int, default=60, help="minutes hidden in the middle of the window")
    a = ap.parse_args(argv)
    try:
        imp = Imputer(a.model)
        test = Dataset(a.data).load("test").values
    except LsmEdgeError as e:
        raise SystemExit(f"error: {e}") from None
    hr = imp.feature_names.index("heart_rate")
    s = (test.shape[1] - a.gap) // 2
    seen = (~np.isnan(test[:, s:s + a.gap, hr])).sum(1)  # the first test window with heart rate in the gap
    if not len(test) or seen.max() == 0:
        raise SystemExit(f"error: {a.data} has no test window with heart rate observed in its middle {a.gap} minutes")
    w = test[int(np.argmax(seen > 0))]
    hidden = w.copy()
    hidden[s:s + a.gap] = np.nan
    filled = imp.impute(hidden)
    truth, got = w[s:s + a.gap, hr], filled[s:s + a.gap, hr]
    ok = ~np.isnan(truth)
    print(f"{imp.path.name} ({imp.metadata['quantization']}): heart rate over a hidden {a.gap}-minute gap, "
          f"MAE {np.abs(got[ok] - truth[ok]).mean():.1f} bpm over {int(ok.sum())} observed minutes; "
          f"forecast of the next {Forecaster(a.model).minutes} min: shape {Forecaster(a.model).forecast(w).shape}")
    if "classify_activity" in imp.signatures:
        test = Dataset(a.data).load("test")
        lab = np.flatnonzero(test.activity >= 0)[:20]
        clf = ActivityClassifier(a.model)
        hits = sum(p == clf.classes[t] for p, t in zip(clf.predict(test.values[lab]), test.activity[lab]))
        print(f"  classify_activity: {hits}/{len(lab)} of the first labelled test windows right")


if __name__ == "__main__":
    from . import logs

    if not logs.verbose_requested():
        logs.quiet()
    _demo()
