"""The full-integer student family: the conv student rebuilt from ops XNNPACK runs in signed 8-bit.

The conv student (models/conv.py) quantizes badly to full int8: LayerNorm (SQUARED_DIFFERENCE, RSQRT),
GELU and the fill gate's SELECT / CAST fall off XNNPACK onto reference kernels with QUANTIZE /
DEQUANTIZE around them, and one input scale spans every z-scored feature.  This family keeps its
shape (60 steps of 5 minutes x 26 features, dilated 1-D convolutions) and uses only Dense, Conv1D,
ReLU, add, multiply, concatenate, reshape and mean: every node on XNNPACK in int8.

Per-feature input range.  LiteRT quantizes an activation tensor with one scale, so the model works
in *u-units*: each feature's z-score mapped onto [-1, 1] by a fixed per-feature offset and scale
(the 0.05 / 99.95 % quantiles of the training people's observed values), clipped there.  In
training the mapping is the model's first and last step (losses stay in z-units, as for every
student); in a ``.tflite`` file it is left to the runtime, which reads ``offset`` and ``scale``
from the metadata, so the file's input tensor spans [-1, 1] for every feature.

    values u (missing cells linearly filled), missing [B, 300, 26]
      -> concat(u, missing) -> [B, 60, 5 * 52]
      -> relu(Dense(D))                      tokens [B, 60, D]
      -> depth x (x + Dense(D)(relu(Conv1D_dilated(BN(x)))))   BN: ``norm=True``, an affine at inference
      -> u + Dense(5 * 26)                   -> [B, 300, 26] in u-units

The output is the linear fill plus a learned correction, the part the conv student's sigmoid fill gate
plays there: without it (the first version) the float student kept none of the teacher's 60-minute
heart-rate interpolation gain on real people (benchmarks/results/int8/README.md).  ``qat=True``
fake-quantizes every tensor the int8 file will hold during training (quantization-aware fine-tuning).
Unlike the other families, the graph reads ``values`` where ``missing`` is set: a file's caller passes the
runtime's linear fill there (``forecast`` included: the runtime hides the last N minutes before filling).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .. import schema
from ..errors import LsmEdgeError
from .conv import StepStudent, pool_steps

T, F = schema.WINDOW_MINUTES, schema.N_FEATURES
QAT_MOMENTUM = 0.99  # of the tracked activation ranges


def feature_range(z: np.ndarray, lo: float = 0.0005, hi: float = 0.9995, max_windows: int = 4000,
                  seed: int = 0) -> tuple[list, list]:
    """z: normalised windows [N, 300, 26] (NaN missing) -> (offset, scale), each 26 floats, such that
    (z - offset) / scale spans [-1, 1] between the ``lo`` and ``hi`` quantiles of each feature's observed
    values.  A feature never observed keeps (0, 1); a scale is at least 0.5 z-units."""
    if z.ndim != 3 or z.shape[-1] != F:
        raise LsmEdgeError(f"expected windows [N, {T}, {F}], got shape {list(z.shape)}")
    rng = np.random.default_rng(seed)
    sub = z[rng.choice(len(z), min(len(z), max_windows), replace=False)] if len(z) else z
    offset, scale = [], []
    for j in range(F):
        x = sub[..., j]
        x = x[~np.isnan(x)]
        if x.size == 0:
            offset.append(0.0), scale.append(1.0)
            continue
        a, b = np.quantile(x, [lo, hi])
        offset.append(float((a + b) / 2)), scale.append(float(max((b - a) / 2, 0.5)))
    return offset, scale


def with_qat(model: "IntStudent", qat: bool = True) -> "IntStudent":
    """The same student (weights copied layer by layer) with quantization-aware training switched on or off."""
    if model.qat == qat:
        return model
    new = IntStudent.from_config({**model.get_config(), "qat": qat})
    for layer in model.layers:
        new.get_layer(layer.name).set_weights(layer.get_weights())
    return new


@keras.saving.register_keras_serializable("lsm_edge")
class IntStudent(StepStudent):
    def __init__(self, dim: int = 32, depth: int = 4, kernel: int = 3, step: int = 5, loss: str = "l1",
                 offset=None, scale=None, norm: bool = False, qat: bool = False, **kw):
        super().__init__(dim, depth, kernel, step, loss, **kw)
        offset = [0.0] * F if offset is None else [float(v) for v in offset]
        scale = [1.0] * F if scale is None else [float(v) for v in scale]
        if len(offset) != F or len(scale) != F or min(scale) <= 0:
            raise LsmEdgeError(f"offset and scale need {F} values each, scales > 0; got {len(offset)} and "
                               f"{len(scale)} (smallest scale {min(scale) if scale else None})")
        self.offset, self.scale, self.norm, self.qat = offset, scale, bool(norm), bool(qat)
        self.inp = keras.layers.Dense(dim, activation="relu", name="embed")
        self.convs = [keras.layers.Conv1D(dim, kernel, padding="same", dilation_rate=2 ** i, activation="relu",
                                          name=f"conv_{i}") for i in range(depth)]
        self.mixes = [keras.layers.Dense(dim, name=f"mix_{i}") for i in range(depth)]
        # batch norm before each conv: a fixed per-channel affine at inference (MUL and ADD, both int8 on XNNPACK)
        self.norms = [keras.layers.BatchNormalization(name=f"norm_{i}") for i in range(depth)] if self.norm else []
        self.head = keras.layers.Dense(step * F, name="head")
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        n, d = self.n_tokens, self.dim
        self.inp.build((None, n, 2 * self.step * F))
        for conv, mix in zip(self.convs, self.mixes):
            conv.build((None, n, d))
            mix.build((None, n, d))
        for bn in self.norms:
            bn.build((None, n, d))
        self.head.build((None, n, d))
        # quantization-aware training: the range of every tensor the int8 file will hold, an EMA of its batch
        # min / max, and fake quantization to 8 bits in the training forward pass (straight-through gradient)
        names = ["input", "embed", *(f"{k}_{i}" for i in range(self.depth) for k in
                                     (("norm", "conv", "mix", "add") if self.norm else ("conv", "mix", "add"))),
                 "head", "output"] if self.qat else []
        self.ranges = {k: self.add_weight(shape=(2,), initializer="zeros", trainable=False, name=f"range_{k}")
                       for k in names}
        self.built = True

    # -- the per-feature range (the runtime's job in a .tflite file) --------------------------------
    def to_u(self, z):
        """z-units -> u-units: (z - offset) / scale, clipped to [-1, 1].  [B, 300, 26]"""
        return ops.clip((ops.cast(z, "float32") - np.float32(self.offset)) / np.float32(self.scale), -1.0, 1.0)

    def from_u(self, u):
        return u * np.float32(self.scale) + np.float32(self.offset)

    # -- the integer graph: u-units in and out ------------------------------------------------------
    def _fq(self, name: str, x, training):
        """Fake-quantize ``x`` to int8 over its tracked range (QAT, training only; inference and export are float)."""
        if not (self.qat and training):
            return x
        r = self.ranges[name]
        now = ops.stack([ops.min(x), ops.max(x)])
        r.assign(ops.where(r[1] > r[0], QAT_MOMENTUM * r + (1.0 - QAT_MOMENTUM) * now, now))
        return keras.quantizers.fake_quant_with_min_max_vars(x, ops.minimum(r[0], 0.0), ops.maximum(r[1], 0.0))

    def tokens_u(self, u, missing, training=False):
        """u (linearly filled), missing [B, 300, 26] -> tokens [B, 60, D]"""
        x = self._fq("input", ops.concatenate([u, ops.cast(missing, "float32")], axis=-1), training)
        h = self._fq("embed", self.inp(self._steps(x)), training)
        for i, (conv, mix) in enumerate(zip(self.convs, self.mixes)):
            x = self._fq(f"norm_{i}", self.norms[i](h, training=training), training) if self.norm else h
            x = self._fq(f"conv_{i}", conv(x), training)
            h = self._fq(f"add_{i}", h + self._fq(f"mix_{i}", mix(x), training), training)
        return h

    def infer_u(self, u, missing):
        """-> reconstruction [B, 300, 26] in u-units: the linear fill plus the model's correction."""
        return u + ops.reshape(self.head(self.tokens_u(u, missing)), (-1, T, F))

    def embed_u(self, u, missing):
        """-> (tokens [B, 60, D], the mean over all steps [B, D]).  In a file: the graph's ``embedding`` (an
        integer graph has no DIV kernel for a masked mean); :meth:`embed` and the runtime pool the tokens of
        the steps with data instead (:func:`pool_steps`)."""
        h = self.tokens_u(u, missing)
        return h, ops.mean(h, axis=1)

    # -- the students' interface, in z-units (StepStudent adds infer, impute, call, the loss) -----------
    def reconstruct(self, values, missing, training=False, hidden="attention"):
        """-> (reconstruction [B, 300, 26] in z-units, step tokens [B, 60, D])."""
        if hidden != "attention":
            raise LsmEdgeError(f"the int8 student has no {hidden!r} inference path (only the ViT has)")
        u = self.to_u(values)
        h = self.tokens_u(u, missing, training=training)
        delta = self._fq("head", ops.reshape(self.head(h), (-1, T, F)), training)
        return self.from_u(self._fq("output", u + delta, training)), h

    def embed(self, values, missing):
        """-> (tokens [B, 60, D], pooled [B, D]: the mean over steps with at least one observed cell)."""
        h = self.tokens_u(self.to_u(values), missing)
        return h, pool_steps(h, missing, self.step)

    def decoder_layers(self):
        return [self.head]

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "depth": self.depth, "kernel": self.kernel,
                "step": self.step, "loss": self.loss_kind, "offset": self.offset, "scale": self.scale,
                "norm": self.norm, "qat": self.qat}
