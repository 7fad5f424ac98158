"""``lsm-edge data describe``: what is in a dataset folder."""

from __future__ import annotations

import numpy as np

from .. import schema
from .dataset import Dataset
from .windows import SPLITS


def describe(ds: Dataset) -> dict:
    n, missing_cells, n_cells = 0, np.zeros(schema.N_FEATURES), 0
    exercise = np.zeros(2, np.int64)
    activity = np.zeros(len(schema.ACTIVITIES), np.int64)
    unlabelled = 0
    sources = {}  # source (the subject's prefix) -> people, windows per split, observed minutes per feature
    for w in ds.iter_windows():
        if not len(w):  # a shard of no window (recordings shorter than one window)
            continue
        src = np.char.partition(w.subject.astype(str), "-")[:, 0]
        observed = (~w.missing).sum(1)  # [N, 26] minutes
        for name in np.unique(src):
            sel = src == name
            d = sources.setdefault(str(name), {"people": set(), "windows": dict.fromkeys(SPLITS, 0),
                                               "minutes": np.zeros(schema.N_FEATURES, np.int64)})
            d["people"].update(w.subject[sel].astype(str).tolist())
            for k, split in enumerate(SPLITS):
                d["windows"][split] += int((w.split[sel] == k).sum())
            d["minutes"] += observed[sel].sum(0)
        n += len(w)
        missing_cells += w.missing.sum((0, 1))
        n_cells += w.missing.shape[0] * w.missing.shape[1]
        exercise += np.bincount(w.exercise[w.exercise >= 0], minlength=2)
        activity += np.bincount(w.activity[w.activity >= 0], minlength=len(schema.ACTIVITIES))
        unlabelled += int((w.exercise < 0).sum())
    subj = ds.manifest["subjects"]
    return {
        "path": str(ds.dir), "source": ds.manifest["source"],
        "subjects": {s: sum(1 for v in subj.values() if v == s) for s in SPLITS},
        "windows": ds.manifest["windows_per_split"], "n_windows": n,
        "hours": n * schema.WINDOW_MINUTES / 60,
        "missing_fraction": dict(zip(schema.FEATURE_NAMES, (missing_cells / max(n_cells, 1)).round(4).tolist())),
        "exercise": {"non_exercise": int(exercise[0]), "exercise": int(exercise[1]), "unlabelled": unlabelled},
        "activity": dict(zip(schema.ACTIVITIES, activity.tolist())),
        "extra_channels": ds.manifest.get("extra_channels", []),
        "label_channels": ds.manifest.get("label_channels", []),
        "sources": {name: {"people": len(d["people"]), "windows": d["windows"],
                           "hours": {f: round(float(m) / 60, 1) for f, m in zip(schema.FEATURE_NAMES, d["minutes"]) if m}}
                    for name, d in sorted(sources.items())},
        "person_labels": _person_label_counts(ds.manifest),
    }


def _person_label_counts(manifest: dict) -> dict:
    """{label: {class name: people}} of the manifest's person-level labels."""
    names = manifest.get("person_label_names", {})
    out = {}
    for labels in manifest.get("person_labels", {}).values():
        for k, v in labels.items():
            if k in names:
                cls = names[k][v]
                out.setdefault(k, dict.fromkeys(names[k], 0))[cls] += 1
    return out


def _short(v):
    """A source value for one line: a list by its length, a dict of lists as {key: n files}."""
    if isinstance(v, (list, tuple)):
        return f"[{len(v)} items]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {len(x)} files" if isinstance(x, (list, tuple)) else f"{k}: {x}"
                               for k, x in v.items()) + "}"
    return v


def format_description(d: dict) -> str:
    src = ", ".join(f"{k}={_short(v)}" for k, v in d["source"].items())
    lines = [f"dataset  {d['path']}", f"source   {src}",
             "subjects " + "  ".join(f"{k} {v}" for k, v in d["subjects"].items()),
             "windows  " + "  ".join(f"{k} {v}" for k, v in d["windows"].items()) + f"  (total {d['n_windows']})",
             f"hours    {d['hours']:,.0f}",
             "exercise " + "  ".join(f"{k} {v}" for k, v in d["exercise"].items()),
             "activity " + "  ".join(f"{k} {v}" for k, v in d["activity"].items())]
    if d["extra_channels"] or d["label_channels"]:
        lines.append(f"extras   {', '.join(d['extra_channels']) or '-'}   labels {', '.join(d['label_channels']) or '-'}")
    for k, counts in d.get("person_labels", {}).items():
        lines.append(f"persons  {k}: " + ", ".join(f"{c} {n}" for c, n in counts.items()) + " (people)")
    if len(d.get("sources", {})) > 1:
        lines.append("sources  (people with windows; windows train/val/test; hours observed per feature)")
        for name, x in d["sources"].items():
            hours = ", ".join(f"{f} {h:,.0f}" for f, h in sorted(x["hours"].items(), key=lambda kv: -kv[1])[:6])
            lines.append(f"  {name:10s} {x['people']:4d} people  " + "/".join(str(v) for v in x["windows"].values())
                         + f" windows  {hours}")
    lines.append("missing  (share of minutes, per feature)")
    for g in schema.SENSOR_GROUPS:
        cells = [f"{schema.FEATURE_NAMES[j]} {100 * d['missing_fraction'][schema.FEATURE_NAMES[j]]:.1f}%"
                 for j in schema.group_indices(g)]
        lines.append(f"  {g:17s} " + ", ".join(cells))
    return "\n".join(lines)
