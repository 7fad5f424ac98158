"""Fill people's whole recordings (``lsm-edge fill``): sliding 300-minute windows, stitched, long gaps left.

**Windows.**  A window starts every ``stride`` minutes, and one more ends at the recording's last minute, so
every minute lies in at least one window (a recording shorter than a window is padded with missing minutes).
Each window goes through the model as it is recorded: raw units, NaN where nothing was recorded.

**Stitching: the centre-most window.**  A minute's fill comes from the window in which it lies farthest from
both edges (ties: the earlier window).  Why: at a window's edge a minute is extrapolated from one side only,
and every model here extrapolates worse than it interpolates (``evaluate-real``: at each span the
extrapolation MAE is above the interpolation MAE).  With the default stride of 60 minutes, every minute at
least 120 minutes from the recording's ends is filled with at least 120 minutes of context on both sides.
A window is run only when it owns a minute to fill.

**Gaps.**  For each channel, a run of missing minutes longer than ``max_gap`` is left missing and reported:
filling ten hours of an unworn band is not data.  The default, 120 minutes, is the longest span
``evaluate-real`` scores (nothing longer is measured).  A channel the recording never observes is not filled.
Observed cells come back unchanged.

**Output** (per person, in ``out``): ``<person>.csv`` and ``<person>.parquet`` on the recording's own clock
(``time``), each channel in its unit (activity counts as counts per minute, not the model's log energy) with
a flag column ``<channel>_flag``: ``observed``, ``filled`` or ``missing``; ``<person>.png``, the day with
the most filling; and for everyone ``summary.csv`` / ``summary.md``: minutes observed, filled and left
missing per person and channel, and the gaps left.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import schema
from ..core.probes import model_function
from ..core.scoring import CHANNELS, to_unit
from ..data.autoimport import read_each
from ..errors import LsmEdgeError
from ..io import atomic_path, atomic_write_text

W = schema.WINDOW_MINUTES
DEFAULT_STRIDE = 60
DEFAULT_MAX_GAP = 120
OBSERVED, FILLED, MISSING = 0, 1, 2
FLAGS = ("observed", "filled", "missing")
COLUMN = {"log_energy": "activity_counts"}  # the output column of a channel the model sees in another unit


def window_starts(minutes: int, stride: int) -> np.ndarray:
    """Starts of the windows covering ``minutes`` minutes: every ``stride``, and one ending at the last minute."""
    if minutes <= W:
        return np.array([0])
    starts = list(range(0, minutes - W + 1, stride))
    if starts[-1] != minutes - W:
        starts.append(minutes - W)
    return np.array(starts)


def owners(minutes: int, starts: np.ndarray) -> np.ndarray:
    """[minutes] the index (into the sorted ``starts``) of the window each minute's fill comes from: the one in
    which the minute lies farthest from both edges; ties go to the earlier window.  A window's depth at minute t
    peaks where it starts at t - (W - 1) / 2, so the best is one of the two starts nearest that point."""
    t = np.arange(minutes)
    hi = np.searchsorted(starts, t - (W - 1) / 2).clip(0, len(starts) - 1)
    cand = np.stack([(hi - 1).clip(0), hi], 1)  # [minutes, 2], the earlier first
    s, tt = starts[cand], t[:, None]
    depth = np.where((tt >= s) & (tt < s + W), np.minimum(tt - s, s + W - 1 - tt), -1)
    return cand[t, depth.argmax(1)]


def gaps(missing: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of every run of True in ``missing`` [T]."""
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), (ends - starts).tolist()))


def fill_values(values: np.ndarray, impute, channels, stride: int = DEFAULT_STRIDE,
                max_gap: int = DEFAULT_MAX_GAP, clip: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """values: [T, 26] raw units, NaN missing; impute: [n, 300, 26] -> filled (the app runtime's contract);
    channels: schema names.  -> (values with the fillable cells of ``channels`` filled, flags [T, len(channels)]
    of OBSERVED / FILLED / MISSING).  Cells of other channels and observed cells are returned unchanged; a filled
    cell is clipped to its feature's valid range (schema.py; log energy, ln(1 + counts), to at least 0) unless
    ``clip`` is off (benchmarks/fill.py measures what the clipping changes)."""
    minutes = len(values)
    cols = [schema.INDEX[c] for c in channels]
    missing = np.isnan(values[:, cols])
    flags = np.where(missing, MISSING, OBSERVED).astype(np.int8)
    todo = np.zeros_like(missing)
    for k in range(len(cols)):
        if missing[:, k].all():
            continue  # never observed: nothing to fill from
        for a, n in gaps(missing[:, k]):
            if n <= max_gap:
                todo[a:a + n, k] = True
    # a filled cell stays in its feature's valid range; log energy is ln(1 + counts) here, so never below 0
    bounds = [(max(schema.FEATURES[c].valid_min, 0) if schema.FEATURES[c].name == "log_energy"
               else schema.FEATURES[c].valid_min, schema.FEATURES[c].valid_max) if clip else (-np.inf, np.inf)
              for c in cols]
    out = values.copy()
    if not todo.any():
        return out, flags
    padded = np.full((max(minutes, W), values.shape[1]), np.nan, np.float32)
    padded[:minutes] = values
    starts = window_starts(minutes, stride)
    owner = owners(minutes, starts)
    needed = np.unique(owner[todo.any(1)])
    needed = [i for i in needed if np.isfinite(padded[starts[i]:starts[i] + W]).any()]
    for b in range(0, len(needed), 64):
        idx = needed[b:b + 64]
        filled = impute(np.stack([padded[starts[i]:starts[i] + W] for i in idx]))
        for i, f in zip(idx, filled):
            span = slice(starts[i], min(starts[i] + W, minutes))  # the window's minutes, within the recording
            mine = owner[span] == i
            for k, c in enumerate(cols):
                cells = mine & todo[span, k]
                out[span, c][cells] = np.clip(f[:len(mine), c][cells], *bounds[k])  # never -2 steps
                flags[span, k][cells] = FILLED
    return out, flags


def read_source(source, bad, skip_malformed: bool = False) -> list:
    """Timelines of a folder of recordings, or of an imported dataset (read again from the folder it was
    imported from: a dataset keeps windows, not whole recordings)."""
    source = Path(source)
    if (source / "dataset.json").is_file():
        origin = json.loads((source / "dataset.json").read_text()).get("source", {}).get("path")
        if not origin or not Path(origin).is_dir():
            raise LsmEdgeError(f"{source} is an imported dataset whose recordings are not at hand (its source: "
                               f"{origin!r}); give the folder of recordings instead")
        source = Path(origin)
    return read_each(source, skip_malformed, bad=bad)[0]


def fill(source, model, out, channels=None, stride: int = DEFAULT_STRIDE, max_gap: int = DEFAULT_MAX_GAP,
         skip_malformed: bool = False, progress: bool = True) -> dict:
    """Fill every person's whole recording in ``source`` with ``model`` (see the module's docstring; the options
    are checked by ``lsm_edge.api.fill``) and write the files per person and the summary to ``out``
    -> {"people": {person: {channel: counts}}, "not_read": [...]}."""
    not_read = []
    timelines = read_source(source, lambda f, why: not_read.append([str(f), why]), skip_malformed)
    impute = model_function(model, "impute")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    people = {}
    for tl in tqdm(timelines, desc="filling", unit="person", disable=not progress):
        chans = [c for c in (channels or CHANNELS) if np.isfinite(tl.values[:, schema.INDEX[c]]).any()]
        if not chans:
            people[tl.subject] = {}
            continue
        filled, flags = fill_values(tl.values, impute, chans, stride, max_gap)
        people[tl.subject] = {c: _counts(flags[:, k]) for k, c in enumerate(chans)}
        _write_person(out, tl, filled, flags, chans)
    atomic_write_text(out / "summary.md", summary_markdown(people, model, stride, max_gap, not_read))
    head = ["observed", "filled", "missing", "gaps_left", "longest_gap_left"]
    rows = [f"{p},{c}," + ",".join(str(v[h]) for h in head) for p, chans in people.items() for c, v in chans.items()]
    atomic_write_text(out / "summary.csv", "\n".join(["person,channel," + ",".join(head), *rows]) + "\n")
    return {"people": people, "not_read": not_read}


def _counts(flags: np.ndarray) -> dict:
    left = [n for _, n in gaps(flags == MISSING)]
    return {"observed": int((flags == OBSERVED).sum()), "filled": int((flags == FILLED).sum()),
            "missing": int((flags == MISSING).sum()), "gaps_left": len(left), "longest_gap_left": max(left, default=0)}


def person_table(tl, filled: np.ndarray, flags: np.ndarray, channels) -> dict:
    """{column: values} of one person's output: ``time`` on the recording's clock, then each channel in its unit
    and its flag."""
    cols = {"time": (tl.start + np.arange(tl.minutes).astype("timedelta64[m]")).astype(str)}
    for k, c in enumerate(channels):
        cols[COLUMN.get(c, c)] = to_unit(c, filled[:, schema.INDEX[c]])
        cols[f"{COLUMN.get(c, c)}_flag"] = np.array(FLAGS)[flags[:, k]]
    return cols


def _write_person(out: Path, tl, filled, flags, channels) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pa.table(person_table(tl, filled, flags, channels))
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in tl.subject)
    with atomic_path(out / f"{name}.csv") as tmp:
        pacsv.write_csv(table, tmp)
    with atomic_path(out / f"{name}.parquet") as tmp:
        pq.write_table(table, tmp)
    if (flags == FILLED).any():
        plot_day(tl, filled, flags, channels, out / f"{name}.png")


def plot_day(tl, filled: np.ndarray, flags: np.ndarray, channels, path) -> None:
    """The calendar day (on the recording's clock) with the most filled cells: each channel observed (line) and
    filled (dots)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clock = tl.start + np.arange(tl.minutes).astype("timedelta64[m]")
    day0 = tl.start.astype("datetime64[D]")
    day = (clock.astype("datetime64[D]") - day0).astype(int)
    best = np.bincount(day, weights=(flags == FILLED).sum(1)).argmax()
    sel = day == best
    hours = (clock[sel] - (day0 + best)).astype("timedelta64[m]").astype(int) / 60
    fig, axes = plt.subplots(len(channels), 1, figsize=(11, 2.2 * len(channels)), sharex=True, squeeze=False)
    for ax, (k, c) in zip(axes[:, 0], enumerate(channels)):
        v = to_unit(c, filled[sel, schema.INDEX[c]])
        f = flags[sel, k]
        ax.plot(hours, np.where(f == OBSERVED, v, np.nan), lw=0.8, color="C0", label="observed")
        ax.scatter(hours[f == FILLED], v[f == FILLED], s=3, color="C3", label="filled", zorder=3)
        ax.set_ylabel(f"{CHANNELS[c][0]}\n({CHANNELS[c][1]})", fontsize=8)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("hour of the day")
    axes[0, 0].set_title(f"{tl.subject}, {day0 + best}: the day with the most filling", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def summary_markdown(people: dict, model, stride: int, max_gap: int, not_read: list) -> str:
    lines = [f"# Filled with `{model}`", "",
             f"Windows of {W} minutes every {stride} minutes, each minute's fill from its centre-most window; gaps "
             f"longer than {max_gap} minutes left missing. Minutes per person and channel:", "",
             "| person | channel | observed | filled | left missing | gaps left | longest gap left (min) |",
             "|---|---|---|---|---|---|---|"]
    for p, chans in people.items():
        if not chans:
            lines.append(f"| {p} | (none of {', '.join(CHANNELS)} recorded) | | | | | |")
        for c, v in chans.items():
            lines.append(f"| {p} | {CHANNELS[c][0]} ({CHANNELS[c][1]}) | {v['observed']:,} | {v['filled']:,} | "
                         f"{v['missing']:,} | {v['gaps_left']:,} | {v['longest_gap_left']:,} |")
    for f, why in not_read:
        lines += ["", f"Not read: {why}"]
    return "\n".join(lines) + "\n"
