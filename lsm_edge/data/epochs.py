"""Device epochs onto the minute grid, and one device recording -> one Timeline.

Every actigraph reader (``.AWD``, Actiware, ActTrust, ``.agd``, MotionWatch, Tempatilumi, Daqtometer,
biobankAccelerometerAnalysis) hands a :class:`Recording` to :func:`to_timeline`: the epochs as the
device stored them (start of each, length, one value per channel), and how each channel folds.

**The minute rule** (one rule for every epoch length, 1 s to 5 min, aligned to the minute or not):
an epoch covering ``[a, a + e)`` seconds gives each minute it overlaps the share of its time inside
that minute.  A minute is observed when the epochs with a value cover at least ``MIN_COVERED`` (30)
of its 60 seconds; otherwise it is missing.

- ``sum`` channels (activity counts, steps): minute = sum of value x overlap / e over its epochs.
  Fully covered minutes are the plain sum of their epochs (four 15-s counts add up); a 5-minute epoch
  gives each of its minutes a fifth.  **A minute covered 30-59 s keeps what was counted** and is not
  scaled up to a whole minute: an importer reports what the device recorded, so a file's total and the
  imported total are the same number, and an estimate of the missing seconds is the model's job, not
  the reader's.  Such a minute is *partial*: the timeline then carries the extra ``covered_s`` (seconds
  of each minute the device recorded, 0-60), its meta ``partial_minutes``, and `data import` lists the
  count beside the recording.
- ``mean`` channels (light, temperature, mean acceleration): minute = mean of its epochs' values
  weighted by overlap.

**Schema slots** (``lsm_edge.schema``): the activity channel, whatever its device unit, is written as
``log_energy = ln(1 + activity per minute)`` and kept raw as an extra channel in its own unit
(``Recording.activity_name``, with the unit in ``Timeline.meta["units"]``); skin / wrist
temperature in degC -> ``skin_temperature`` (readings outside its valid 15-45 degC, such as a watch
on the table at room temperature overnight, stay in the extra ``temperature_raw`` and are missing in
the slot); steps -> ``step_count`` (over 300 / min: missing); light (lux) -> the extra ``light``.  Counts of two devices share
the ``log_energy`` slot but not a scale: ``evaluate-real`` scores each device family on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .. import schema
from ..errors import DataFormatError
from .importing import check_span
from .textio import stem
from .windows import NO_LABEL, Timeline

MIN_COVERED = 30.0  # seconds of a minute the epochs must cover for the minute to be observed
SCHEMA_SLOTS = {"skin_temperature", "step_count", "heart_rate", "on_wrist"}
_UNSAFE = re.compile(r"[^\w.-]+")


@dataclass
class Recording:
    """One file's epochs as the device stored them.

    start: datetime64[s] of the first epoch.  offsets: [n] seconds of each epoch's start after
    ``start`` (regular epochs: ``k * epoch_s``).  channels: name -> (values [n] float, NaN missing,
    ``"sum"`` or ``"mean"``, unit).  ``"activity"`` is the device's activity channel; labels: name ->
    [n] integer per epoch (the label of a minute is the one its first epoch carries).  ``lengths``: each
    epoch's seconds where they are not all ``epoch_s`` (the parts of an epoch an event split)."""

    path: str
    subject: str
    device: str
    start: np.datetime64
    epoch_s: float
    offsets: np.ndarray
    channels: dict
    activity_name: str = "activity_counts"
    labels: dict = field(default_factory=dict)
    lengths: np.ndarray | None = None  # [n] seconds of each epoch when they differ (split epochs), else None


def regular(n: int, epoch_s: float) -> np.ndarray:
    return np.arange(n, dtype=np.float64) * epoch_s


def at(secs: np.ndarray) -> tuple[np.datetime64, np.ndarray]:
    """Rows' times (seconds since 1970) -> (``start``, ``offsets``) of a Recording: the first row's whole
    second, and every row's seconds after it."""
    s0 = np.floor(secs[0])
    return np.datetime64(int(s0), "s"), np.asarray(secs, np.float64) - s0


def subject_id(prefix: str, name: str, path) -> str:
    """``<prefix>-<name>``, the name's runs of characters other than letters, digits, ``.`` and ``-`` as ``_``
    (the file's stem when the export names nobody)."""
    return f"{prefix}-" + (_UNSAFE.sub("_", name or "") or stem(path))


def fold(offsets: np.ndarray, epoch_s, values: np.ndarray, how: str, minutes: int,
         with_cover: bool = False):
    """Epochs -> ``minutes`` minute values (NaN = not observed) by the rule above.  ``offsets``: seconds
    of each epoch's start after minute 0 begins; ``epoch_s``: one length, or one per epoch (a split
    epoch's parts).  With ``with_cover`` -> (values, seconds of each minute covered by epochs with a value)."""
    v = np.asarray(values, np.float64)
    a = np.asarray(offsets, np.float64)
    e = np.broadcast_to(np.asarray(epoch_s, np.float64), a.shape)
    ok = np.isfinite(v)
    a, v, e = a[ok], v[ok], e[ok]
    cov, acc = np.zeros(minutes), np.zeros(minutes)
    m0 = np.floor(a / 60).astype(np.int64)
    for k in range(int(np.ceil(e.max(initial=60) / 60)) + 1):  # the minutes an epoch can touch
        m = m0 + k
        lo, hi = np.maximum(a, m * 60.0), np.minimum(a + e, (m + 1) * 60.0)
        w = np.clip(hi - lo, 0, None)
        sel = (w > 0) & (m < minutes)
        cov += np.bincount(m[sel], weights=w[sel], minlength=minutes)
        share = w[sel] / e[sel] if how == "sum" else w[sel]
        acc += np.bincount(m[sel], weights=v[sel] * share, minlength=minutes)
    observed = cov >= MIN_COVERED - 1e-9
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(observed, acc if how == "sum" else acc / cov, np.nan)
    return (out, np.minimum(cov, 60.0)) if with_cover else out


def to_timeline(rec: Recording) -> Timeline:
    """One recording -> one Timeline on the minute grid (minute 0 = the minute of the first epoch)."""
    if not len(rec.offsets):
        raise DataFormatError(f"{rec.path}: no epochs; expected at least one row of data")
    start_s = rec.start.astype("datetime64[s]").astype(np.int64)
    t0 = (start_s // 60) * 60
    offsets = rec.offsets + (start_s - t0)
    lengths = rec.epoch_s if rec.lengths is None else rec.lengths
    minutes = int(np.floor(((offsets + lengths).max() - 1e-9) / 60)) + 1
    check_span(rec.subject, np.int64(t0 // 60), minutes, rec.path)
    values = np.full((minutes, schema.N_FEATURES), np.nan, np.float32)
    extras, units = {}, {}
    partial = 0
    for name, (v, how, unit) in rec.channels.items():
        per_min, cover = fold(offsets, lengths, v, how, minutes, True)
        per_min = per_min.astype(np.float32)
        if name == "activity":
            part = np.isfinite(per_min) & (cover < 60 - 1e-6)
            if how == "sum" and part.any():  # counts as recorded in minutes the device covered 30-59 s (the rule above)
                partial = int(part.sum())
                extras["covered_s"], units["covered_s"] = cover.astype(np.float32), "s"
            values[:, schema.INDEX["log_energy"]] = np.log1p(per_min)
            extras[rec.activity_name], units[rec.activity_name] = per_min, unit
        elif name in SCHEMA_SLOTS:  # a reading outside the slot's valid range is missing there
            f = schema.FEATURES[schema.INDEX[name]]
            values[:, schema.INDEX[name]] = np.where((per_min >= f.valid_min) & (per_min <= f.valid_max), per_min, np.nan)
            if name == "skin_temperature":
                extras["temperature_raw"], units["temperature_raw"] = per_min, unit
        else:
            extras[name], units[name] = per_min, unit
    labels = {name: label_minutes(offsets, rec.epoch_s, lab, minutes) for name, lab in rec.labels.items()}
    meta = {"file": rec.path, "device": rec.device, "epoch_s": rec.epoch_s,
            "channels": sorted(list(rec.channels) + list(rec.labels)), "units": units,
            "partial_minutes": partial}
    return Timeline(rec.subject, np.int64(t0 // 60).astype("datetime64[m]"), values, extras, labels, meta)


def label_minutes(offsets: np.ndarray, epoch_s: float, lab, minutes: int) -> np.ndarray:
    """Epoch labels -> ``[minutes]`` int16 (NO_LABEL where none): a minute takes the label of the first epoch
    that starts in it, or, where none starts in it (epochs longer than a minute), of the epoch covering it."""
    lab = np.asarray(lab)
    out = np.full(minutes, NO_LABEL, np.int16)
    starts = np.floor(offsets / 60).astype(np.int64)
    if epoch_s > 60:  # the minutes after an epoch's first one, latest epoch first so that earlier ones win
        for i in np.argsort(-offsets, kind="stable"):
            lo, hi = starts[i] + 1, int(np.ceil((offsets[i] + epoch_s) / 60 - 1e-9))
            out[lo:min(hi, minutes)] = lab[i]
    _, first = np.unique(starts, return_index=True)  # the first epoch starting in each minute
    out[starts[first]] = lab[first]
    return out


def check_order(path, offsets: np.ndarray, lines, errors) -> np.ndarray:
    """Rows whose time does not come after the row before (a repeated or earlier timestamp) are
    reported with their line and dropped -> the mask of rows kept; the time axis is never shifted."""
    keep = np.ones(len(offsets), bool)
    last = -np.inf
    for i, t in enumerate(offsets):
        if t <= last:
            errors.add(path, lines[i], f"time {t - last:+g} s after the row before; expected rows in time order, "
                                       f"one per epoch")
            keep[i] = False
        else:
            last = t
    return keep


def kept_rows(path, secs, ok: np.ndarray, lines, errors, skip_malformed: bool) -> tuple[np.ndarray, np.ndarray]:
    """What every reader does once its rows are parsed: undo daylight-saving clock changes
    (``clock_changes``), drop the rows out of time order (each reported, ``check_order``), raise or report
    the malformed rows, refuse a file with no row left -> (the rows kept, every row's time).  ``secs``: each
    row's time in seconds (local clock); ``ok``: the rows that parsed; ``lines``: their line numbers."""
    ok = np.array(ok, bool)
    idx = np.flatnonzero(ok)
    secs = np.array(secs, np.float64)
    secs[idx] = clock_changes(secs[idx])
    ok[idx] = check_order(path, secs[idx], [lines[i] for i in idx], errors)
    errors.raise_or_report(skip_malformed)
    if not ok.any():
        raise DataFormatError(f"{path}: no valid epoch rows")
    return ok, secs


def clock_changes(secs: np.ndarray) -> np.ndarray:
    """Local clock times of a device that stored one epoch after another -> times without daylight-saving
    jumps.  A step of one epoch minus an hour (the clock falls back and repeats an hour) or plus an hour
    (it springs forward) onto a whole hour between 01:00 and 03:00 (where clocks change) is one epoch: every
    later row moves by the hour, so no epoch is dropped as out of order and no hour is invented as missing.
    Any other step is left as it is."""
    secs = np.asarray(secs, np.float64).copy()
    if len(secs) < 3:
        return secs
    d = np.diff(secs)
    e = np.median(d)
    lands = secs[1:] % 86400
    jump = np.flatnonzero(np.isin(d, (e - 3600, e + 3600)) & np.isin(lands, (3600, 7200, 10800)))
    for i in jump:
        secs[i + 1:] += e - d[i]
    return secs


def step(secs, default: float) -> float:
    """The epoch from the rows' times: their median step (``default`` for a single row)."""
    return float(np.median(np.diff(secs))) if len(secs) > 1 else float(default)


def clock(y: int, mo: int, d: int, h: int, mi: int, s: int):
    """Seconds since 1970 of a calendar date and clock time; None when either is not one."""
    if h > 23 or mi > 59 or s > 59:
        return None
    try:
        day = int(np.datetime64(f"{y:04d}-{mo:02d}-{d:02d}", "D").astype(np.int64))
    except ValueError:
        return None
    return day * 86400 + h * 3600 + mi * 60 + s
