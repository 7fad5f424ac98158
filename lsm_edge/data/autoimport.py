"""``lsm-edge data import DIR``: walk DIR at any depth and ask each layout which files are its own.

Each layout module owns its recogniser and its reader; this module only walks and asks:

    layout          recognised by                                         module
    fitabase        a folder holding heartrate_seconds_merged.csv ...     data/fitabase.py
    mmash           a folder holding Actigraph.csv (MMASH columns)        data/mmash.py
    agd             the SQLite header (ActiGraph ActiLife .agd)           data/agd.py
    motionwatch     XML with a <motionfile> root (CamNtech .mtn)          data/motionwatch.py
    actigraphy      the 7-line .AWD header (Actiwatch)                    data/awd.py
    actiware        "Actiware" on line 1 and an epoch table (Philips)     data/actiware.py
    acttrust        a +---+ rule, KEY : value lines, a ; table (Condor)   data/acttrust.py
    tempatilumi     a header, then yyyy/m/d ; HH:MM:SS ; ... rows         data/tempatilumi.py
    daqtometer      label:,v,v settings with a Sum/Average row, ISO rows  data/daqtometer.py
    biobank         a CSV time,acc,... (biobankAccelerometerAnalysis)     data/biobank.py
    aw_fb           a CSV with the aw_fb columns                          data/awfb.py
    cgmacros        a CSV with Timestamp, HR and Libre GL / Dexcom GL     data/cgmacros.py
    garmin5min      a CSV with sleep_ts and heart_rate (T1D-UOM)          data/garmin5min.py
    covid19         a CSV ,user,datetime,heartrate|steps                  data/covid19.py
    actiwatch_csv   a CSV timestamp,date,activity                         data/minutecounts.py
    long            a CSV subject,timestamp,feature,value, or Parquet     data/longform.py

Never from a file's name or folder: each layout looks at the file's bytes.  The device layouts
(agd ... biobank) fold their epochs onto minutes by the one rule of ``data/epochs.py``.

Folder layouts (``claim(folder, files)``) are asked first and take the files they name; every
other file is asked of the file layouts (``recognise(path)``) in the order above.  A layout's
``read(files)`` gets all of its files at once, so one person's files in several folders (two
Fitabase exports, an hr and a steps file) join into one timeline.  Tables may be ``.csv``,
``.csv.gz`` or one-file ``.zip``.  A file no layout recognises is passed over quietly when it is
documentation (``.md``, ``.txt``, ``.pdf``, ``.json`` ...) or a layout's own side table
(``is_sidecar``).  Any other such file (a user's research folder holds notes, exports of other tools,
files of formats lsm-edge does not read) is listed with its reason -- empty, or not a layout
lsm-edge recognises -- and the rest is imported; with ``strict`` it is refused instead.  A folder
where nothing is recognised is refused, naming what was expected.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Protocol

from ..errors import DataFormatError
from . import (actiware, acttrust, agd, awd, awfb, biobank, cgmacros, covid19, daqtometer, fitabase,
               garmin5min, longform, minutecounts, mmash, motionwatch, tempatilumi)


class FileLayout(Protocol):
    """What every file layout module provides (the device readers build a ``data.epochs.Recording`` and
    call ``epochs.to_timeline``; folder layouts provide ``claim(folder, files)`` instead of ``recognise``)."""

    NAME: str

    def recognise(self, path) -> bool: ...  # from the file's bytes, never its name; cheap; never raises

    def read(self, files, skip_malformed: bool = False) -> list: ...  # -> Timelines; DataFormatError on bad input


FOLDER_LAYOUTS = (fitabase, mmash)
FILE_LAYOUTS: tuple[FileLayout, ...] = (agd, motionwatch, awd, actiware, acttrust, tempatilumi, daqtometer,
                                        biobank, awfb, cgmacros, garmin5min, covid19, minutecounts, longform)
LAYOUTS = {lay.NAME: lay for lay in FOLDER_LAYOUTS + FILE_LAYOUTS}  # by the name the manifest gives them
DOCS = {".md", ".txt", ".pdf", ".rst", ".html", ".json", ".png", ".jpg"}
EXPECTED = ("a Fitabase export (" + ", ".join(fitabase.FILES) + "), an MMASH person folder (Actigraph.csv, RR.csv, "
            "Activity.csv), an actigraph export (Actiwatch .AWD, Actiware CSV, ActTrust .txt, ActiGraph .agd, "
            "MotionWatch .mtn, Tempatilumi .txt, Daqtometer .csv, biobankAccelerometerAnalysis time series), an "
            "aw_fb CSV (columns " + ", ".join(awfb.REQUIRED) + "), a CGMacros table (Timestamp, HR, Libre GL / "
            "Dexcom GL), a Garmin 5-minute export (sleep_ts, heart_rate, ...), covid19 "
            "Fitbit minutes (,user,datetime,heartrate|steps), Actiwatch minutes (timestamp,date,activity) or a "
            "long-format table (columns " + ", ".join(longform.COLUMNS) + "); each .csv may be .csv.gz or a "
            "one-file .zip")
LABEL_NAMES = {"lab_activity": list(awfb.ACTIVITIES), "posture": list(agd.POSTURES), **mmash.LABEL_NAMES,
               **cgmacros.LABEL_NAMES}
PERSON_LABEL_NAMES = {**cgmacros.PERSON_LABEL_NAMES, **minutecounts.PERSON_LABEL_NAMES}
UNKNOWN = "not a layout lsm-edge recognises"


def scan(folder) -> tuple[dict, list]:
    """-> ({layout name: [files]} of every recognised file under ``folder`` (any depth), [(file, reason)] of
    every other file that is neither documentation nor a layout's side table)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(f"{folder} is not a folder; expected a folder holding {EXPECTED}")
    found, other, seen = {}, [], set()
    for d, subdirs, names in os.walk(folder, followlinks=True):  # a linked data set is read; a link loop once
        real = os.path.realpath(d)
        if real in seen:
            subdirs[:] = []
            continue
        seen.add(real)
        subdirs[:] = sorted(s for s in subdirs if not s.startswith("."))
        files = [Path(d) / n for n in sorted(names) if not n.startswith(".")]
        taken = set()
        for layout in FOLDER_LAYOUTS:
            mine = [p for p in layout.claim(d, files) if p not in taken]
            if mine:
                found.setdefault(layout.NAME, []).extend(mine)
                taken.update(mine)
        for p in files:
            if p in taken:
                continue
            layout = next((lay for lay in FILE_LAYOUTS if lay.recognise(p)), None)
            if layout is not None:
                found.setdefault(layout.NAME, []).append(p)
            elif p.suffix.lower() not in DOCS and not any(getattr(lay, "is_sidecar", lambda _: False)(p)
                                                           for lay in FILE_LAYOUTS):
                other.append((p, "empty file" if _empty(p) else UNKNOWN))
    return found, other


def _empty(p: Path) -> bool:
    try:
        return p.stat().st_size == 0
    except OSError:
        return False


def find(folder, strict: bool = False, report=None) -> dict:
    """-> {layout name: [files]} of every recognised file under ``folder`` (any depth).  Every other file
    (``scan``) is passed to ``report(file, reason)`` (default: printed on stderr), or with ``strict`` refused."""
    found, other = scan(folder)
    if other and (strict or not found):
        p, why = other[0]
        more = f" (and {len(other) - 1} other file(s) not read)" if len(other) > 1 else ""
        raise DataFormatError(f"{p}: {why}{more}; expected {EXPECTED}")
    if not found:
        raise DataFormatError(f"{folder} holds no data file; expected {EXPECTED}")
    for p, why in other:
        (report or _print_skipped)(p, why)
    return found


def _print_skipped(path, why: str) -> None:
    print(f"lsm-edge: not read: {path}: {why}", file=sys.stderr)


def read_any(folder, skip_malformed: bool = False, strict: bool = False, report=None) -> tuple[list, dict]:
    """-> (timelines, {layout: [files]}) of every recognised file under ``folder`` (``find``: other files are
    reported, or with ``strict`` refused)."""
    found = find(folder, strict, report)
    timelines = [tl for name, files in found.items() for tl in LAYOUTS[name].read(files, skip_malformed)]
    return _distinct(timelines), {k: [str(p) for p in v] for k, v in found.items()}


def _distinct(timelines: list) -> list:
    """One subject id in two device files (two recordings of a person): told apart by file."""
    seen = Counter(tl.subject for tl in timelines)
    for tl in timelines:
        if seen[tl.subject] > 1 and tl.meta.get("file"):
            tl.subject = f"{tl.subject}-{Path(tl.meta['file']).stem}"
    return timelines


def read_each(folder, skip_malformed: bool = False, report=None, bad=None) -> tuple[list, dict]:
    """``read_any`` that keeps going past a bad file: a layout whose files fail together is read file by file, and
    each file that still fails goes to ``bad(file, error message)`` (default: printed on stderr) while the
    others are read.  -> (timelines, {layout: [files]})."""
    found = find(folder, False, report)
    timelines = []
    for name, files in found.items():
        try:
            timelines += LAYOUTS[name].read(files, skip_malformed)
        except DataFormatError:
            for f in files:
                try:
                    timelines += LAYOUTS[name].read([f], skip_malformed)
                except DataFormatError as e:
                    (bad or _print_bad)(f, str(e))
    return _distinct(timelines), {k: [str(p) for p in v] for k, v in found.items()}


def _print_bad(path, why: str) -> None:
    print(f"lsm-edge: not read: {why}", file=sys.stderr)


def person_labels(found: dict) -> dict:
    """{subject: {label: value}}: the person-level labels of the layouts in ``found`` ({layout: [files]}) that
    keep them in a participant table beside their files (CGMacros' HbA1c from ``bio.csv``)."""
    out = {}
    for lay in FILE_LAYOUTS:
        if lay.NAME in found and hasattr(lay, "person_labels"):
            out.update(lay.person_labels(found[lay.NAME]))
    return out


def split_key(subject: str) -> str:
    """Subjects that must share a split: both devices of one aw_fb participant."""
    return awfb.split_group(subject) if subject.startswith("awfb-") else subject
