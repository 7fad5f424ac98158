"""Each process reads its own share of the data, and draws its batches from it deterministically.

    shard files  0 1 2 3 4 5 6 ...      process p of P reads files p, p + P, p + 2P, ...
    windows      its share, in file order   -> batches: "replacement" (uniform draws, the reference
                                               runs) or "epoch" (a fresh permutation of the share
                                               each epoch, cut into batches back to back)

Nothing depends on anything but (seed, process index, step), so a resumed run draws exactly the
batches an uninterrupted one would, and no machine needs more than its own share of the files.
Together the P processes see every window exactly once per epoch (``epoch`` sampling).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import LsmEdgeError


def process_share(paths: list, process_index: int, process_count: int) -> list:
    """The shard files process ``process_index`` of ``process_count`` reads (round robin)."""
    if not 0 <= process_index < process_count:
        raise LsmEdgeError(f"process index {process_index} is outside 0..{process_count - 1}")
    if 1 < process_count > len(paths):
        raise LsmEdgeError(f"{process_count} processes but only {len(paths)} shard files: every process needs "
                           f"at least one (write the data with smaller shards)")
    return list(paths)[process_index::process_count]


@lru_cache(maxsize=4)
def _permutation(n: int, seed: int, process_index: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, 7, process_index, epoch]).permutation(n)


def batch_indices(n: int, batch: int, step: int, seed: int, process_index: int = 0,
                  sampling: str = "epoch", rng=None) -> np.ndarray:
    """Indices into a share of ``n`` windows for global step ``step`` -> [batch].

    ``epoch``: positions step*batch .. (step+1)*batch of the stream of per-epoch permutations.
    ``replacement``: ``batch`` uniform draws from ``rng`` (the generator of that step).
    """
    if n < 1:
        raise LsmEdgeError("this process's share of the data holds no training window")
    if sampling == "replacement":
        return rng.integers(0, n, batch)
    out, pos = [], step * batch
    while len(out) < batch:
        epoch, off = divmod(pos, n)
        take = min(batch - len(out), n - off)
        out.extend(_permutation(n, seed, process_index, epoch)[off:off + take])
        pos += take
    return np.asarray(out)
