"""``lsm-edge data import DIR``: recognise each layout in DIR by its files and columns.

    DIR/heartrate_seconds_merged.csv ...   Fitabase export          (data/fitbit.py)
    DIR/*.AWD                              CNT actigraphy           (data/actigraphy.py)
    DIR/*.csv with the aw_fb columns       labelled minute rows     (data/awfb.py)
    DIR/*.csv|parquet subject,timestamp,feature,value   long format  (data/longform.py)

DIR itself and its direct sub-folders are searched (so a folder laid out like
../shared/data/real/ imports in one go).  Documentation files (``.md``, ``.txt``, ``.pdf``) are
skipped; any other file that matches no layout is refused, naming what was expected.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import DataFormatError
from . import actigraphy, awfb, fitbit, longform

DOCS = {".md", ".txt", ".pdf", ".rst", ".html"}
EXPECTED = ("a Fitabase export (" + ", ".join(fitbit.FILES) + "), .AWD actigraphy, an aw_fb CSV (columns "
            + ", ".join(awfb.REQUIRED) + ") or a long-format table (columns " + ", ".join(longform.COLUMNS) + ")")


def _is_long(path: Path) -> bool:
    if path.suffix.lower() == ".parquet":
        return True
    if path.suffix.lower() != ".csv":
        return False
    with open(path, newline="", encoding="utf-8-sig") as f:
        return tuple(c.strip() for c in next(csv.reader(f), [])) == longform.COLUMNS


def read_any(folder, skip_malformed: bool = False) -> tuple[list, dict]:
    """-> (timelines, {layout: [files]}) of every recognised file under ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(f"{folder} is not a folder; expected a folder holding {EXPECTED}")
    timelines, found = [], {}
    for d in [folder] + sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
        fitabase = [p for p in files if p.name in fitbit.FILES]
        if fitabase:
            timelines += fitbit.read_fitabase(d, skip_malformed)
            found.setdefault("fitabase", []).extend(map(str, fitabase))
        for p in files:
            if p in fitabase or p.suffix.lower() in DOCS:
                continue
            if actigraphy.is_awd(p):
                timelines.append(actigraphy.read_awd(p, skip_malformed))
                found.setdefault("actigraphy", []).append(str(p))
            elif awfb.is_awfb(p):
                timelines += awfb.read_awfb(p, skip_malformed)
                found.setdefault("aw_fb", []).append(str(p))
            elif _is_long(p):
                timelines += longform.read_long(p, skip_malformed)
                found.setdefault("long", []).append(str(p))
            else:
                raise DataFormatError(f"{p}: not a layout lsm-edge recognises; expected {EXPECTED}")
    if not timelines:
        raise DataFormatError(f"{folder} holds no data file; expected {EXPECTED}")
    return timelines, found


def split_key(subject: str) -> str:
    """Subjects that must share a split: both devices of one aw_fb participant."""
    return awfb.split_group(subject) if subject.startswith("awfb-") else subject
