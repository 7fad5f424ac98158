"""The exported graph's edges: raw units in, raw units out, so that an app in any language only moves buffers.

Every signature ``lsm-edge convert`` writes takes ``values [B, 300, 26]`` float32 in the features' own units
(the metadata's order), NaN where missing, and returns raw units.  Around the model's own graph (the *core*,
which works in z-units, or u-units for full-integer files) sit two small float graphs built here:

    pre  (values)             -> core inputs          valid = lo <= x <= hi (NaN, inf and out-of-range fail it)
                                                      z = (x - mean) / std where valid
                                                      linear fill of z along time (edges back/forward-filled,
                                                        a feature with nothing valid = 0), as data.windows.fill_linear
                                                      forecast: the last N minutes are invalid, whatever they hold
                                                      full-integer core: u = clip((z - offset) / scale, -1, 1)
                                                      missing = 1 - valid
    post (values, core outs)  -> outputs              impute:   x = z * std + mean, observed valid cells passed
                                                                through bit-exact; ``invalid``: per window, the
                                                                cells that were inf or outside the valid range
                                                      forecast: x = z * std + mean
                                                      embed (full-integer core): the mean of the step tokens
                                                                over the steps with a valid cell

``stitch.py`` splices pre, core and post into one subgraph per signature, so the file needs LiteRT builtin ops
only and full-integer files keep their integer core (the converter would otherwise quantize the raw-unit
input with one scale for RR intervals of ~1000 ms and skin-conductance slopes of ~0.1: measured 1.7 z-units of
error).  The linear fill is builtin ops, O(T x F log T): running maxima of the valid minutes find each cell's
neighbours (``cummax``), GATHER reads their values.
"""

from __future__ import annotations

import numpy as np

from .. import schema

T, F = schema.WINDOW_MINUTES, schema.N_FEATURES


def valid_cells(tf, values, lo, hi):
    """values [B, T, F] raw -> bool [B, T, F]: observed and inside the feature's valid range (NaN and inf fail)."""
    return tf.logical_and(values >= lo, values <= hi)


def cummax(tf, u, forward: bool = True):
    """Running maximum of u [B, T, F] (>= 0) along time, forwards or backwards: log2(T) steps, each the larger of
    u and u shifted by 1, 2, 4 ... minutes (XNNPACK's PAD, SLICE and MAXIMUM)."""
    k = 1
    while k < T:
        shifted = tf.pad(u[:, :T - k], [[0, 0], [k, 0], [0, 0]]) if forward else \
            tf.pad(u[:, k:], [[0, 0], [0, k], [0, 0]])
        u = tf.maximum(u, shifted)
        k *= 2
    return u


def fill_linear(tf, z, valid, batch: int):
    """z [B, T, F] (anything where not valid), valid [B, T, F] bool -> z linearly filled along time where not
    valid: the graph form of ``data.windows.fill_linear``.

    The last valid minute at or before t is a running maximum of ``valid * (t + 1)``, the next one at or after t a
    running maximum backwards of ``valid * (T - t)``; their values are GATHERed from z; the edges of the window
    take the one neighbour there is, and a feature with nothing valid stays 0."""
    vf = tf.cast(valid, tf.float32)
    t = tf.constant(np.arange(T, dtype=np.float32)[None, :, None])  # [1, T, 1]: broadcast, so the file stays small
    z = tf.where(valid, z, tf.zeros_like(z))
    p = cummax(tf, vf * (t + 1.0))  # 1 + the minute of the last valid cell, 0: none
    n = cummax(tf, vf * (T - t), forward=False)  # T - the minute of the next valid cell, 0: none
    prev, nxt = p - 1.0, T - n
    prev = prev + (1.0 - tf.minimum(p, 1.0)) * (nxt - prev)  # none before: the next one (the leading edge)
    nxt = nxt + (1.0 - tf.minimum(n, 1.0)) * (prev - nxt)  # none after: the last one (the trailing edge)
    cell = tf.constant((np.arange(batch)[:, None, None] * T * F + np.arange(F)[None, None, :]).astype(np.int32))

    def at(minute):  # z at [b, minute, f], minute [B, T, F] float (T where a feature has nothing: z there is 0)
        m = tf.cast(tf.clip_by_value(minute, 0.0, T - 1.0), tf.int32)
        return tf.reshape(tf.gather(tf.reshape(z, [-1]), tf.reshape(cell + m * F, [-1])), [batch, T, F])

    pv, nv = at(prev), at(nxt)  # (one GATHER of both, concatenated, measured slower: 280 against 210 us)
    return pv + (nv - pv) * (t - prev) / tf.maximum(nxt - prev, 1.0)


def convert_edges(stats, horizon: int, batch: int, signatures, integer=None, token_dim: int | None = None) -> bytes:
    """The edge graphs as one float .tflite with signatures ``pre_<sig>`` for every signature and ``post_<sig>``
    where the outputs need mapping back (``stitch`` splices them around the core).

    ``integer``: for a full-integer core, {"offset": [F], "scale": [F], "step": minutes per token} and
    ``token_dim`` its token width; else None."""
    import tensorflow as tf

    lo, hi = (tf.constant(a) for a in schema.valid_range())
    mean, std = tf.constant(np.float32(stats.mean)), tf.constant(np.float32(stats.std))
    hidden = tf.constant(np.arange(T)[None, :, None] < T - horizon)  # [1, T, 1]: the minutes forecast sees
    if integer:
        offset, scale = (tf.constant(np.float32(integer[k])) for k in ("offset", "scale"))

    def pre(kind: str):
        def fn(self, values):
            valid = valid_cells(tf, values, lo, hi)
            out = {}
            if kind == "impute":  # the cells that were inf or out of range, per window
                seen = tf.equal(values, values)  # not NaN
                out["invalid"] = tf.reduce_sum(tf.cast(seen, tf.float32) - tf.cast(valid, tf.float32), axis=[1, 2])
            if kind == "forecast":  # what is forecast is never seen, whatever it holds
                valid = tf.logical_and(valid, hidden)
            z = fill_linear(tf, (values - mean) / std, valid, batch)
            if integer:
                z = tf.clip_by_value((z - offset) / scale, -1.0, 1.0)
            return {**out, "values": z, "missing": 1.0 - tf.cast(valid, tf.float32)}
        return fn

    def to_raw(z):
        return ((z * scale + offset) if integer else z) * std + mean

    def post_impute(self, values, pre_missing, pre_invalid, core_values):
        keep = tf.less(pre_missing, 0.5)  # the valid cells: returned as they came, bit for bit
        return {"values": tf.where(keep, values, to_raw(core_values)), "invalid": pre_invalid}

    def post_forecast(self, core_forecast):
        return {"forecast": to_raw(core_forecast)}

    def post_embed(self, pre_missing, core_tokens):  # [B, S, D] -> [B, D]: the mean over the steps with a valid cell
        step = int(integer["step"])
        valid = 1.0 - pre_missing
        seen = tf.reduce_max(tf.reshape(valid, [batch, T // step, step * F]), axis=-1)[..., None]  # [B, S, 1]
        return {"embedding": tf.reduce_sum(core_tokens * seen, 1) / tf.maximum(tf.reduce_sum(seen, 1), 1.0)}

    spec = lambda name, shape: tf.TensorSpec(shape, tf.float32, name=name)  # noqa: E731
    raw = spec("values", [batch, T, F])
    fns = {f"pre_{sig}": (pre(sig), [raw]) for sig in signatures}
    if "impute" in signatures:
        fns["post_impute"] = (post_impute, [raw, spec("pre_missing", [batch, T, F]), spec("pre_invalid", [batch]),
                                            spec("core_values", [batch, T, F])])
    if "forecast" in signatures:
        fns["post_forecast"] = (post_forecast, [spec("core_forecast", [batch, horizon, F])])
    if "embed" in signatures and integer:
        fns["post_embed"] = (post_embed, [spec("pre_missing", [batch, T, F]),
                                          spec("core_tokens", [batch, T // int(integer["step"]), token_dim])])
    functions = {}
    for name, (fn, sig_spec) in fns.items():
        fn.__name__ = name  # the converter names each signature after its function
        functions[name] = tf.function(fn, input_signature=sig_spec)
    m = type("Edges", (tf.Module,), functions)()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([getattr(m, k).get_concrete_function() for k in functions], m)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return conv.convert()
