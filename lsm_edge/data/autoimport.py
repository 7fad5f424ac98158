"""``lsm-edge data import DIR``: walk DIR at any depth and ask each layout which files are its own.

Each layout module owns its recogniser and its reader; this module only walks and asks:

    layout          recognised by                                         module
    fitabase        a folder holding heartrate_seconds_merged.csv ...     data/fitbit.py
    mmash           a folder holding Actigraph.csv (MMASH columns)        data/mmash.py
    agd             the SQLite header (ActiGraph ActiLife .agd)           data/agd.py
    motionwatch     XML with a <motionfile> root (CamNtech .mtn)          data/motionwatch.py
    actigraphy      the 7-line .AWD header (Actiwatch)                    data/actigraphy.py
    actiware        "Actiware" on line 1 and an epoch table (Philips)     data/actiware.py
    acttrust        a +---+ rule, KEY : value lines, a ; table (Condor)   data/acttrust.py
    tempatilumi     a header, then yyyy/m/d ; HH:MM:SS ; ... rows         data/tempatilumi.py
    daqtometer      label:,v,v settings with a Sum/Average row, ISO rows  data/daqtometer.py
    biobank         a CSV time,acc,... (biobankAccelerometerAnalysis)     data/biobank.py
    aw_fb           a CSV with the aw_fb columns                          data/awfb.py
    covid19         a CSV ,user,datetime,heartrate|steps                  data/covid19.py
    actiwatch_csv   a CSV timestamp,date,activity                         data/actiwatch.py
    long            a CSV subject,timestamp,feature,value, or Parquet     data/longform.py

Never from a file's name or folder: each layout looks at the file's bytes.  The device layouts
(agd ... biobank) fold their epochs onto minutes by the one rule of ``data/epochs.py``.

Folder layouts (``claim(folder, files)``) are asked first and take the files they name; every
other file is asked of the file layouts (``recognise(path)``) in the order above.  A layout's
``read(files)`` gets all of its files at once, so one person's files in several folders (two
Fitabase exports, an hr and a steps file) join into one timeline.  Tables may be ``.csv``,
``.csv.gz`` or one-file ``.zip``.  A file no layout recognises is skipped when it is documentation
(``.md``, ``.txt``, ``.pdf``, ``.json`` ...) or a layout's own side table (``is_sidecar``), and
refused otherwise, naming what was expected.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Protocol

from ..errors import DataFormatError
from . import (actigraphy, actiware, actiwatch, acttrust, agd, awfb, biobank, covid19, daqtometer, fitbit, longform,
               mmash, motionwatch, tempatilumi)


class FileLayout(Protocol):
    """What every file layout module provides (the device readers build a ``data.epochs.Recording`` and
    call ``epochs.to_timeline``; folder layouts provide ``claim(folder, files)`` instead of ``recognise``)."""

    NAME: str

    def recognise(self, path) -> bool: ...  # from the file's bytes, never its name; cheap; never raises

    def read(self, files, skip_malformed: bool = False) -> list: ...  # -> Timelines; DataFormatError on bad input


FOLDER_LAYOUTS = (fitbit, mmash)
FILE_LAYOUTS: tuple[FileLayout, ...] = (agd, motionwatch, actigraphy, actiware, acttrust, tempatilumi, daqtometer,
                                        biobank, awfb, covid19, actiwatch, longform)
DOCS = {".md", ".txt", ".pdf", ".rst", ".html", ".json", ".png", ".jpg"}
EXPECTED = ("a Fitabase export (" + ", ".join(fitbit.FILES) + "), an MMASH person folder (Actigraph.csv, RR.csv, "
            "Activity.csv), an actigraph export (Actiwatch .AWD, Actiware CSV, ActTrust .txt, ActiGraph .agd, "
            "MotionWatch .mtn, Tempatilumi .txt, Daqtometer .csv, biobankAccelerometerAnalysis time series), an "
            "aw_fb CSV (columns " + ", ".join(awfb.REQUIRED) + "), covid19 "
            "Fitbit minutes (,user,datetime,heartrate|steps), Actiwatch minutes (timestamp,date,activity) or a "
            "long-format table (columns " + ", ".join(longform.COLUMNS) + "); each .csv may be .csv.gz or a "
            "one-file .zip")
LABEL_NAMES = {"lab_activity": list(awfb.ACTIVITIES), "posture": list(agd.POSTURES), **mmash.LABEL_NAMES}


def find(folder) -> dict:
    """-> {layout name: [files]} of every recognised file under ``folder`` (any depth)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(f"{folder} is not a folder; expected a folder holding {EXPECTED}")
    found = {}
    for d, subdirs, names in os.walk(folder):
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
                raise DataFormatError(f"{p}: not a layout lsm-edge recognises; expected {EXPECTED}")
    if not found:
        raise DataFormatError(f"{folder} holds no data file; expected {EXPECTED}")
    return found


def read_any(folder, skip_malformed: bool = False) -> tuple[list, dict]:
    """-> (timelines, {layout: [files]}) of every recognised file under ``folder``."""
    found = find(folder)
    layouts = {lay.NAME: lay for lay in FOLDER_LAYOUTS + FILE_LAYOUTS}
    timelines = [tl for name, files in found.items() for tl in layouts[name].read(files, skip_malformed)]
    seen = Counter(tl.subject for tl in timelines)
    for tl in timelines:  # one subject id in two device files (two recordings of a person): told apart by file
        if seen[tl.subject] > 1 and tl.meta.get("file"):
            tl.subject = f"{tl.subject}-{Path(tl.meta['file']).stem}"
    return timelines, {k: [str(p) for p in v] for k, v in found.items()}


def split_key(subject: str) -> str:
    """Subjects that must share a split: both devices of one aw_fb participant."""
    return awfb.split_group(subject) if subject.startswith("awfb-") else subject
