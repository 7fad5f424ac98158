"""Task heads on the teacher's encoder (the paper's appendix C.2) and the balanced softmax loss.

- linear probe:  pooled embedding [B, D] -> Dense(n_classes)               (encoder frozen)
- conv probe:    tokens [B, 180, D] -> grid [B, 30, 6, D] -> 2 x Conv2D -> pool -> Dense (frozen)
- full:          the encoder itself trained with a linear head on its pooled embedding

All heads output logits.  Balanced softmax (Ren et al. 2020) adds log class priors to the logits
during training only, so rare classes are not drowned by walking.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .layers import GF, GT

HEADS = ("linear", "conv", "full")


@keras.saving.register_keras_serializable("lsm_edge")
class ConvProbe(keras.layers.Layer):
    """tokens [B, L, D] -> logits [B, n_classes] through the token grid (the ViT's 30 x 6 (time, feature
    group); a student's own grid, e.g. 60 x 1)."""

    def __init__(self, n_classes: int, channels: int = 32, dropout: float = 0.3, grid=(GT, GF), **kw):
        super().__init__(**kw)
        self.n_classes, self.channels, self.dropout, self.grid = n_classes, channels, dropout, tuple(grid)
        self.conv1 = keras.layers.Conv2D(channels, 3, padding="same", activation="gelu")
        self.conv2 = keras.layers.Conv2D(channels, 3, padding="same", activation="gelu")
        self.drop = keras.layers.Dropout(dropout)
        self.out = keras.layers.Dense(n_classes)

    def build(self, input_shape):
        d = input_shape[-1]
        self.conv1.build((None, *self.grid, d))
        self.conv2.build((None, *self.grid, self.channels))
        self.out.build((None, self.channels))
        self.built = True

    def call(self, tokens, training=False):
        x = ops.reshape(tokens, (-1, *self.grid, ops.shape(tokens)[-1]))
        x = self.conv2(self.conv1(x))
        return self.out(self.drop(ops.mean(x, axis=(1, 2)), training=training))

    def get_config(self):
        return {**super().get_config(), "n_classes": self.n_classes, "channels": self.channels,
                "dropout": self.dropout, "grid": list(self.grid)}


@keras.saving.register_keras_serializable("lsm_edge")
class LinearProbe(keras.layers.Layer):
    """pooled [B, D] -> logits [B, n_classes]."""

    def __init__(self, n_classes: int, dropout: float = 0.3, **kw):
        super().__init__(**kw)
        self.n_classes, self.dropout = n_classes, dropout
        self.drop = keras.layers.Dropout(dropout)
        self.out = keras.layers.Dense(n_classes)

    def build(self, input_shape):
        self.out.build(input_shape)
        self.built = True

    def call(self, pooled, training=False):
        return self.out(self.drop(pooled, training=training))

    def get_config(self):
        return {**super().get_config(), "n_classes": self.n_classes, "dropout": self.dropout}


def balanced_softmax_loss(log_prior: np.ndarray):
    """Cross-entropy on logits + log p(class) (training only); labels are integer classes."""
    lp = ops.convert_to_tensor(np.asarray(log_prior, np.float32))

    def loss(y_true, logits):
        return keras.losses.sparse_categorical_crossentropy(ops.cast(y_true, "int32"), logits + lp,
                                                            from_logits=True)

    return loss
