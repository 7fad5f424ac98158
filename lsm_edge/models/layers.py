"""Small building blocks of the MAE: patchify / unpatchify, 2-D sin-cos positions, a pre-norm block.

Shapes: B batch, T=300 minutes, F=26 features, P=30 padded features, L=180 tokens,
K=50 cells per patch (10 minutes x 5 features), D model width.
Only ``keras.layers`` and ``keras.ops``: the same code runs on the TensorFlow and JAX backends.
"""

from __future__ import annotations

import numpy as np
import keras
from keras import ops

from .. import schema

T, F, P = schema.WINDOW_MINUTES, schema.N_FEATURES, schema.PADDED_FEATURES
PT, PF = schema.PATCH_MINUTES, schema.PATCH_FEATURES
GT, GF = T // PT, P // PF  # 30 x 6 grid
L, K = GT * GF, PT * PF  # 180 tokens of 50 cells


def patchify(x, pad_value: float = 0.0):
    """x: [B, T, F] -> [B, L, K]; features padded F -> P with ``pad_value`` first.  Token order: time-major."""
    x = ops.pad(x, [[0, 0], [0, 0], [0, P - F]], constant_values=pad_value)
    x = ops.reshape(x, (-1, GT, PT, GF, PF))
    x = ops.transpose(x, (0, 1, 3, 2, 4))  # [B, GT, GF, PT, PF]
    return ops.reshape(x, (-1, L, K))


def unpatchify(x):
    """x: [B, L, K] -> [B, T, F] (padding dropped)."""
    x = ops.reshape(x, (-1, GT, GF, PT, PF))
    x = ops.transpose(x, (0, 1, 3, 2, 4))
    x = ops.reshape(x, (-1, T, P))
    return x[:, :, :F]


def sincos_2d(dim: int) -> np.ndarray:
    """Fixed 2-D sin-cos position embedding [L, dim] over the (time, feature-group) grid (He et al. 2022)."""
    if dim % 4:
        raise ValueError(f"embedding width must be a multiple of 4 for 2-D sin-cos positions, got {dim}")

    def one(d, pos):
        omega = 1.0 / 10000 ** (np.arange(d // 2) / (d / 2.0))
        out = np.outer(pos, omega)
        return np.concatenate([np.sin(out), np.cos(out)], 1)

    gt, gf = np.meshgrid(np.arange(GT), np.arange(GF), indexing="ij")
    return np.concatenate([one(dim // 2, gt.ravel()), one(dim // 2, gf.ravel())], 1).astype(np.float32)


@keras.saving.register_keras_serializable("lsm_edge")
class Block(keras.layers.Layer):
    """Pre-norm transformer block: x + MHA(LN(x)), then x + MLP(LN(x)).  x: [B, N, D]."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, dropout: float = 0.0, **kw):
        super().__init__(**kw)
        self.dim, self.heads, self.mlp_ratio, self.dropout = dim, heads, mlp_ratio, dropout
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.attn = keras.layers.MultiHeadAttention(heads, dim // heads, dropout=dropout)
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.fc1 = keras.layers.Dense(int(dim * mlp_ratio), activation="gelu", name="mlp_in")
        self.fc2 = keras.layers.Dense(dim, name="mlp_out")
        self.drop = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        self.norm1.build(input_shape)
        self.attn.build(input_shape, input_shape)
        self.norm2.build(input_shape)
        self.fc1.build(input_shape)
        self.fc2.build(tuple(input_shape[:-1]) + (int(self.dim * self.mlp_ratio),))
        self.built = True

    def call(self, x, attention_mask=None, training=False):
        h = self.norm1(x)
        x = x + self.attn(h, h, attention_mask=attention_mask, training=training)
        return x + self.drop(self.fc2(self.fc1(self.norm2(x))), training=training)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "heads": self.heads, "mlp_ratio": self.mlp_ratio,
                "dropout": self.dropout}


class InitConfig:
    """``from_config`` for a Keras model whose ``get_config`` is its ``__init__`` arguments (plus Keras' own
    ``trainable`` / ``dtype``, dropped).  Put it before ``keras.Model`` in the bases."""

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for k in ("trainable", "dtype"):
            config.pop(k, None)
        return cls(**config)


def unwrap_config(config: dict, key: str) -> tuple:
    """(the Keras object serialised under ``key``, the rest of ``config`` as constructor keywords): the
    ``from_config`` of a model that wraps another (TaskModel an encoder, the Distiller a student)."""
    config = dict(config)
    inner = keras.saving.deserialize_keras_object(config.pop(key))
    for k in ("trainable", "dtype"):
        config.pop(k, None)
    return inner, config
