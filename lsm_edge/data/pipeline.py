"""Batches for training: a plain numpy iterator, and a ``tf.data`` pipeline on top of it.

A *source* is a :class:`~lsm_edge.data.dataset.Dataset` folder or any callable returning an
iterator of :class:`~lsm_edge.data.windows.Windows` chunks (e.g. the simulator stream).
Shuffling is by chunk order plus a buffer of chunks, so memory stays bounded by ``buffer``.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from .. import schema
from .dataset import Dataset
from .windows import Windows


def _chunks(source, split: str | None) -> Callable[[], Iterator[Windows]]:
    if isinstance(source, Dataset):
        return lambda: source.iter_windows(split)
    if callable(source):
        return lambda: (w if split is None else w.of_split(split) for w in source())
    raise TypeError(f"source must be a Dataset or a callable returning Windows chunks, got {type(source).__name__}")


def iterate_batches(source, batch_size: int, split: str | None = "train", shuffle: bool = True, seed: int = 0,
                    epochs: int | None = 1, buffer: int = 4, drop_remainder: bool = False) -> Iterator[dict]:
    """Yield ``{"values": [B, 300, 26] float32 (NaN = missing), "missing": [B, 300, 26] bool}``.

    ``epochs=None`` repeats forever.  Deterministic for a seed.
    """
    chunks = _chunks(source, split)
    rng = np.random.default_rng(seed)
    epoch = 0
    while epochs is None or epoch < epochs:
        pending: list[Windows] = []
        carry = Windows.empty()
        seen = 0
        for w in chunks():
            seen += len(w)
            if len(w):
                pending.append(w)
            if len(pending) >= buffer:
                carry = yield from _emit(Windows.concat([carry] + pending), batch_size, rng, shuffle)
                pending = []
        carry = yield from _emit(Windows.concat([carry] + pending), batch_size, rng, shuffle)
        if len(carry) and not drop_remainder:
            yield {"values": carry.values, "missing": carry.missing}
        epoch += 1
        if seen == 0:  # an empty source: nothing to repeat
            return


def _emit(w: Windows, batch_size: int, rng, shuffle: bool):
    if shuffle:
        w = w.take(rng.permutation(len(w)))
    n_full = len(w) // batch_size * batch_size
    for i in range(0, n_full, batch_size):
        yield {"values": w.values[i:i + batch_size], "missing": w.missing[i:i + batch_size]}
    return w.take(np.arange(n_full, len(w)))


def tf_dataset(source, batch_size: int, split: str | None = "train", shuffle: bool = True, seed: int = 0,
               epochs: int | None = 1, buffer: int = 4, drop_remainder: bool = True):
    """The same batches as :func:`iterate_batches`, as a prefetched ``tf.data.Dataset``."""
    import tensorflow as tf

    shape = (batch_size if drop_remainder else None, schema.WINDOW_MINUTES, schema.N_FEATURES)
    sig = {"values": tf.TensorSpec(shape, tf.float32), "missing": tf.TensorSpec(shape, tf.bool)}
    ds = tf.data.Dataset.from_generator(
        lambda: iterate_batches(source, batch_size, split, shuffle, seed, epochs, buffer, drop_remainder),
        output_signature=sig)
    return ds.prefetch(tf.data.AUTOTUNE)
