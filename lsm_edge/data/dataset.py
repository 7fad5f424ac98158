"""A dataset folder: window shards, optional full timelines, and a manifest.

    DIR/dataset.json            feature names, source, subjects and their splits, counts
    DIR/shards/shard-00000.npz  Windows arrays (values with NaN, missing, subject, start, split, labels)
    DIR/timelines/<subject>.npz one subject's full minute timeline (importers only)

Every file is written to a temporary name and renamed, so a crash never leaves a half shard;
``dataset.json`` is written last, so a folder without it is an unfinished write that
``DatasetWriter(..., resume=True)`` continues.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np

from .. import schema
from ..errors import LsmEdgeError
from ..io import atomic_path, atomic_write_text
from .sharding import process_share
from .windows import SPLITS, Timeline, Windows

FORMAT_VERSION = 1
MANIFEST = "dataset.json"


class DatasetWriter:
    def __init__(self, out_dir, source: dict, resume: bool = False):
        self.dir = Path(out_dir)
        if (self.dir / MANIFEST).exists() and not resume:
            raise LsmEdgeError(f"{self.dir} already holds a dataset; choose another --out or delete it")
        progress = self.dir / ".progress.json"
        if progress.exists() and resume:
            previous = json.loads(progress.read_text())
            if previous["source"] != source:
                raise LsmEdgeError(f"cannot resume {self.dir}: it was started with {previous['source']}, "
                                   f"not {source}")
        elif any(self.dir.glob("shards/*.npz")):
            raise LsmEdgeError(f"{self.dir} holds shards of an unfinished write; pass --resume to continue it "
                               f"or delete the folder")
        self.source = source
        (self.dir / "shards").mkdir(parents=True, exist_ok=True)
        atomic_write_text(progress, json.dumps({"source": source}))

    def shard_path(self, i: int) -> Path:
        return self.dir / "shards" / f"shard-{i:05d}.npz"

    def has_shard(self, i: int) -> bool:
        return self.shard_path(i).exists()

    def write_shard(self, i: int, w: Windows) -> None:
        with atomic_path(self.shard_path(i)) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **w.as_arrays())

    def write_timeline(self, tl: Timeline) -> None:
        arrays = {"values": tl.values, "start": np.int64(tl.start.astype(np.int64)), "subject": np.str_(tl.subject)}
        arrays.update({f"extra__{k}": v for k, v in tl.extras.items()})
        arrays.update({f"label__{k}": v for k, v in tl.labels.items()})
        with atomic_path(self.dir / "timelines" / f"{_safe(tl.subject)}.npz") as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)

    def finish(self, extra: dict | None = None) -> dict:
        """Scan the shards, write dataset.json (last), and return it."""
        subjects, counts = {}, {s: 0 for s in SPLITS}
        n_windows = 0
        for w in Dataset._iter_files(sorted((self.dir / "shards").glob("*.npz"))):
            for subj, split in zip(*np.unique(np.stack([w.subject, w.split.astype(str)], 1), axis=0).T):
                subjects[str(subj)] = SPLITS[int(split)]
            n_windows += len(w)
            for k, name in enumerate(SPLITS):
                counts[name] += int((w.split == k).sum())
        manifest = {"format_version": FORMAT_VERSION, "feature_names": list(schema.FEATURE_NAMES),
                    "window_minutes": schema.WINDOW_MINUTES, "source": self.source, "n_windows": n_windows,
                    "windows_per_split": counts, "subjects": dict(sorted(subjects.items()))}
        manifest.update(extra or {})
        atomic_write_text(self.dir / MANIFEST, json.dumps(manifest, indent=1))
        (self.dir / ".progress.json").unlink(missing_ok=True)
        return manifest


class Dataset:
    """Read side of a dataset folder."""

    def __init__(self, path):
        self.dir = Path(path)
        m = self.dir / MANIFEST
        if not m.is_file():
            hint = " (an unfinished write: rerun it with --resume)" if (self.dir / ".progress.json").exists() else ""
            raise LsmEdgeError(f"{self.dir} is not an lsm-edge dataset: no {MANIFEST}{hint}; "
                               f"make one with `lsm-edge data simulate` or `lsm-edge data import FOLDER`")
        self.manifest = json.loads(m.read_text())
        if self.manifest.get("format_version", 0) > FORMAT_VERSION:
            raise LsmEdgeError(f"{self.dir} was written by a newer lsm-edge (format "
                               f"{self.manifest['format_version']}, this one reads {FORMAT_VERSION})")
        self.shards = sorted((self.dir / "shards").glob("*.npz"))

    def __len__(self):
        return self.manifest["n_windows"]

    def iter_windows(self, split: str | None = None, process: tuple[int, int] = (0, 1)) -> Iterator[Windows]:
        """Windows shard by shard; ``process = (index, count)`` reads only that process's share of
        the shard files (``data/sharding.py``)."""
        for w in self._iter_files(process_share(self.shards, *process)):
            yield w if split is None else w.of_split(split)

    def load(self, split: str | None = None, process: tuple[int, int] = (0, 1)) -> Windows:
        return Windows.concat(self.iter_windows(split, process))

    def timelines(self) -> Iterator[Timeline]:
        for p in sorted((self.dir / "timelines").glob("*.npz")):
            with np.load(p, allow_pickle=False) as z:
                extras = {k[7:]: z[k] for k in z.files if k.startswith("extra__")}
                labels = {k[7:]: z[k] for k in z.files if k.startswith("label__")}
                yield Timeline(str(z["subject"]), np.int64(z["start"]).astype("datetime64[m]"), z["values"],
                               extras, labels)

    @staticmethod
    def _iter_files(paths) -> Iterator[Windows]:
        for p in paths:
            try:
                with np.load(p, allow_pickle=False) as z:
                    yield Windows.from_arrays({k: z[k] for k in z.files})
            except (OSError, ValueError, KeyError) as e:
                raise LsmEdgeError(f"{p}: not a readable lsm-edge shard ({e})") from None


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
