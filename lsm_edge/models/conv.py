"""The CPU-latency student family: fewer, larger tokens and a convolutional token mixer.

Where the ViT mixes 180 tokens of 10 minutes x 5 features with attention, this model cuts the
window into 60 steps of 5 minutes x all 26 features and mixes them with dilated 1-D convolutions
(kernel 3, dilation 1, 2, 4, ...): no attention, no softmax, one CONV_2D per block on a LiteRT CPU.

    values, missing [B, 300, 26]
      -> [B, 60, 5 * 52]   each step: its 5 minutes of zeroed values and missing flags
      -> Dense(D)          tokens [B, 60, D]
      -> depth x (x + Dense(D)(gelu(Conv1D_dilated(LN(x)))))
      -> LN -> Dense(5 * 26) (and a fill gate, as the teacher's)  -> [B, 300, 26]

Same interface as the teacher (``infer``, ``impute``, ``embed``, ``compute_loss``), so evaluation,
fine-tuning, conversion and the runtime take it unchanged.  ``embed`` returns the 60 step tokens
and their mean over steps with data.
"""

from __future__ import annotations

import keras
from keras import ops

from .. import schema
from ..errors import LsmEdgeError
from .layers import InitConfig

T, F = schema.WINDOW_MINUTES, schema.N_FEATURES


def pool_steps(tokens, missing, step: int):
    """tokens [B, S, D], missing [B, 300, 26] -> [B, D]: the mean over the S steps of ``step`` minutes with at
    least one observed cell (``lsm_edge.runtime`` pools an integer file's tokens the same way, in numpy)."""
    m = ops.reshape(ops.cast(missing, "float32"), (-1, ops.shape(tokens)[1], step * F))
    w = ops.expand_dims(ops.cast(ops.min(m, axis=-1) < 0.5, "float32"), -1)
    return ops.sum(tokens * w, axis=1) / ops.maximum(ops.sum(w, axis=1), 1.0)


class StepStudent(InitConfig, keras.Model):
    """What the two step-token student families (conv, intconv) share: the window cut into steps of
    ``step`` minutes, the teacher's interface around ``infer`` / ``embed``, the reconstruction loss, and
    config round trips."""

    def __init__(self, dim: int, depth: int, kernel: int, step: int, loss: str, **kw):
        super().__init__(**kw)
        if T % step:
            raise LsmEdgeError(f"step must divide the {T}-minute window, got {step}")
        if loss not in ("mse", "l1"):
            raise LsmEdgeError(f"loss must be one of mse, l1, got {loss!r}")
        self.dim, self.depth, self.kernel, self.step, self.loss_kind = dim, depth, kernel, step, loss
        self.n_tokens = T // step
        self.token_grid = (self.n_tokens, 1)
        self.embed_dim = dim

    def _steps(self, x):
        """[B, 300, C] -> [B, 60, 5 * C]"""
        return ops.reshape(x, (-1, self.n_tokens, self.step * ops.shape(x)[-1]))

    def infer(self, values, missing, training=False, hidden="attention"):
        """Reconstruction [B, 300, 26]; ``hidden`` exists for the teacher's interface (attention only)."""
        return self.reconstruct(values, missing, training, hidden)[0]

    def call(self, inputs, training=False):
        return self.infer(inputs["values"], inputs["missing"], training=training)

    def impute(self, values, missing):
        m = ops.cast(missing, "bool")
        return ops.where(m, self.infer(values, missing), ops.cast(values, "float32"))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        w = ops.cast(y["weight"], "float32")
        d = y_pred - ops.cast(y["target"], "float32")
        err = (ops.square(d) if self.loss_kind == "mse" else ops.abs(d)) * w
        return ops.sum(err) / ops.maximum(ops.sum(w), 1.0)


@keras.saving.register_keras_serializable("lsm_edge")
class ConvStudent(StepStudent):
    def __init__(self, dim: int = 64, depth: int = 5, kernel: int = 3, step: int = 5, loss: str = "l1",
                 fill_gate: bool = True, **kw):
        super().__init__(dim, depth, kernel, step, loss, **kw)
        self.fill_gate = fill_gate
        self.inp = keras.layers.Dense(dim, name="embed")
        self.norms = [keras.layers.LayerNormalization(epsilon=1e-6, name=f"norm_{i}") for i in range(depth)]
        self.convs = [keras.layers.Conv1D(dim, kernel, padding="same", dilation_rate=2 ** i, activation="gelu",
                                          name=f"conv_{i}") for i in range(depth)]
        self.mixes = [keras.layers.Dense(dim, name=f"mix_{i}") for i in range(depth)]
        self.out_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="out_norm")
        self.head = keras.layers.Dense(step * F, name="head")
        self.gate = keras.layers.Dense(step * F, name="gate") if fill_gate else None
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        n, d = self.n_tokens, self.dim
        self.inp.build((None, n, 2 * self.step * F))
        for norm, conv, mix in zip(self.norms, self.convs, self.mixes):
            norm.build((None, n, d))
            conv.build((None, n, d))
            mix.build((None, n, d))
        self.out_norm.build((None, n, d))
        self.head.build((None, n, d))
        if self.gate is not None:
            self.gate.build((None, n, d))
        self.built = True

    def tokens(self, values, missing):
        """-> tokens [B, 60, D], valid [B, 60] (a step with at least one observed cell)."""
        missing = ops.cast(missing, "float32")
        x = ops.concatenate([ops.cast(values, "float32") * (1.0 - missing), missing], axis=-1)
        h = self.inp(self._steps(x))
        for norm, conv, mix in zip(self.norms, self.convs, self.mixes):
            h = h + mix(conv(norm(h)))
        valid = ops.min(self._steps(missing), axis=-1) < 0.5
        return self.out_norm(h), valid

    def reconstruct(self, values, missing, training=False, hidden="attention"):
        """-> (reconstruction [B, 300, 26], step tokens [B, 60, D])."""
        if hidden != "attention":
            raise LsmEdgeError(f"the conv student has no {hidden!r} inference path (only the ViT has)")
        h, _ = self.tokens(values, missing)
        rec = ops.reshape(self.head(h), (-1, T, F))
        if self.gate is None:
            return rec, h
        g = ops.sigmoid(ops.reshape(self.gate(h), (-1, T, F)))
        return g * rec + (1.0 - g) * ops.cast(values, "float32"), h

    def embed(self, values, missing):
        """-> (tokens [B, 60, D], pooled [B, D]: mean over steps with data)."""
        h, _ = self.tokens(values, missing)
        return h, pool_steps(h, missing, self.step)

    def decoder_layers(self):
        """Layers that serve reconstruction only (frozen when a classifier fine-tunes the encoder)."""
        return [self.head] + ([self.gate] if self.gate is not None else [])

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "depth": self.depth, "kernel": self.kernel,
                "step": self.step, "loss": self.loss_kind, "fill_gate": self.fill_gate}
