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
error).  The linear fill is O(T x F) with builtin ops: a cumulative count of valid cells numbers the gaps
(CUMSUM forwards and backwards), each gap's bounding observation is found by UNSORTED_SEGMENT_SUM over those
numbers and GATHERed back.
"""

from __future__ import annotations

import numpy as np

from . import schema

T, F = schema.WINDOW_MINUTES, schema.N_FEATURES


def valid_cells(tf, values, lo, hi):
    """values [B, T, F] raw -> bool [B, T, F]: observed and inside the feature's valid range (NaN and inf fail)."""
    return tf.logical_and(values >= lo, values <= hi)


def fill_linear(tf, z, valid, batch: int):
    """z [B, T, F] (anything where not valid), valid [B, T, F] bool -> z linearly filled along time where not
    valid: the graph form of ``data.windows.fill_linear``."""
    vf = tf.cast(valid, tf.float32)
    vi = tf.cast(valid, tf.int32)
    t = tf.constant(np.broadcast_to(np.arange(T, dtype=np.float32)[None, :, None], (batch, T, F)).copy())
    column = (np.arange(batch)[:, None, None] * F + np.arange(F)[None, None, :]) * (T + 1)
    column = tf.constant(np.broadcast_to(column, (batch, T, F)).astype(np.int32))
    before = tf.cumsum(vi, axis=1)  # [B, T, F] valid cells at or before t: the gap's number, counted forwards
    after = tf.cumsum(vi, axis=1, reverse=True)  # ... at or after t, counted backwards
    data = tf.reshape(tf.stack([vf * tf.where(valid, z, tf.zeros_like(z)), vf * t], -1), [-1, 2])
    n = batch * F * (T + 1)

    def bound(count):  # the one valid cell of each gap's segment: its value and time, at every cell of the segment
        ids = tf.reshape(column + count, [-1])
        got = tf.gather(tf.math.unsorted_segment_sum(data, ids, n), ids)
        got = tf.reshape(got, [batch, T, F, 2])
        return got[..., 0], got[..., 1]

    pv, pt = bound(before)
    nv, nt = bound(after)
    has_prev, has_next = before > 0, after > 0
    interp = pv + (nv - pv) * (t - pt) / tf.maximum(nt - pt, 1.0)
    zero = tf.zeros_like(pv)
    out = tf.where(has_prev & has_next, interp, tf.where(has_prev, pv, tf.where(has_next, nv, zero)))
    return tf.where(valid, z, out)


def convert_edges(stats, horizon: int, batch: int, signatures, integer=None, token_dim: int | None = None) -> bytes:
    """The edge graphs as one float .tflite with signatures ``pre_<sig>`` for every signature and ``post_<sig>``
    where the outputs need mapping back (``stitch`` splices them around the core).

    ``integer``: for a full-integer core, {"offset": [F], "scale": [F], "step": minutes per token} and
    ``token_dim`` its token width; else None."""
    import tensorflow as tf

    lo, hi = (tf.constant(a) for a in schema.valid_range())
    mean, std = tf.constant(np.float32(stats.mean)), tf.constant(np.float32(stats.std))
    hidden = tf.constant(~np.broadcast_to(np.arange(T)[None, :, None] >= T - horizon, (batch, T, F)))
    if integer:
        offset, scale = (tf.constant(np.float32(integer[k])) for k in ("offset", "scale"))

    def pre(forecast: bool):
        def fn(self, values):
            valid = valid_cells(tf, values, lo, hi)
            if forecast:  # what is forecast is never seen, whatever it holds
                valid = tf.logical_and(valid, hidden)
            z = fill_linear(tf, (values - mean) / std, valid, batch)
            if integer:
                z = tf.clip_by_value((z - offset) / scale, -1.0, 1.0)
            return {"values": z, "missing": 1.0 - tf.cast(valid, tf.float32)}
        return fn

    def to_raw(z):
        return ((z * scale + offset) if integer else z) * std + mean

    def post_impute(self, values, core_values):
        valid = valid_cells(tf, values, lo, hi)
        seen = tf.equal(values, values)  # not NaN
        invalid = tf.reduce_sum(tf.cast(tf.logical_and(seen, tf.logical_not(valid)), tf.float32), axis=[1, 2])
        return {"values": tf.where(valid, values, to_raw(core_values)), "invalid": invalid}

    def post_forecast(self, values, core_forecast):
        return {"forecast": to_raw(core_forecast)}

    def post_embed(self, values, core_tokens):  # [B, S, D] -> [B, D]: the mean over the steps with a valid cell
        step = int(integer["step"])
        valid = tf.cast(valid_cells(tf, values, lo, hi), tf.float32)
        seen = tf.reduce_max(tf.reshape(valid, [batch, T // step, step * F]), axis=-1)[..., None]  # [B, S, 1]
        return {"embedding": tf.reduce_sum(core_tokens * seen, 1) / tf.maximum(tf.reduce_sum(seen, 1), 1.0)}

    spec = lambda name, shape: tf.TensorSpec(shape, tf.float32, name=name)  # noqa: E731
    raw = spec("values", [batch, T, F])
    fns = {f"pre_{sig}": (pre(sig == "forecast"), [raw]) for sig in signatures}
    if "impute" in signatures:
        fns["post_impute"] = (post_impute, [raw, spec("core_values", [batch, T, F])])
    if "forecast" in signatures:
        fns["post_forecast"] = (post_forecast, [raw, spec("core_forecast", [batch, horizon, F])])
    if "embed" in signatures and integer:
        fns["post_embed"] = (post_embed, [raw, spec("core_tokens", [batch, T // int(integer["step"]), token_dim])])
    functions = {}
    for name, (fn, sig_spec) in fns.items():
        fn.__name__ = name  # the converter names each signature after its function
        functions[name] = tf.function(fn, input_signature=sig_spec)
    m = type("Edges", (tf.Module,), functions)()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([getattr(m, k).get_concrete_function() for k in functions], m)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return conv.convert()
