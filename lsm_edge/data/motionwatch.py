"""Import CamNtech MotionWatch ``.mtn`` files: XML (signed with an XML signature) holding a log of
property changes and one ``<channel>`` per sensor::

    <motionfile><log2 major="2" minor="1">
      <change ...><property><name>=StartTime</name><content>2018-05-23 17:30:00</content></property></change>
      <change ...><channel><name>motion</name><units>Triaxial-Counts</units><epoch>5</epoch>
                  <offset>0</offset><data encoding="text">0,0,15,22,...</data></channel></change>
      <change ...><channel><name>Light</name><units>lux</units><epoch>5</epoch>...</channel></change>
    </log2><Signature .../></motionfile>

Recognised by the root element ``<motionfile>``.  Parsed with ``defusedxml`` and ``forbid_dtd``:
a document type declaration (the door to entity expansion and external entities) is refused
with a named error, as is any XML that does not parse.

A property's value is its last ``<change>``.  Each channel's ``epoch`` is its epoch in seconds and
``offset`` the seconds from ``StartTime`` to its first value.  Channels: ``motion`` (counts) -> the
activity channel (summed per minute); a channel whose units are ``lux`` or whose name holds
``light`` -> ``light``; one whose units are degrees C or whose name holds ``temp`` ->
``skin_temperature``; any other -> an extra channel of its own name (averaged).
"""

from __future__ import annotations

import re

import numpy as np
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ..errors import DataFormatError
from .epochs import Recording, clock, subject_id, to_timeline
from .textio import head_lines, read_bytes
from .windows import Timeline

NAME = "motionwatch"
EXTRA_CHANNELS = ("activity_counts", "light")
_START = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$")


def recognise(path) -> bool:
    head = " ".join(head_lines(path, 2048))
    return bool(re.search(r"<motionfile[\s>]", head))


def read(files, skip_malformed: bool = False) -> list[Timeline]:
    return [read_mtn(p) for p in files]


def _role(name: str, units: str) -> str:
    n, u = name.lower(), units.lower()
    if n in ("motion", "activity"):
        return "activity"
    if "lux" in u or "light" in n:
        return "light"
    if "temp" in n or u.replace("°", "").strip() in ("c", "degc", "deg c", "celsius"):
        return "skin_temperature"
    return re.sub(r"\W+", "_", n).strip("_") or "channel"


def read_mtn(path) -> Timeline:
    raw = read_bytes(path)
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as e:
        raise DataFormatError(f"{path}: refused XML ({type(e).__name__}: a DTD or entity declaration); expected "
                              f"a MotionWatch .mtn file without one") from None
    except SafeET.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else "?"
        raise DataFormatError(f"{path}:{line}: not well-formed XML ({e}); expected a MotionWatch .mtn file") from None
    if root.tag != "motionfile":
        raise DataFormatError(f"{path}: XML root <{root.tag}>; expected <motionfile> (a MotionWatch .mtn file)")
    props = {}
    for p in root.iter("property"):
        name = (p.findtext("name") or "").lstrip("+=")
        props[name] = p.findtext("content")
    m = _START.match((props.get("StartTime") or "").strip())
    if not m:
        raise DataFormatError(f"{path}: StartTime {props.get('StartTime')!r}; expected a property StartTime like "
                              f"2018-05-23 17:30:00")
    s0 = clock(*(int(g or 0) for g in m.groups()))
    if s0 is None:
        raise DataFormatError(f"{path}: StartTime {props.get('StartTime')!r} is not a calendar time")
    start = np.datetime64(s0, "s")
    series = {}
    for ch in root.iter("channel"):
        name, units = (ch.findtext("name") or "").strip(), (ch.findtext("units") or "").strip()
        try:
            epoch, offset = float(ch.findtext("epoch")), float(ch.findtext("offset") or 0)
        except (TypeError, ValueError):
            raise DataFormatError(f"{path}: channel {name!r}: epoch {ch.findtext('epoch')!r} / offset "
                                  f"{ch.findtext('offset')!r}; expected seconds") from None
        if not 0 < epoch <= 3600 or not 0 <= offset < 366 * 86400:
            raise DataFormatError(f"{path}: channel {name!r}: epoch {epoch:g} s, offset {offset:g} s; expected an "
                                  f"epoch of 1 s to 1 h and an offset of at most a year")
        cells = [c.strip() for c in (ch.findtext("data") or "").split(",")]
        while cells and not cells[-1]:
            cells.pop()
        try:
            v = np.array([float(c) if c else np.nan for c in cells])
        except ValueError:
            bad = next(c for c in cells if not _is_number(c))
            raise DataFormatError(f"{path}: channel {name!r}: value {bad[:20]!r} is not a number") from None
        role = _role(name, units)
        if role == "activity" and (v[np.isfinite(v)] < 0).any():
            raise DataFormatError(f"{path}: channel {name!r} holds negative counts; expected counts >= 0")
        series[role] = (v, epoch, offset, units or "?")
    if "activity" not in series:
        raise DataFormatError(f"{path}: channels {sorted(series)}; expected a 'motion' channel of counts")
    v, epoch, offset, units = series["activity"]
    n = len(v)
    if n == 0:
        raise DataFormatError(f"{path}: the motion channel holds no value")
    channels = {"activity": (v, "sum", f"{units}/min (MotionWatch)")}
    for role, (w, e, off, u) in series.items():
        if role == "activity":
            continue
        if e != epoch or off != offset:  # another grid: put its values on the motion grid by nearest epoch
            k = np.clip(np.round((off + np.arange(len(w)) * e - offset) / epoch).astype(int), 0, n - 1)
            g = np.full(n, np.nan)
            g[k] = w
            w = g
        channels[role] = (np.resize(np.r_[w, np.full(max(0, n - len(w)), np.nan)], n), "mean", u)
    rec = Recording(str(path), subject_id("mtn", props.get("UserID"), path), f"CamNtech MotionWatch {props.get('Device') or ''}".strip(),
                    start + np.timedelta64(int(offset), "s"), epoch, np.arange(n) * epoch, channels)
    return to_timeline(rec)


def _is_number(c: str) -> bool:
    try:
        float(c)
        return True
    except ValueError:
        return False
