"""Person-level labels (``lsm-edge evaluate-people``): from a person's days to who they are.

**Tasks.**  Built in, from the participant tables the importers read (``data import``'s ``person_labels``):
``depression`` (Depresjon: condition vs control), ``schizophrenia`` (Psykose's patients vs Depresjon's
controls, the same people Psykose ships as its controls: one person, one label source) and
``glycaemic`` (CGMacros: normal / prediabetes / type 2 diabetes from HbA1c, ADA cut-offs).  Or any table
``subject,label`` (``--labels FILE.csv``).

**Days.**  Each calendar day of a person's recording (on its own clock) in which the task's channel (activity
counts; heart rate for a cohort without them, CGMacros) is observed in at least half the minutes.  A day is
five 300-minute windows (starts 0, 285, 570, 855, 1140 minutes into the day); its embedding is the mean of
the ``embed`` outputs of its windows that hold any value (a ``.tflite`` file through ``lsm_edge.runtime``, as an
app; a run folder through Keras).  Its statistics: mean, standard deviation, 10th / 50th / 90th percentiles,
maximum and share of zero minutes of the channel, and the person's rest-activity rhythm (IS, IV, RA, L5, M10:
core/rhythm.py).

**Classifiers and folds.**  Logistic regression (standardised, C = 1) and a random forest (300 trees) on each
feature set, fitted on days; folds grouped by person and stratified by label (``StratifiedGroupKFold``, 5
folds): no person has days in the training and the test part of one fold.  A person's prediction is the mean
of their days' class probabilities (soft vote over days).  Nothing is tuned: every setting is fixed above.

**Scores** per person: accuracy, macro-F1 and Matthews' correlation, each with the 95 % interval of a
bootstrap over people (1,000 resamples of the people, their predictions fixed).  Research use only: none of
this is a diagnostic.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import schema
from ..core.bootstrap import BOOTSTRAP
from ..core.probes import model_function
from ..core.rhythm import rhythm
from ..data.autoimport import person_labels, read_each
from ..data.cgmacros import STATUS
from ..errors import LsmEdgeError
from ..io import atomic_path, atomic_write_text

DAY = 1440
W = schema.WINDOW_MINUTES
DAY_WINDOWS = (0, 285, 570, 855, 1140)  # five windows cover the day; the overlaps are 15 minutes
TASKS = {"depression": ("group", {0: "control", 1: "depression"}),
         "schizophrenia": ("group", {0: "control", 2: "schizophrenia"}),
         "glycaemic": ("glycaemic_status", dict(enumerate(STATUS)))}
STATS = ("mean", "std", "q10", "q50", "q90", "max", "zero share", "IS", "IV", "RA", "L5", "M10")


def channel_of(tl) -> int:
    """The channel a person's days are read from: activity counts where recorded, else heart rate."""
    counts = schema.INDEX["log_energy"]
    return counts if np.isfinite(tl.values[:, counts]).mean() > 0.1 else schema.INDEX["heart_rate"]


def minute_of_day(tl) -> int:
    """The minute of the day of the timeline's first minute, on the recording's clock."""
    return int((tl.start - tl.start.astype("datetime64[D]")).astype("timedelta64[m]").astype(int))


def days_of(tl, j: int, min_observed: float = 0.5) -> list[int]:
    """Minute offsets (into the timeline) of each whole calendar day whose channel ``j`` is observed in at least
    ``min_observed`` of its minutes."""
    first = -minute_of_day(tl) % DAY  # the first midnight
    return [a for a in range(first, tl.minutes - DAY + 1, DAY) if np.isfinite(tl.values[a:a + DAY, j]).mean()
            >= min_observed]


def day_statistics(tl, j: int, days: list[int]) -> np.ndarray:
    """[days, len(STATS)] each day's statistics of channel ``j`` (counts, not their log) beside the person's rhythm."""
    x = np.expm1(tl.values[:, j]) if j == schema.INDEX["log_energy"] else tl.values[:, j].astype(float)
    r = rhythm(x, minute_of_day(tl))
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for a in days:
            d = x[a:a + DAY]
            out.append([np.nanmean(d), np.nanstd(d), *np.nanpercentile(d, [10, 50, 90]), np.nanmax(d),
                        np.nanmean(d[np.isfinite(d)] == 0), r["IS"], r["IV"], r["RA"], r["L5"], r["M10"]])
    return np.nan_to_num(np.asarray(out, float))


def day_windows(tl, days: list[int]) -> np.ndarray:
    """[days * 5, 300, 26] the windows of each day, in order."""
    return np.stack([tl.values[a + s:a + s + W] for a in days for s in DAY_WINDOWS]).astype(np.float32)


def read_labels(path) -> dict:
    """{subject: label} of a table with columns subject,label."""
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = [c.strip() for c in next(r, [])]
        if head[:2] != ["subject", "label"]:
            raise LsmEdgeError(f"{path}:1: header {','.join(head)!r}; expected subject,label")
        return {row[0].strip(): row[1].strip() for row in r if len(row) >= 2 and row[0].strip()}


def tasks_of(labels, people: dict) -> dict:
    """{task: {subject: class name}} of the built-in tasks named in ``labels`` (or one task per table file)."""
    out = {}
    for name in labels:
        if name in TASKS:
            key, classes = TASKS[name]
            out[name] = {s: classes[v[key]] for s, v in people.items() if v.get(key) in classes}
        elif Path(name).is_file():
            out[Path(name).stem] = read_labels(name)
        else:
            raise LsmEdgeError(f"labels {name!r}: expected {', '.join(TASKS)} or a file subject,label")
    return out


def folds(y: np.ndarray, groups: np.ndarray, seed: int = 0) -> list:
    """Person-grouped, label-stratified folds over days: [(train index, test index)]."""
    from sklearn.model_selection import StratifiedGroupKFold

    people_per_class = Counter(dict(zip(groups.tolist(), y.tolist())).values())  # one label per person
    n = min(5, min(people_per_class.values()))
    return list(StratifiedGroupKFold(n_splits=max(2, int(n)), shuffle=True, random_state=seed).split(y, y, groups))


def person_predictions(x: np.ndarray, y: np.ndarray, groups: np.ndarray, kind: str, seed: int = 0) -> dict:
    """{person: (true class, predicted class)}: days classified on person-grouped folds, each person's day
    probabilities averaged."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_classes = int(y.max()) + 1
    proba = np.zeros((len(y), n_classes))
    for tr, te in folds(y, groups, seed):
        clf = (RandomForestClassifier(300, random_state=seed, n_jobs=1) if kind == "forest" else
               make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=1.0)))
        clf.fit(x[tr], y[tr])
        proba[np.ix_(te, clf.classes_)] = clf.predict_proba(x[te])
    out = {}
    for g in np.unique(groups):
        mine = groups == g
        out[str(g)] = (int(y[mine][0]), int(proba[mine].mean(0).argmax()))
    return out


def scores(pred: dict, n_classes: int, seed: int = 0) -> dict:
    """Accuracy, macro-F1 and MCC over people, each [value, low, high] (bootstrap over people)."""
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

    t, p = (np.array(v) for v in zip(*pred.values()))
    fns = {"accuracy": accuracy_score,
           "macro_f1": lambda a, b: f1_score(a, b, average="macro", labels=range(n_classes), zero_division=0),
           "mcc": matthews_corrcoef}
    rng = np.random.default_rng([seed, 49])
    draws = [rng.integers(0, len(t), len(t)) for _ in range(BOOTSTRAP)]
    out = {}
    for name, fn in fns.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            boot = [fn(t[i], p[i]) for i in draws]
        out[name] = [float(fn(t, p)), *map(float, np.percentile(boot, [2.5, 97.5]))]
    cm = np.zeros((n_classes, n_classes), int)
    np.add.at(cm, (t, p), 1)
    out["confusion"] = cm.tolist()
    return out


def person_days(tl, embedders: dict):
    """One person's days -> ({days, channel}, day statistics [days, len(STATS)], {model: day embeddings
    [days, D]}), or None without a day to read.  A day's embedding is the mean over its windows that hold any
    value (an empty window says nothing)."""
    j = channel_of(tl)
    days = days_of(tl, j)
    if not days:
        return None
    win = day_windows(tl, days)
    seen = np.isfinite(win).any((1, 2)).reshape(len(days), len(DAY_WINDOWS))
    embedded = {}
    for m, embed in embedders.items():
        e = embed(win[seen.ravel()])
        full = np.zeros((len(win), e.shape[1]))
        full[seen.ravel()] = e
        embedded[m] = full.reshape(len(days), len(DAY_WINDOWS), -1).sum(1) / seen.sum(1, keepdims=True)
    return {"days": len(days), "channel": schema.FEATURES[j].name}, day_statistics(tl, j, days), embedded


def evaluate_people(source, out, labels=tuple(TASKS), models=(), seed: int = 0, progress: bool = True) -> dict:
    """Score each task's people from their days (see the module's docstring) -> people.json's content; writes
    people.json, people.md and a confusion matrix per task."""
    not_read = []
    timelines, found = read_each(source, bad=lambda f, why: not_read.append([str(f), why]))
    by_subject = {t.subject: t for t in timelines}
    tasks = tasks_of(labels, person_labels({k: [Path(p) for p in v] for k, v in found.items()}))
    embedders = {Path(m).stem if Path(m).suffix else Path(m).name: model_function(m, "embed") for m in models}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"source": str(source), "models": [str(m) for m in models], "seed": seed, "not_read": not_read,
              "tasks": {}}
    cache = {}  # subject -> its days' features: a person in two tasks (Depresjon's controls) is read once
    for task, who in tasks.items():
        classes = list(dict.fromkeys(who.values()))  # in the order the labels first appear
        if task in TASKS:
            classes = [c for c in TASKS[task][1].values() if c in classes]
        rows = {"stats": [], "y": [], "g": []}
        embeds = {m: [] for m in embedders}
        used = {}
        for s in tqdm(sorted(who), desc=f"days: {task}", unit="person", disable=not progress):
            if s not in cache:
                cache[s] = person_days(by_subject[s], embedders) if s in by_subject else None
            if cache[s] is None:
                continue
            used[s], stats, days_embedded = cache[s]
            rows["stats"].append(stats)
            rows["y"] += [classes.index(who[s])] * len(stats)
            rows["g"] += [s] * len(stats)
            for m in embedders:
                embeds[m].append(days_embedded[m])
        y, g = np.asarray(rows["y"]), np.asarray(rows["g"])
        if len(set(y.tolist())) < 2:
            continue
        feats = {"day statistics + rhythm": np.concatenate(rows["stats"])}
        feats.update({f"{m} embedding": np.concatenate(v) for m, v in embeds.items()})
        res = {}
        for fname, x in feats.items():
            for kind, label in (("logistic", "logistic regression"), ("forest", "random forest")):
                res[f"{label} on {fname}"] = scores(person_predictions(x, y, g, kind, seed), len(classes), seed)
        report["tasks"][task] = {"classes": classes, "people": len(used), "days": int(len(y)),
                                 "class_people": {c: sum(who[s] == c for s in used) for c in classes},
                                 "persons": used, "results": res}
        _confusion_png(res, classes, task, out / f"people_{task}_confusion.png")
    atomic_write_text(out / "people.json", json.dumps(report, indent=1))
    atomic_write_text(out / "people.md", to_markdown(report))
    return report


def best(results: dict, embedding: bool, metric: str = "macro_f1") -> str:
    rows = [k for k in results if ("embedding" in k) == embedding]
    return max(rows, key=lambda k: results[k][metric][0])


def to_markdown(r: dict) -> str:
    lines = ["# Person-level labels from days", "",
             "Days classified on person-grouped, label-stratified folds (5; no person in training and test of one "
             "fold); a person's prediction is the mean of their days' probabilities. 95 % intervals: bootstrap over "
             "people. Research use, not a diagnostic.", ""]
    for task, t in r["tasks"].items():
        counts = ", ".join(f"{c} {n}" for c, n in t["class_people"].items())
        lines += [f"## {task}: {t['people']} people ({counts}), {t['days']:,} days", "",
                  "| classifier | accuracy | macro-F1 | MCC |", "|---|---|---|---|"]
        for name, s in t["results"].items():
            lines.append(f"| {name} | " + " | ".join(
                f"{s[m][0]:.2f} [{s[m][1]:.2f}, {s[m][2]:.2f}]" for m in ("accuracy", "macro_f1", "mcc")) + " |")
        lines.append("")
    return "\n".join(lines)


def _confusion_png(res: dict, classes, task: str, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [best(res, False)] + ([best(res, True)] if any("embedding" in k for k in res) else [])
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.8), squeeze=False)
    for ax, name in zip(axes[0], shown):
        cm = np.asarray(res[name]["confusion"])
        ax.imshow(cm, cmap="Blues")
        for (a, b), v in np.ndenumerate(cm):
            ax.text(b, a, str(v), ha="center", va="center", color="black")
        ax.set_xticks(range(len(classes)), classes, rotation=30, fontsize=8)
        ax.set_yticks(range(len(classes)), classes, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{name}\nmacro-F1 {res[name]['macro_f1'][0]:.2f}", fontsize=8)
    fig.suptitle(f"{task}: people", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
