"""What every importer shares: building timelines from (subject, minute, feature, value) rows,
reporting malformed rows with file and line, assigning subjects to splits, writing the dataset."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .dataset import DatasetWriter
from .windows import NO_LABEL, SPLITS, Timeline, Windows, cut_windows

MAX_REPORTED = 10


@dataclass
class RowErrors:
    """Malformed rows found while reading: (file, line, what) each."""

    rows: list = field(default_factory=list)

    def add(self, path, line: int, what: str) -> None:
        self.rows.append((str(path), line, what))

    def raise_or_report(self, skip: bool) -> None:
        if not self.rows:
            return
        self.rows.sort(key=lambda r: (r[0], r[1]))
        shown = "\n".join(f"  {p}:{ln}: {w}" for p, ln, w in self.rows[:MAX_REPORTED])
        more = f"\n  ... and {len(self.rows) - MAX_REPORTED} more" if len(self.rows) > MAX_REPORTED else ""
        if not skip:
            raise DataFormatError(f"{len(self.rows)} malformed row(s):\n{shown}{more}\n"
                                  f"(fix them, or pass --skip-malformed to drop exactly these rows)")
        print(f"lsm-edge: dropped {len(self.rows)} malformed row(s):\n{shown}{more}", file=sys.stderr)


def assign_split(subject: str, fractions=(0.7, 0.1, 0.2)) -> int:
    """Deterministic subject-level split from a hash of the subject id (stable across runs and machines)."""
    u = int(hashlib.sha256(subject.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    edges = np.cumsum(fractions)
    return int(min(np.searchsorted(edges, u, side="right"), len(SPLITS) - 1))


class TimelineBuilder:
    """Accumulates minute rows per subject, averaging several readings that fall into one minute."""

    def __init__(self):
        self._rows: dict[str, dict[str, list]] = {}

    def add(self, subject: str, minutes: np.ndarray, channel: str, values: np.ndarray) -> None:
        d = self._rows.setdefault(subject, {})
        d.setdefault(channel, []).append((np.asarray(minutes, np.int64), np.asarray(values, np.float64)))

    def subjects(self):
        return sorted(self._rows)

    def build(self, label_channels=(), extra_channels=()) -> list[Timeline]:
        """One Timeline per subject from its first to its last minute with any data."""
        out = []
        for subj in self.subjects():
            chans = {c: (np.concatenate([m for m, _ in parts]), np.concatenate([v for _, v in parts]))
                     for c, parts in self._rows[subj].items()}
            t0 = min(m.min() for m, _ in chans.values())
            T = int(max(m.max() for m, _ in chans.values()) - t0 + 1)
            values = np.full((T, schema.N_FEATURES), np.nan, np.float32)
            extras, labels = {}, {}
            for c, (m, v) in chans.items():
                mean = _minute_mean(m - t0, v, T)
                if c in schema.INDEX:
                    values[:, schema.INDEX[c]] = mean
                elif c in label_channels:
                    labels[c] = np.where(np.isnan(mean), NO_LABEL, np.round(mean)).astype(np.int16)
                elif c in extra_channels:
                    extras[c] = mean.astype(np.float32)
            out.append(Timeline(subj, np.int64(t0).astype("datetime64[m]"), values, extras, labels))
        return out


def _minute_mean(idx: np.ndarray, v: np.ndarray, T: int) -> np.ndarray:
    s = np.bincount(idx, weights=v, minlength=T)
    n = np.bincount(idx, minlength=T)
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def write_dataset(timelines, out_dir, source: dict, min_observed: float = 0.2, split_key=None, extra=None) -> dict:
    """Write the timelines and their windows as a dataset folder; return the manifest.
    ``split_key(subject)``: the name whose hash picks the split (subjects sharing it share a split)."""
    w = DatasetWriter(out_dir, source)
    parts = []
    for tl in timelines:
        w.write_timeline(tl)
        key = split_key(tl.subject) if split_key else tl.subject
        parts.append(cut_windows(tl, split=assign_split(key), min_observed=min_observed))
    w.write_shard(0, Windows.concat(parts))
    return w.finish({"extra_channels": sorted({k for tl in timelines for k in tl.extras}),
                     "label_channels": sorted({k for tl in timelines for k in tl.labels}), **(extra or {})})
