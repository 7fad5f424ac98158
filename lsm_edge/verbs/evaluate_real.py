"""Score on real recordings (``lsm-edge evaluate-real``).

DIR is laid out like ../shared/data/real/: every sub-folder is a *set* (``covid19/``, ``fitabase/``,
``mmash/``, ``depresjon/``, ``actigraphy/``, ``aw_fb/`` ... any may be absent, others may be added);
its layouts are recognised from the files (``data/autoimport.py``), so nothing depends on file
or folder names beyond naming the set in the report.

**People.**  Every person is one subject everywhere (a person in two Fitabase exports is one
timeline) and has one role, from the stratified person split of ``lsm-edge data import``
(``data.importing.split_people``, over all sets at once): *train* people adapt the teacher
(``train --init``) and are never scored, *validation* people are kept for choices and never
scored, *test* people are scored.  A real-pretrained teacher imported from the same folder was
trained on the same train people, so the scored people are ones no model has seen.

**Imputation** of each channel a set has: ``heart_rate`` (bpm), ``step_count`` (steps / min) and
activity counts (counts / min, modelled as ``log_energy = ln(1 + count)``).  Every scored person is cut
into 300-minute windows where the channel is observed in at least half the minutes; in each window,
for each task and span N (10 / 30 / 60 / 120 minutes), one hidden span is drawn from a seeded
generator among spans whose minutes were mostly observed: ``interpolation N min`` (every channel
hidden, observed minutes on both sides), ``extrapolation N min`` (every channel hidden in the
window's last N minutes) and, for heart rate in a set with steps, ``heart rate, steps visible N
min`` (heart rate hidden, steps left).  Every method fills the same spans.  Scores: MAE over hidden
cells that were observed, in the channel's own unit and in z-units (the channel's std over the scored
windows, the same for every method).  ``real.json``: ``imputation`` -> ``"<set> <channel>"`` ->
``tasks`` -> task -> ``methods`` -> method -> ``mae_unit``, ``mae_z``, ``cells``, with ``subjects``
and ``windows`` per set and ``windows`` and ``people`` per task.  Every model's ``gain`` over each
classical method carries the 95 % interval of a bootstrap over people (``bootstrap_gains``: people
resampled, and each drawn person's windows within them), and ``real.md`` says where fewer than 3 people
carry a figure.

Activity (aw_fb): each run of one label of at least ``MIN_SEGMENT`` minutes in a participant's
sequence is one example, placed in a 300-minute window with the rest missing.
Participant-grouped folds (no participant in the training and test part of one fold): random
forest and logistic regression on segment statistics of steps and heart rate, and two probes on
the pooled embedding of the teacher, the adapted teacher and each artifact: a logistic regression
(linear probe) and the baseline's own random forest (forest probe: the same classifier on the
model's features instead of the statistics).  A segment of 3-16 minutes fills one or two
10-minute patches, and on which minute of a patch it starts is arbitrary (the recordings have no
clock), so each embedding is the mean over the ``PATCH_MINUTES`` placements of the segment
(``phase_average``).

The MMASH diary is a second labelled set, scored the same way when it has at least 20 examples from
5 people: the body's state (sleeping, lying down, sitting, light / medium / heavy movement), each run of
one state of at least ``MIN_SEGMENT`` minutes an example (report key ``diary_activity``).

Peers (``--peers DIR``, the optional extra): each PyPOTS imputer saved by ``benchmarks/peers.py
--save DIR`` (trained on the simulator, like the teacher) fills the same spans as is ("zero-shot",
in the normalisation it was trained with) and after continued training on the adaptation subjects'
windows ("adapted", in the adapted teacher's normalisation), for as many CPU-seconds as the
teacher's adaptation took (its wall seconds x 2 cores), early-stopped on 64 of those windows.
Imputation only: PyPOTS gives these models no embedding to probe.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import schema
from ..core.bootstrap import BOOTSTRAP
from ..core.probes import artifact_embed, keras_embed, phase_average, score_activity
from ..core.scoring import (CHANNELS, MODEL_FREE, SPAN_HORIZONS, artifact_imputer, classical_fills, column,
                            draw_spans, keras_imputer, reference, score_imputation, to_unit)
from ..data.autoimport import read_any, split_key
from ..data.awfb import ACTIVITIES
from ..data.importing import person_splits
from ..data.mmash import DIARY_CODES as _DIARY
from ..data.windows import SPLITS, Timeline
from ..errors import LsmEdgeError
from ..io import atomic_write_text

EXTRA_CHANNELS = {"light": ("light", "lux")}  # not in the schema: scored with the baselines only
MIN_SEGMENT = 3
DIARY_CODES = [1, 2, 3, 4, 5, 6]  # MMASH diary: the body's state (the events 7-12 overlap it)
DIARY_NAMES = [_DIARY[c] for c in DIARY_CODES]
MIN_WINDOWS = 1
W = schema.WINDOW_MINUTES


def roles(timelines) -> dict:
    """-> {subject: "train" | "val" | "test"}: the stratified person split of ``lsm-edge data import``
    over every set's timelines; a person (``split_key``) has one role wherever they appear."""
    by_person = person_splits(timelines, split_key)
    return {tl.subject: SPLITS[by_person[split_key(tl.subject)]] for tl in timelines}


def windows_of(tl, channel: str, min_observed: float = 0.5) -> np.ndarray:
    """Non-overlapping 300-minute windows of a timeline where the channel is observed in at least
    ``min_observed`` of the minutes -> [n, 300, 26] raw units, NaN missing ([n, 300, 1] for an extra
    channel such as ``light``)."""
    if channel not in schema.INDEX and channel not in tl.extras:  # a recording without that sensor
        return np.zeros((0, W, 1), np.float32)
    vals = tl.values if channel in schema.INDEX else np.asarray(tl.extras[channel], np.float32)[:, None]
    j = column(vals[None], channel)
    out = [vals[a:a + W] for a in range(0, tl.minutes - W + 1, W)]
    return np.asarray([w for w in out if np.mean(~np.isnan(w[:, j])) >= min_observed], np.float32).reshape(
        -1, W, vals.shape[1])


# -- activity on aw_fb -------------------------------------------------------------------------
def segments(timelines, label: str = "lab_activity", codes=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> windows [n, 300, 26] (the segment's minutes first, the rest missing; a run longer than a
    window keeps its first 300 minutes), labels [n], groups [n].  ``codes``: the label values kept, in
    class order (their index is the class); default: every value >= 0 as its own class."""
    xs, ys, gs = [], [], []
    for tl in timelines:
        if label not in tl.labels:
            continue
        lab = np.asarray(tl.labels[label])
        if codes is not None:
            lab = np.asarray([codes.index(v) if v in codes else -1 for v in lab.tolist()])
        cut = np.flatnonzero(np.diff(lab)) + 1
        for a, b in zip(np.r_[0, cut], np.r_[cut, len(lab)]):
            if b - a < MIN_SEGMENT or lab[a] < 0:
                continue
            w = np.full((W, schema.N_FEATURES), np.nan, np.float32)
            w[:min(b - a, W)] = tl.values[a:min(b, a + W)]
            if np.isnan(w).all():  # a label with no recording under it (a diary entry outside the day)
                continue
            xs.append(w)
            ys.append(int(lab[a]))
            gs.append(split_key(tl.subject))  # the participant, whatever the device
    return np.asarray(xs), np.asarray(ys), np.asarray(gs)


def segment_stats(x: np.ndarray) -> np.ndarray:
    cols = [schema.INDEX["step_count"], schema.INDEX["heart_rate"]]
    v = x[:, :, cols]
    with warnings.catch_warnings():  # a segment without heart rate: its statistics are 0
        warnings.simplefilter("ignore", RuntimeWarning)
        f = [np.nanmean(v, 1), np.nanstd(v, 1), np.nanmin(v, 1), np.nanmax(v, 1),
             np.nanpercentile(v, 25, 1), np.nanpercentile(v, 75, 1)]
    return np.nan_to_num(np.concatenate(f, 1))


# -- the command ---------------------------------------------------------------------------------
def evaluate_real(data_dir, teacher_run, out_dir, artifacts_dir=None, adapt_steps: int = 200, seed: int = 0,
                  progress: bool = True, command: str = "", horizons=SPAN_HORIZONS, peers_dir=None, others=(),
                  people: str = "test", adapt_per_set: bool = False, adapt_norm: str = "init", fit=None) -> dict:
    """``fit``: how the teacher is adapted (``lsm_edge.api.fit``: a TrainConfig and an ``init`` run -> the
    adapted run; required when ``adapt_steps`` > 0).  ``others``: further run folders (e.g. a teacher
    pretrained on real people), each scored as it is under its folder's name, imputation and embedding
    probes, beside the teacher.  ``people``: score the "test" people (the report's figures) or the "val"
    people (to choose a model or recipe on; never tune on test).  ``adapt_per_set``: one adapted teacher per
    set, on that set's adaptation recordings only (device families whose activity counts are on different
    scales), instead of one on all sets' together.  ``adapt_norm``: the adapted model normalises by the
    teacher's statistics ("init") or by its adaptation data's own ("own").

    Four steps: who adapts and who is scored (``plan``), the adaptation, imputation of every set's channels
    (``_score_sets``), and the activity probes (``_score_labelled``)."""
    if adapt_steps and fit is None:
        raise LsmEdgeError("adapt_steps > 0 needs fit= (lsm_edge.api.fit, or adapt_steps=0 for zero-shot only)")
    if adapt_norm not in ("init", "own"):
        raise LsmEdgeError(f"adapt_norm {adapt_norm!r}: expected init or own")
    if people not in ("test", "val"):
        raise LsmEdgeError(f"people {people!r}: expected test or val")
    if peers_dir is not None:  # PyPOTS' torch must load before TensorFlow does (lsm_edge.core.peers says why)
        from ..core import peers as peer_lib

        saved = peer_lib.find_peers(peers_dir)
    from ..core.run import load_run

    data_dir, out = Path(data_dir), Path(out_dir)
    sets = read_sets(data_dir, progress)
    artifacts = sorted(Path(artifacts_dir).glob("*.tflite")) if artifacts_dir else []
    teacher, t_stats, _ = load_run(teacher_run)
    out.mkdir(parents=True, exist_ok=True)
    p = plan(sets, people)
    adapt_tls = [t for s in p["imputation_sets"] for t in p["adapt_of"][s]]
    adapted_by_set = {}  # set -> adapted run; the one pooled run under ""
    if adapt_tls and adapt_steps > 0:
        groups = ({s: p["adapt_of"][s] for s in p["imputation_sets"] if p["adapt_of"][s]} if adapt_per_set
                  else {"": adapt_tls})
        for s, tls in tqdm(groups.items(), desc="adapting", unit="set", disable=not progress or len(groups) < 2):
            suffix = f"_{s}" if adapt_per_set else ""
            adapted_by_set[s] = _adapt(fit, tls, out / f"adapt_data{suffix}", out / f"adapted_teacher{suffix}",
                                       teacher_run, adapt_steps, seed, progress, refit_stats=adapt_norm == "own")
    adapted = adapted_by_set.get("")  # the pooled adaptation (per set: each set's own, below)
    peer_methods, peer_info = (_peers(peer_lib, saved, out, t_stats, adapted, seed, progress)
                               if peers_dir is not None else ({}, {}))
    report = {"command": command, "teacher": str(teacher_run), "others": [str(r) for r in others],
              "adaptation_subjects": sorted({t.subject for t in adapt_tls}),
              "adaptation": "per set" if adapt_per_set else "pooled", "adapt_norm": adapt_norm,
              "time_split_sets": sorted(p["split_sets"]), "too_short": p["too_short"],
              "validation_subjects": sorted(t.subject for tls in p["imputation_sets"].values() for t in tls
                                            if p["role"][t.subject] == "val"),
              "adapt_steps": adapt_steps if adapted_by_set else 0, "scored_people": people, "imputation": {},
              "activity": None}
    methods = {**classical_fills(), "teacher zero-shot": keras_imputer(teacher, t_stats)}
    if adapted:
        methods["teacher adapted"] = keras_imputer(adapted[0], adapted[1])
    other_runs = {Path(r).name: load_run(r) for r in others}
    methods.update({name: keras_imputer(m, st) for name, (m, st, _) in other_runs.items()})
    methods.update({a.stem: artifact_imputer(a) for a in artifacts})
    methods.update(peer_methods)
    report["imputation"] = _score_sets(p, methods, adapted_by_set, out, seed, horizons, progress)
    if peer_info:
        report["peers"] = peer_info
    embeds = {"teacher embedding": keras_embed(teacher, t_stats)}
    if adapted:
        embeds["adapted teacher embedding"] = keras_embed(adapted[0], adapted[1])
    embeds.update({f"{name} embedding": keras_embed(m, st) for name, (m, st, _) in other_runs.items()})
    embeds.update({f"{a.stem} embed": artifact_embed(a) for a in artifacts})
    report.update(_score_labelled(sets, embeds, out, seed, progress))
    atomic_write_text(out / "real.json", json.dumps(report, indent=1))
    atomic_write_text(out / "real.md", to_markdown(report))
    return report


def plan(sets: dict, people: str) -> dict:
    """Who adapts and who is scored.  One role per person over every set; train people of the imputation sets
    adapt the teacher.  A set with no test person (too few people to hold one out) is split in time instead:
    each recording's earlier part adapts, its later part is scored (``time_split``); its validation part is the
    later part of the earlier one.  -> {role, imputation_sets, split_sets, adapt_of, scored_of, too_short}."""
    role = roles([t for tls in sets.values() for t in tls])
    imputation_sets = {s: tls for s, tls in sets.items() if not _is_activity_set(tls)}
    split_sets = {s for s, tls in imputation_sets.items() if not any(role[t.subject] == "test" for t in tls)}
    adapt_of, scored_of, too_short = {}, {}, {}
    for s, tls in imputation_sets.items():
        if s in split_sets:  # test: the later third; val: the later third of the rest (the test part unseen)
            parts = [(t, time_split(t)) for t in tls]
            if people == "val":
                parts = [(t, time_split(p[0]) if p else None) for t, p in parts]
            adapt_of[s] = [p[0] for _, p in parts if p]
            scored_of[s] = [p[1] for _, p in parts if p]
            too_short.update({t.subject: t.minutes for t, p in parts if not p})
        else:
            adapt_of[s] = [t for t in tls if role[t.subject] == "train"]
            scored_of[s] = [t for t in tls if role[t.subject] == people]
    return {"role": role, "imputation_sets": imputation_sets, "split_sets": split_sets, "adapt_of": adapt_of,
            "scored_of": scored_of, "too_short": too_short}


def _peers(peer_lib, saved, out: Path, t_stats, adapted, seed: int, progress: bool) -> tuple[dict, dict]:
    """The saved PyPOTS peers as methods: each zero-shot, and (with an adapted teacher) trained further on the
    adaptation windows for the teacher's CPU-seconds -> ({method name: imputer}, {peer: info})."""
    from ..data.dataset import Dataset

    peer_methods, peer_info = {}, {}
    adapt_z = None
    if adapted:
        adapt_z = adapted[1].normalize(Dataset(out / "adapt_data").load().values)
        budget = 2 * sum(float(r["seconds"]) for r in csv.DictReader(open(out / "adapted_teacher" / "log.csv")))
    for f in saved:
        model, meta = peer_lib.load_peer(f)
        name = meta["peer"]
        stats = meta["stats"] if meta["stats"] is not None else t_stats
        peer_methods[f"{name} zero-shot"] = peer_lib.peer_imputer(model, stats)
        peer_info[name] = {"params": meta["params"],
                           "stats": "its own" if meta["stats"] is not None else "the teacher's"}
        if adapt_z is None:
            continue
        cache = out / "adapted_peers"
        if (cache / f"{name}.peer.json").exists():
            again, info = peer_lib.load_peer(cache / f"{name}.peer.json")
        else:
            order = np.random.default_rng(seed).permutation(len(adapt_z))
            n_val = min(64, len(adapt_z) // 4)
            again, info = peer_lib.train_peer(name, adapt_z[order[n_val:]], adapt_z[order[:n_val]], budget,
                                              seed=seed, chunk=256, threads=2, progress=progress, model=model)
            peer_lib.save_peer(again, name, info, cache, adapted[1])
        peer_methods[f"{name} adapted"] = peer_lib.peer_imputer(again, adapted[1])
        peer_info[name].update({k: info.get(k) for k in ("train_cpu_seconds", "epochs", "start_val_mae",
                                                          "best_val_mae")})
    return peer_methods, peer_info


def _score_sets(p: dict, methods: dict, adapted_by_set: dict, out: Path, seed: int, horizons, progress: bool) -> dict:
    """Imputation of every channel of every imputation set on its scored people -> real.json's ``imputation``;
    a fill plot per set and channel."""
    found = {}
    for s, tls in p["imputation_sets"].items():
        scored = p["scored_of"][s]
        set_methods = dict(methods)
        if s in adapted_by_set:
            set_methods["teacher adapted"] = keras_imputer(*adapted_by_set[s][:2])
        for channel in channels_of(tls) + extra_channels_of(tls):
            label, unit = CHANNELS.get(channel) or EXTRA_CHANNELS[channel]
            unit = set_unit(tls, channel) or unit
            win = [windows_of(t, channel) for t in scored]
            scored_ids = [t.subject for t, w in zip(scored, win) if len(w)]
            who = np.asarray([split_key(t.subject) for t, w in zip(scored, win) for _ in range(len(w))])
            width = schema.N_FEATURES if channel in schema.INDEX else 1
            win = np.concatenate(win) if scored else np.zeros((0, W, width), np.float32)
            use = set_methods if width == schema.N_FEATURES else {k: v for k, v in set_methods.items()
                                                                   if k in MODEL_FREE}
            tasks = ("interpolation", "extrapolation")
            if channel == "heart_rate" and "step_count" in channels_of(tls):
                tasks += ("steps visible",)
            key = f"{s} {label}"
            found[key] = {
                "set": s, "channel": channel, "unit": unit, "subjects": scored_ids, "windows": len(win),
                "scored_part": "later part of each recording" if s in p["split_sets"] else "whole recordings",
                "tasks": score_imputation(win, channel, use, seed, progress, horizons, tasks, desc=key, people=who)
                if len(win) else {}}
            if len(win):
                fill_plot(win, channel, unit, use, seed, out / f"fills_{s}_{channel}.png")
    return found


def _score_labelled(sets: dict, embeds: dict, out: Path, seed: int, progress: bool) -> dict:
    """Activity recognition on aw_fb's lab activities and the MMASH diary: segment statistics against linear and
    forest probes of every embedding, person-grouped folds -> real.json's ``activity`` / ``diary_activity``."""
    found = {}
    all_tls = [t for tls in sets.values() for t in tls]
    labelled = {  # report key: (segments, classes, title, confusion plot)
        "activity": (segments([t for tls in sets.values() if _is_activity_set(tls) for t in tls]), ACTIVITIES,
                     "aw_fb (lab activities)", "activity_confusion.png"),
        "diary_activity": (segments(all_tls, "diary_activity", DIARY_CODES), DIARY_NAMES,
                           "MMASH diary (the body's state)", "diary_confusion.png")}
    for key, ((x, y, g), classes, title, png) in labelled.items():
        if len(y) < 20 or len(set(g)) < 5:  # too few examples or people for 5 grouped folds
            continue
        feats = {"random forest (segment stats)": (segment_stats(x), "rf"),
                 "logistic regression (segment stats)": (segment_stats(x), "lr")}
        for name, embed in tqdm(embeds.items(), desc=f"probes: {title}", unit="model", disable=not progress):
            f = phase_average(embed, x)
            feats[f"linear probe: {name}"], feats[f"forest probe: {name}"] = (f, "lr"), (f, "rf")
        scores, conf = score_activity(x, y, g, feats, seed, classes)
        best_probe = max((k for k in scores if " probe: " in k), key=lambda k: scores[k]["accuracy"])
        found[key] = {"set": title, "examples": len(y), "participants": len(set(g)), "scores": scores,
                      "class_counts": {a: int((y == i).sum()) for i, a in enumerate(classes)},
                      "best_probe": best_probe, "confusion": png}
        _confusion_png(conf["random forest (segment stats)"], conf[best_probe],
                       ["random forest", best_probe], out / png, classes)
    return found


def read_sets(data_dir, progress: bool = False) -> dict:
    """{sub-folder name: timelines} of every sub-folder of ``data_dir`` that holds recordings."""
    data_dir = Path(data_dir)
    subdirs = sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if data_dir.is_dir() else []
    if not subdirs:
        raise LsmEdgeError(f"{data_dir} holds no sub-folder; expected a folder laid out like ../shared/data/real/ "
                           f"(one sub-folder per set: covid19/, fitabase/, actigraphy/, aw_fb/, ...)")
    return {p.name: read_any(p)[0] for p in tqdm(subdirs, desc="reading sets", unit="set", disable=not progress)}


def time_split(tl, share: float = 1 / 3):
    """-> (earlier, later) parts of a timeline: the later ``max(share of it, one window)`` minutes are scored,
    the rest adapts; None when either part would be shorter than one 300-minute window (too short)."""
    n_late = max(int(np.ceil(share * tl.minutes)), W)
    cut = tl.minutes - n_late
    if cut < W:
        return None

    def part(a, b):
        return Timeline(tl.subject, tl.start + np.timedelta64(a, "m"), tl.values[a:b],
                        {k: v[a:b] for k, v in tl.extras.items()}, {k: v[a:b] for k, v in tl.labels.items()}, tl.meta)

    return part(0, cut), part(cut, tl.minutes)


def _adapt(fit, tls, data_dir: Path, run: Path, teacher_run, adapt_steps: int, seed: int, progress: bool,
           refit_stats: bool = False):
    """Continue training the teacher on ``tls`` (never scored) -> load_run of the adapted teacher."""
    from ..core.run import load_run
    from ..data.dataset import DatasetWriter
    from ..data.windows import Windows, cut_windows
    from ..recipe import TrainConfig

    if not (data_dir / "dataset.json").exists():
        w = DatasetWriter(data_dir, {"kind": "evaluate-real adaptation", "subjects": [t.subject for t in tls]},
                          resume=True)
        win = Windows.concat([cut_windows(t, split=0) for t in tls])
        cap = max(4096, 16 * adapt_steps)  # more than the adaptation steps can see
        if len(win) > cap:
            win = win.take(np.sort(np.random.default_rng(seed).choice(len(win), cap, replace=False)))
        w.write_shard(0, win)
        w.finish()
    cfg = TrainConfig(steps=adapt_steps, batch_size=16, lr=2e-4, warmup_steps=max(1, adapt_steps // 10),
                      checkpoint_every=max(1, adapt_steps // 2), val_windows=64, loss="l1", fill_gate=True)
    fit(data_dir, run, cfg, resume=(run / "checkpoint").exists() or (run / "model.keras").exists(),
          progress=progress, init=teacher_run, refit_stats=refit_stats)
    return load_run(run)


def set_unit(tls, channel: str) -> str:
    """The device unit of a set's channel from its recordings' meta (activity: the unit of the raw activity
    extra, e.g. ``PIM per minute (ActTrust)``); "" when the set has none or several."""
    names = {"log_energy": ("activity_counts", "acceleration_mg")}.get(channel, (channel,))
    units = {t.meta.get("units", {}).get(n) for t in tls for n in names} - {None}
    return units.pop() if len(units) == 1 else ""


def extra_channels_of(tls) -> list:
    """The scored extra channels (EXTRA_CHANNELS) observed somewhere in a set's timelines."""
    return [c for c in EXTRA_CHANNELS if any(c in t.extras and np.isfinite(t.extras[c]).any() for t in tls)]


def _is_activity_set(tls) -> bool:
    return any("lab_activity" in t.labels for t in tls)


def channels_of(tls) -> list:
    """The scored channels (CHANNELS) observed somewhere in a set's timelines."""
    return [c for c in CHANNELS if any(np.isfinite(t.values[:, schema.INDEX[c]]).any() for t in tls)]


def fill_plot(windows, channel, unit, methods: dict, seed: int, path, n: int = 60, show: int = 3) -> None:
    """Real windows with a hidden ``n``-minute interpolation span (the same draws as the score's) and
    each method's fill there: the ``show`` spans whose hidden values vary the most (a flat span of
    non-wear zeros shows nothing)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = [(t, m) for t in ("interpolation", "extrapolation") for m in SPAN_HORIZONS].index(("interpolation", n))
    spans = draw_spans(windows, channel, "interpolation", n, np.random.default_rng([seed, k]))
    if not spans:
        return
    j = column(windows, channel)
    spread = [np.nan_to_num(np.nanstd(windows[i, s0:s0 + n, j])) for i, s0 in spans]
    spans = [spans[r] for r in sorted(np.argsort(spread, kind="stable")[::-1][:show])]
    fig, axes = plt.subplots(len(spans), 1, figsize=(10, 2.6 * len(spans)), squeeze=False)
    for ax, (i, s0) in zip(axes[:, 0], spans):
        x = windows[i:i + 1].copy()
        x[:, s0:s0 + n] = np.nan
        lo, hi = max(0, s0 - 2 * n), min(W, s0 + 3 * n)
        t = np.arange(lo, hi)
        ax.plot(t, to_unit(channel, windows[i, lo:hi, j]), color="black", lw=1.2, label="observed (hidden in grey)")
        ax.axvspan(s0, s0 + n, color="0.9")
        for c, (name, method) in enumerate(methods.items()):  # tab20: a colour per method, up to 20
            ax.plot(np.arange(s0, s0 + n), to_unit(channel, method(x)[0, s0:s0 + n, j]), lw=1, label=name,
                    color=plt.cm.tab20(c % 20))
        ax.set_ylabel(unit)
    axes[0, 0].legend(fontsize=6, ncol=3, loc="best")
    axes[-1, 0].set_xlabel("minute of the window")
    fig.suptitle(f"{channel}: {n}-minute interpolation spans and each method's fill", fontsize=9)
    fig.tight_layout()
    tmp = Path(str(path) + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)


def to_markdown(r: dict) -> str:
    lines = ["# Real-data evaluation", "", f"Command: `{r['command']}`  ", f"Teacher: {r['teacher']}  ",
             f"Adapted on ({r['adapt_steps']} steps, never scored): {', '.join(r['adaptation_subjects']) or 'none'}  ",
             f"Validation people: {', '.join(r.get('validation_subjects', [])) or 'none'}  ",
             f"Scored: the {r.get('scored_people', 'test')} people of each set", ""]
    if r.get("time_split_sets"):
        lines[-1:-1] = [f"Adaptation: {r.get('adaptation', 'pooled')}.  Sets with too few people to hold one out, scored "
                        f"on the later third of each recording (at least 300 min) after adapting on the rest (with "
                        f"--people val: on the later third of that rest, the test part never read): "
                        f"{', '.join(r['time_split_sets'])}  ",
                        "Too short for that (under 600 minutes, or 900 with --people val): " + (", ".join(
                            f"{k} ({v} min)" for k, v in r.get("too_short", {}).items()) or "none") + "  "]
    for s, d in r["imputation"].items():
        lines += [f"## Imputation: {s} ({d['channel']}, MAE in {d['unit']} / z-units)", "",
                  f"Scored ({r.get('scored_people', 'test')}) people: {len(d['subjects'])} "
                  f"({', '.join(d['subjects']) or 'none'}); "
                  f"{d['windows']} windows of 300 minutes.", ""]
        if not d["tasks"]:
            lines += ["No window with enough observed minutes.", ""]
            continue
        methods = list(next(iter(d["tasks"].values()))["methods"])
        lines += ["| task | windows | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
        for t, row in d["tasks"].items():
            best = min(row["methods"].values(), key=lambda m: m["mae_unit"])["mae_unit"]
            cells = [(f"**{m['mae_unit']:.2f}**" if m["mae_unit"] == best else f"{m['mae_unit']:.2f}")
                     + f" / {m['mae_z']:.3f}" for m in row["methods"].values()]
            lines.append(f"| {t} | {row['windows']} | " + " | ".join(cells) + " |")
        lines.append("")
        lines += gain_lines(d["tasks"])
    for name, i in r.get("peers", {}).items():
        line = f"Peer {name} ({i['params']:,} parameters, PyPOTS; zero-shot in {i['stats']} normalisation)"
        if i.get("train_cpu_seconds") is not None:
            line += (f"; adapted for {i['train_cpu_seconds']} CPU-s ({i['epochs']} epochs of the adaptation windows), "
                     f"validation MAE {i['start_val_mae']:.4f} -> {i['best_val_mae']:.4f}")
        lines += [line + ".", ""]
    for a in (r.get("activity"), r.get("diary_activity")):
        if not a:
            continue
        lines += [f"## Activity recognition: {a.get('set', 'aw_fb')} (participant-grouped folds)", "",
                  f"{a['examples']} segments of one label (>= {MIN_SEGMENT} min) from {a['participants']} participants; "
                  f"classes: " + ", ".join(f"{k} {v}" for k, v in a["class_counts"].items()) + ".", "",
                  "| method | accuracy (± std over folds) | macro-F1 (± std) |", "|---|---|---|"]
        for k, v in a["scores"].items():
            lines.append(f"| {k} | {100 * v['accuracy']:.1f}% ± {100 * v['accuracy_std']:.1f} | "
                         f"{100 * v['macro_f1']:.1f}% ± {100 * v['macro_f1_std']:.1f} |")
        lines += ["", "Probes read a model's pooled embedding, averaged over the segment's "
                  f"{schema.PATCH_MINUTES} placements in a patch: linear = logistic regression, forest = the "
                  "random forest of the first row.",
                  "", f"Best embedding probe: {a['best_probe']}. Confusion matrices: "
                  f"{a.get('confusion', 'activity_confusion.png')}.", ""]
    lines += ["Fills of real 60-minute gaps, per method: " + ", ".join(
        f"fills_{d['set']}_{d['channel']}.png" for d in r["imputation"].values() if d["windows"]), ""]
    return "\n".join(lines) + "\n"


def gain_lines(tasks: dict) -> list:
    """Markdown: each model's gain over linear (interpolation) or the last value (extrapolation) with its 95 %
    interval over people, and a warning where fewer than 3 people carry it."""
    rows = []
    for t, row in tasks.items():
        ref = reference(t)
        for name, m in row["methods"].items():
            if ref in m.get("gain", {}):
                g, lo, hi = m["gain"][ref]
                rows.append(f"| {t} | {row.get('people', '?')} | {name} | {100 * g:+.1f} % [{100 * lo:+.1f}, "
                            f"{100 * hi:+.1f}] |")
    if not rows:
        return []
    few = min(row.get("people", 0) for row in tasks.values())
    out = [f"Gains over linear (interpolation, steps visible) and the last value (extrapolation), with the 95 % "
           f"interval of a bootstrap over people (windows resampled within people, {BOOTSTRAP} resamples):", "",
           "| task | people | method | gain [95 % interval] |", "|---|---|---|---|", *rows, ""]
    if few < 3:
        out += [f"**{few} scored {'person' if few == 1 else 'people'}: too few to carry a claim alone**; the interval "
                f"says how much these people's windows vary, not how other people would fare.", ""]
    return out


def _confusion_png(cm_a, cm_b, titles, path, classes=ACTIVITIES):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    for ax, cm, title in zip(axes, (cm_a, cm_b), titles):
        ax.imshow(cm, cmap="Blues")
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(classes)), classes, fontsize=7)
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    tmp = Path(str(path) + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
