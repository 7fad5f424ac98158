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
MAX_TIMELINE_DAYS = 3 * 366  # one person's recording; a longer span is a corrupt timestamp, not data


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


def split_people(strata: dict, fractions=(0.7, 0.1, 0.2)) -> dict:
    """Split people by person, stratified: ``strata`` {stratum: [person keys]} -> {person key: split index}.

    Inside each stratum (a source, e.g. ``covid19`` people with heart rate) people are ordered by a
    hash of their key and cut in that order: test first (``round(0.2 n)``, at least one when n >= 3),
    then validation (``round(0.1 n)``, at least one when n >= 5), the rest train.  So every source with
    a few people has test people, the order does not depend on file or folder names, and a person's
    split depends only on who else is in that stratum.  A person in several strata (one key) gets the
    split of the first stratum (sorted by name) that holds them."""
    out = {}
    for name in sorted(strata):
        people = sorted(set(strata[name]) - set(out), key=lambda k: hashlib.sha256(k.encode()).hexdigest())
        n = len(people)
        n_test = max(round(fractions[2] * n), 1 if n >= 3 else 0)
        n_val = max(round(fractions[1] * n), 1 if n >= 5 else 0)
        for i, k in enumerate(people):
            out[k] = SPLITS.index("test") if i < n_test else SPLITS.index("val") if i < n_test + n_val else SPLITS.index("train")
    return out


def person_splits(timelines, split_key=None) -> dict:
    """{person key: split index} of ``timelines``: ``split_people`` over their sources (``stratum``);
    ``split_key(subject)`` names the person (default: the subject)."""
    key = split_key or (lambda s: s)
    strata = {}
    for tl in timelines:
        strata.setdefault(stratum(tl), []).append(key(tl.subject))
    return split_people(strata)


def stratum(tl: Timeline) -> str:
    """A timeline's source for stratified splits: its subject prefix (the layout), and ``+hr`` when it has
    heart rate (covid19 people with and without heart rate are split separately)."""
    hr = bool(np.isfinite(tl.values[:, schema.INDEX["heart_rate"]]).any())
    return tl.subject.split("-", 1)[0] + ("+hr" if hr else "")


class TimelineBuilder:
    """Accumulates minute rows per subject, averaging several readings that fall into one minute."""

    def __init__(self):
        self._rows: dict[str, dict[str, list]] = {}

    def add(self, subject: str, minutes: np.ndarray, channel: str, values: np.ndarray) -> None:
        d = self._rows.setdefault(subject, {})
        d.setdefault(channel, []).append((np.asarray(minutes, np.int64), np.asarray(values, np.float64)))

    def subjects(self):
        return sorted(self._rows)

    def build(self, label_channels=(), extra_channels=(), where: str = "") -> list[Timeline]:
        """One Timeline per subject from its first to its last minute with any data.  ``where``: the
        files read, named in an error."""
        out = []
        for subj in self.subjects():
            chans = {c: (np.concatenate([m for m, _ in parts]), np.concatenate([v for _, v in parts]))
                     for c, parts in self._rows[subj].items()}
            t0 = min(m.min() for m, _ in chans.values())
            T = int(max(m.max() for m, _ in chans.values()) - t0 + 1)
            check_span(subj, t0, T, where)
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


def check_span(subject: str, t0, T: int, where: str = "") -> None:
    """Refuse a timeline longer than MAX_TIMELINE_DAYS (a year typed wrong would allocate centuries)."""
    if T > MAX_TIMELINE_DAYS * 1440:
        start = np.int64(t0).astype("datetime64[m]")
        end = start + np.timedelta64(T - 1, "m")
        raise DataFormatError(f"{where + ': ' if where else ''}{subject}: readings from {start} to {end} "
                              f"({T / 1440:,.0f} days); expected one recording of at most {MAX_TIMELINE_DAYS} days "
                              f"(a corrupt timestamp?)")


def _minute_mean(idx: np.ndarray, v: np.ndarray, T: int) -> np.ndarray:
    s = np.bincount(idx, weights=v, minlength=T)
    n = np.bincount(idx, minlength=T)
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def write_dataset(timelines, out_dir, source: dict, min_observed: float = 0.2, split_key=None, extra=None,
                  stratified: bool = False) -> dict:
    """Write the timelines and their windows as a dataset folder; return the manifest.
    ``split_key(subject)``: the person (subjects sharing it share a split).  The split of a person is
    picked by a hash of that key (``assign_split``), or with ``stratified`` by ``split_people`` over the
    sources (``stratum``)."""
    w = DatasetWriter(out_dir, source)
    key = split_key or (lambda s: s)
    splits = person_splits(timelines, key) if stratified else None
    parts = []
    for tl in timelines:
        w.write_timeline(tl)
        k = key(tl.subject)
        parts.append(cut_windows(tl, split=splits[k] if stratified else assign_split(k), min_observed=min_observed))
    w.write_shard(0, Windows.concat(parts))
    return w.finish({"extra_channels": sorted({k for tl in timelines for k in tl.extras}),
                     "label_channels": sorted({k for tl in timelines for k in tl.labels}), **(extra or {})})
