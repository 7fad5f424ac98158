"""The teacher: a ViT masked autoencoder over wearable windows (LSM, after He et al. 2022).

Inputs are z-scored windows with the missing mask beside them:
    values: [B, 300, 26] float, missing: [B, 300, 26] (1 = not observed or hidden).
Missingness is native (the open problem of the paper's section 6): missing cells are zeroed,
not interpolated, and each 10-minute x 5-feature patch is embedded from its 50 values AND its 50
missing flags, so a partly missing patch tells the model which of its cells are real (linear
interpolation stays what it is in the paper: a baseline).  180 tokens, fixed 2-D sin-cos
positions, pre-norm blocks.

Two paths, one set of weights:
- training (``call`` with ``noise``): true MAE.  The 36 tokens with the lowest noise are encoded,
  the other 144 (80 %) never enter the encoder; the decoder sees mask tokens in their place.
- inference (``infer`` / ``impute`` / ``embed``): static shapes, all 180 tokens enter the encoder.
  A token with no observed cell is *excluded from attention* (an attention mask on keys) and its
  decoder input is the mask token.  Chosen over the alternative (feeding the encoder the token of
  an all-missing patch, which it never saw in pretraining) because it makes the inference
  encoder compute exactly what the training-path encoder computes on the visible tokens
  (tests/test_mae.py proves the two reconstructions agree), and because it measured better:
  benchmarks/results/teacher/README.md has both on the same windows and masks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np
from keras import ops
from keras.src.losses.loss import scale_loss_for_distribution  # Keras' rule for a custom loss under tf.distribute (no public name in 3.15)

from ..errors import LsmEdgeError
from .layers import GF, GT, K, L, Block, InitConfig, patchify, sincos_2d, unpatchify


@dataclass(frozen=True)
class MAEConfig:
    enc_depth: int
    enc_dim: int
    enc_heads: int
    dec_depth: int
    dec_dim: int
    dec_heads: int
    mask_ratio: float = 0.8
    mlp_ratio: float = 4.0
    dropout: float = 0.0
    loss: str = "mse"
    fill_gate: bool = False


LOSSES = ("mse", "l1")


# Named sizes: tiny / small / base / large after the paper's Table 8; pico / nano / micro train on a laptop CPU.
SIZES = {
    "pico": MAEConfig(2, 48, 2, 1, 48, 2),  # the narrow, shallow ViT student (distill/vit_pico.toml)
    "nano": MAEConfig(2, 64, 2, 1, 64, 2),
    "micro": MAEConfig(4, 128, 4, 2, 96, 4),
    "tiny": MAEConfig(4, 192, 3, 2, 128, 4),
    "small": MAEConfig(8, 256, 4, 2, 192, 4),
    "base": MAEConfig(12, 768, 12, 8, 512, 16),
    "large": MAEConfig(24, 1024, 16, 8, 512, 16),
}


def config_for(size: str, **overrides) -> MAEConfig:
    if size not in SIZES:
        raise LsmEdgeError(f"unknown model size {size!r}; expected one of {', '.join(SIZES)}")
    return MAEConfig(**{**asdict(SIZES[size]), **overrides})


def _key_mask(valid):
    """valid: [B, N] bool -> attention mask [B, N, N]: every query may attend to valid keys only."""
    return ops.logical_and(ops.expand_dims(valid, 1), ops.expand_dims(ops.ones_like(valid), 2))


@keras.saving.register_keras_serializable("lsm_edge")
class MaskedAutoencoder(InitConfig, keras.Model):
    def __init__(self, enc_depth, enc_dim, enc_heads, dec_depth, dec_dim, dec_heads, mask_ratio=0.8,
                 mlp_ratio=4.0, dropout=0.0, loss="mse", fill_gate=False, **kw):
        super().__init__(**kw)
        if loss not in LOSSES:
            raise LsmEdgeError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        self.cfg = MAEConfig(enc_depth, enc_dim, enc_heads, dec_depth, dec_dim, dec_heads, mask_ratio,
                             mlp_ratio, dropout, loss, fill_gate)
        self.n_keep = L - int(round(mask_ratio * L))
        self.token_grid, self.embed_dim = (GT, GF), enc_dim  # tokens on the 30 x 6 (time, feature-group) grid
        self.patch_embed = keras.layers.Dense(enc_dim, name="patch_embed")
        self.enc_blocks = [Block(enc_dim, enc_heads, mlp_ratio, dropout, name=f"enc_{i}") for i in range(enc_depth)]
        self.enc_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="enc_norm")
        self.dec_embed = keras.layers.Dense(dec_dim, name="dec_embed")
        self.dec_blocks = [Block(dec_dim, dec_heads, mlp_ratio, dropout, name=f"dec_{i}") for i in range(dec_depth)]
        self.dec_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="dec_norm")
        self.head = keras.layers.Dense(K, name="head")
        self.gate = keras.layers.Dense(K, name="gate") if fill_gate else None
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        c = self.cfg
        self.pos_enc = self.add_weight((L, c.enc_dim), initializer=keras.initializers.Constant(sincos_2d(c.enc_dim)),
                                       trainable=False, name="pos_enc")
        self.pos_dec = self.add_weight((L, c.dec_dim), initializer=keras.initializers.Constant(sincos_2d(c.dec_dim)),
                                       trainable=False, name="pos_dec")
        self.mask_token = self.add_weight((c.dec_dim,), initializer=keras.initializers.RandomNormal(stddev=0.02),
                                          name="mask_token")
        self.patch_embed.build((None, L, 2 * K))
        for b in self.enc_blocks:
            b.build((None, L, c.enc_dim))
        self.enc_norm.build((None, L, c.enc_dim))
        self.dec_embed.build((None, L, c.enc_dim))
        for b in self.dec_blocks:
            b.build((None, L, c.dec_dim))
        self.dec_norm.build((None, L, c.dec_dim))
        self.head.build((None, L, c.dec_dim))
        if self.gate is not None:
            self.gate.build((None, L, c.dec_dim))
        self.built = True

    # -- pieces -------------------------------------------------------------------------------
    def tokens(self, values, missing):
        """values, missing: [B, 300, 26] -> tokens [B, L, D] (with positions), valid [B, L] bool."""
        missing = ops.cast(missing, self.compute_dtype)
        v = patchify(ops.cast(values, self.compute_dtype) * (1.0 - missing))
        m = patchify(missing, pad_value=1.0)  # padding cells count as missing
        x = self.patch_embed(ops.concatenate([v, m], axis=-1)) + self.pos_enc
        valid = ops.min(m, axis=-1) < 0.5  # a token with at least one observed cell
        return x, valid

    def encode(self, x, valid, training=False):
        mask = _key_mask(valid)
        for b in self.enc_blocks:
            x = b(x, attention_mask=mask, training=training)
        return self.enc_norm(x)

    def decode(self, x, fill, training=False):
        """x: [B, L, dec_dim] (mask tokens in place), fill: [B, 300, 26] -> reconstruction [B, 300, 26].

        With ``fill_gate`` the reconstruction is a per-cell blend g * head + (1 - g) * fill, g in (0, 1)
        from a second head: ``fill`` is the input's linear interpolation (the export contract's
        ``values``), which the encoder never sees; the gate lets the model lean on it where it is
        right (short gaps, slow features) and replace it where it is not."""
        x = x + self.pos_dec
        for b in self.dec_blocks:
            x = b(x, training=training)
        x = self.dec_norm(x)
        rec = unpatchify(self.head(x))
        if self.gate is None:
            return rec
        g = ops.sigmoid(unpatchify(self.gate(x)))
        return g * rec + (1.0 - g) * ops.cast(fill, g.dtype)

    # -- training path ------------------------------------------------------------------------
    def call(self, inputs, training=False):
        """inputs: values, missing [B, 300, 26]; noise [B, L] (lowest n_keep tokens are visible)."""
        if "noise" not in inputs:
            return self.infer(inputs["values"], inputs["missing"], training=training)
        x, valid = self.tokens(inputs["values"], inputs["missing"])
        ids_shuffle = ops.argsort(inputs["noise"], axis=1)
        ids_restore = ops.argsort(ids_shuffle, axis=1)
        keep = ids_shuffle[:, :self.n_keep]
        xv = ops.take_along_axis(x, ops.expand_dims(keep, -1), axis=1)  # [B, n_keep, D]
        vv = ops.take_along_axis(valid, keep, axis=1)
        enc = self.encode(xv, vv, training=training)
        d = self.dec_embed(enc)
        masks = ops.broadcast_to(ops.convert_to_tensor(self.mask_token), (ops.shape(d)[0], L - self.n_keep, self.cfg.dec_dim))
        d = ops.take_along_axis(ops.concatenate([d, masks], 1), ops.expand_dims(ids_restore, -1), axis=1)
        return self.decode(d, inputs["values"], training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """MSE (the paper) or L1 on hidden cells that were observed: y = {target, weight} [B,300,26]."""
        w = ops.cast(y["weight"], "float32")
        d = ops.cast(y_pred, "float32") - ops.cast(y["target"], "float32")
        err = (ops.square(d) if self.cfg.loss == "mse" else ops.abs(d)) * w
        return scale_loss_for_distribution(ops.sum(err) / ops.maximum(ops.sum(w), 1.0))

    # -- inference path (what is exported) -----------------------------------------------------
    def infer(self, values, missing, training=False, hidden="attention"):
        """Reconstruction [B, 300, 26] with every token present; see the module docstring for ``hidden``."""
        return self.reconstruct(values, missing, training, hidden)[0]

    def reconstruct(self, values, missing, training=False, hidden="attention"):
        """-> (reconstruction [B, 300, 26], encoder tokens [B, L, D]) of the inference path."""
        x, valid = self.tokens(values, missing)
        if hidden == "attention":
            enc = self.encode(x, valid, training=training)
        elif hidden == "token":  # the alternative measured against: encode everything, no attention mask
            enc = self.encode(x, ops.ones_like(valid), training=training)
        else:
            raise LsmEdgeError(f"hidden must be 'attention' or 'token', got {hidden!r}")
        d = ops.where(ops.expand_dims(valid, -1), self.dec_embed(enc), ops.convert_to_tensor(self.mask_token))
        return self.decode(d, values, training=training), enc

    def impute(self, values, missing):
        """Observed cells pass through unchanged; missing ones come from the reconstruction."""
        m = ops.cast(missing, "bool")
        return ops.where(m, rec := self.infer(values, missing), ops.cast(values, rec.dtype))

    def embed(self, values, missing):
        """-> (tokens [B, L, D], pooled [B, D]): encoder output, and its mean over tokens with data."""
        x, valid = self.tokens(values, missing)
        enc = self.encode(x, valid)
        w = ops.expand_dims(ops.cast(valid, enc.dtype), -1)
        pooled = ops.sum(enc * w, axis=1) / ops.maximum(ops.sum(w, axis=1), 1.0)
        return enc, pooled

    def decoder_layers(self):
        """Layers that serve reconstruction only (frozen when a classifier fine-tunes the encoder)."""
        return [self.dec_embed, *self.dec_blocks, self.dec_norm, self.head] + ([self.gate] if self.gate is not None else [])

    def get_config(self):
        return {**super().get_config(), **asdict(self.cfg)}


def build_mae(size: str = "tiny", **overrides) -> MaskedAutoencoder:
    return MaskedAutoencoder(**asdict(config_for(size, **overrides)))


def count_params(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))
