"""Open a table however it arrived: ``.csv``, ``.csv.gz`` or a ``.zip`` holding one file.

Every importer reads through :func:`open_text`, so a user's copy may come compressed or not.
A broken archive, an archive of several files, or bytes that are not text raise one
:class:`DataFormatError` naming the file and what was expected, never a traceback.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

from ..errors import DataFormatError

COMPRESSED = (".gz", ".zip")


def base_name(path) -> str:
    """``A0NVTRV_hr.csv.zip`` -> ``A0NVTRV_hr.csv``: the name of the table inside."""
    name = Path(path).name
    for s in COMPRESSED:
        if name.lower().endswith(s):
            return name[: -len(s)]
    return name


def stem(path) -> str:
    """``control_1.csv.gz`` -> ``control_1``."""
    return Path(base_name(path)).stem


def is_table(path, suffixes=(".csv",)) -> bool:
    """A ``.csv`` (or another of ``suffixes``), plain or compressed."""
    return Path(base_name(path)).suffix.lower() in suffixes


DAMAGED = (OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile, zlib.error)  # reading a broken file or archive


def _open_binary(path: Path):
    """A binary stream of ``path``'s content: decompressed when ``.gz``, the one member of a ``.zip``."""
    name = path.name.lower()
    try:
        if name.endswith(".gz"):
            return gzip.open(path, "rb")
        if name.endswith(".zip"):
            z = zipfile.ZipFile(path)
            members = [m for m in z.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
            if len(members) != 1:
                raise DataFormatError(f"{path}: a .zip holding {len(members)} files; expected exactly one table "
                                      f"inside ({', '.join(m.filename for m in members[:5])})")
            return z.open(members[0])
        return open(path, "rb")
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataFormatError(f"{path}: cannot open ({e}); expected a .csv, .csv.gz or single-file .zip") from None


@contextmanager
def open_text(path, encoding: str = "utf-8-sig"):
    """Yield a text stream (universal newlines) of ``path``, decompressing ``.gz`` and single-file ``.zip``."""
    path = Path(path)
    stream = io.TextIOWrapper(_open_binary(path), encoding=encoding, newline="")
    try:
        yield stream
    except DAMAGED as e:
        raise DataFormatError(f"{path}: the file is damaged ({e}); expected a readable .csv, .csv.gz or .zip") from None
    except UnicodeDecodeError as e:
        raise DataFormatError(f"{path}: not {encoding} text ({e.reason} at byte {e.start}); expected a UTF-8 CSV") from None
    finally:
        stream.close()


def header(path) -> list[str]:
    """The first row of a table, stripped; [] when the file is empty or cannot be read as text."""
    try:
        with open_text(path) as f:
            return [c.strip() for c in next(csv.reader(f), [])]
    except (DataFormatError, csv.Error):
        return []


def rows(path, expected=None, errors=None, width=None):
    """Yield (line number, row) of a CSV after its header; ``expected`` (a tuple) checks the header.
    Line numbers count the header as line 1.  With ``errors`` (a RowErrors), a row of another width than
    ``width`` (default: the header's) is reported there and skipped; blank lines are skipped."""
    width = width or (len(expected) if expected else None)
    with open_text(path) as f:
        reader = csv.reader(f)
        try:
            first = next(reader, None)
            if expected is not None and (first is None or tuple(c.strip() for c in first) != tuple(expected)):
                raise DataFormatError(f"{path}:1: header {first!r}; expected {','.join(expected)}")
            for line, r in enumerate(reader, start=2):
                if errors is not None and len(r) != width:
                    if r:  # a blank line is not data
                        names = f" ({','.join(expected)})" if expected else ""
                        errors.add(path, line, f"{len(r)} fields, expected {width}{names}")
                    continue
                yield line, r
        except csv.Error as e:
            raise DataFormatError(f"{path}:{reader.line_num}: not a CSV row ({e})") from None


def decode(raw: bytes) -> str:
    """Bytes of a device export -> text, whatever encoding its software used: a byte-order mark names
    UTF-8 or UTF-16; without one, UTF-8 when the bytes are valid UTF-8, else Windows-1252 (what Windows
    exports in Western European languages write), else Latin-1 (which decodes any byte)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16", errors="replace")
    for enc in ("utf-8", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            pass
    return raw.decode("latin-1")


def read_bytes(path, limit: int | None = None) -> bytes:
    """The bytes of ``path`` (decompressed when ``.gz`` or a one-file ``.zip``), at most ``limit`` of them."""
    path = Path(path)
    try:
        with _open_binary(path) as f:
            return f.read(limit) if limit else f.read()
    except DAMAGED as e:
        raise DataFormatError(f"{path}: the file is damaged ({e}); expected a readable file") from None


def head_lines(path, limit: int = 65536) -> list[str]:
    """The first lines of ``path`` as text (any encoding ``decode`` knows); [] when it cannot be read.
    What a recogniser looks at: cheap on a large file, never an error."""
    try:
        return split_lines(decode(read_bytes(path, limit)))
    except DataFormatError:
        return []


def text_lines(path) -> list[str]:
    """Every line of ``path`` as text (any encoding ``decode`` knows); line k is ``lines[k - 1]``."""
    return split_lines(decode(read_bytes(path)))


def split_lines(text: str) -> list[str]:
    """Lines split at CRLF, CR or LF only (``str.splitlines`` also splits at form feeds and other
    separators, which would shift every line number after them)."""
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if lines and lines[-1] == "" else lines
