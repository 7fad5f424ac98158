"""Issue 46 §2-§3: the release retrained on every real cohort, and truth per cohort.

    python benchmarks/cohorts.py release   import ../shared/data/real (every cohort, CGMacros and T1D-UOM
                                           included); the conv teacher on its train people (the recipe the
                                           last release chose on validation people: conv96x5, masks alone,
                                           12,000 steps, its own corpus's normalisation); the conv64 and the
                                           full-integer intconv48n students distilled from it (the recipes of the
                                           last release); the .tflite files
    python benchmarks/cohorts.py plots     fills of the left-out cohorts' test people by each of those models
    python benchmarks/cohorts.py folder    `data import` on every real and actigraph set plus files of other kinds
    python benchmarks/cohorts.py score     the new teacher beside the release before it on the validation people
                                           (the choice), then with its students and .tflite files on the test people
    python benchmarks/cohorts.py publish   the new release into pretrained/: runs, .tflite files, model cards, bars
    python benchmarks/cohorts.py loco      per cohort: a teacher pretrained without it (LOCO_STEPS), scored
                                           zero-shot on its test people and after `train --init` adaptation
                                           on 1, 3 and all of its train people (bootstrap intervals over people)

Every stage skips what is finished and resumes what was interrupted (the runs checkpoint).  Runs under
runs/cohorts/ (not committed); results under benchmarks/results/real/cohorts/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "runs" / "cohorts"
RES = ROOT / "benchmarks" / "results" / "real" / "cohorts"
REAL = ROOT.parent / "shared" / "data" / "real"
STATS_FROM = ROOT / "pretrained" / "real_conv96x5"  # lends only its embedding width: every run refits its stats
BIN = Path(sys.executable).parent


def sh(*args, log=None):
    print("$", " ".join(map(str, args)), flush=True)
    with open(log, "w") if log else open("/dev/null", "w") as f:
        subprocess.run([str(a) for a in args], check=True, stdout=f if log else None)


def conv_run(data, out, steps: int, dim: int = 96, depth: int = 5, warmup: int = 600, every: int = 1000):
    """The conv family on the masks alone (no teacher), normalised by its own corpus."""
    from lsm_edge.verbs.distill import distill
    from lsm_edge.recipe import DistillConfig

    if (Path(out) / "model.keras").exists():
        return Path(out)
    cfg = replace(DistillConfig.from_toml("distill/conv64.toml"), dim=dim, depth=depth, steps=steps,
                  warmup_steps=warmup, checkpoint_every=every, use_teacher=False)
    resume = (Path(out) / "checkpoint" / "state.json").exists()
    return distill(STATS_FROM, data, out, cfg, resume=resume, progress=True, refit_stats=True)


def student(teacher, data, out, recipe: str, **overrides):
    from lsm_edge.verbs.distill import distill
    from lsm_edge.recipe import DistillConfig

    if (Path(out) / "model.keras").exists():
        return Path(out)
    cfg = replace(DistillConfig.from_toml(f"distill/{recipe}"), **overrides)
    resume = (Path(out) / "checkpoint" / "state.json").exists()
    return distill(teacher, data, out, cfg, resume=resume, progress=True)


def release():
    RES.mkdir(parents=True, exist_ok=True)
    corpus = OUT / "corpus"
    if not (corpus / "dataset.json").exists():
        sh(BIN / "lsm-edge", "data", "import", REAL, "--out", corpus, log=RES / "corpus.txt")
    teacher = conv_run(corpus, OUT / "conv96x5", 12000, every=2000)
    s64 = student(teacher, corpus, OUT / "student_conv64", "conv64.toml", steps=3000, warmup_steps=150,
                  checkpoint_every=1000)
    sint = student(teacher, corpus, OUT / "student_intconv48n_18k", "intconv.toml", dim=48, norm=True, steps=18000,
                   warmup_steps=600, checkpoint_every=1000)  # the recipe int8_suite.sh chose for the last release
    art = OUT / "artifacts"
    art.mkdir(exist_ok=True)
    strict = ("--strict", "--data", corpus)
    for run, quant, name, extra in ((teacher, "float32", "conv96x5_float32", ()),
                                    (s64, "int8", "student_conv64_int8", ()),
                                    (s64, "dynamic", "student_conv64_dynamic", ()),
                                    (sint, "int8", "intconv48n_18k_int8", strict),
                                    (sint, "int8", "intconv48n_18k_int8io", strict + ("--io", "int8"))):
        if not (art / f"{name}.tflite").exists():
            sh(BIN / "lsm-edge", "convert", run, "--quant", quant, *extra, "--out", art / f"{name}.tflite")


OLD = ROOT / "pretrained" / "real_conv96x5"  # the release before this one (its corpus had no CGMacros, no T1D-UOM)


def score():
    """The new teacher beside the release before it: on the validation people (the choice), then on the test
    people with the students and every .tflite (the figures).  Neither adapts (``--adapt-steps 0``)."""
    run = OUT / "conv96x5"
    common = ["--data", REAL, "--teacher", OLD, "--with", run, "--adapt-steps", "0", "--horizons", "60", "--quiet"]
    for people, extra in (("val", []), ("test", ["--with", OUT / "student_conv64", "--with", OUT / "student_intconv48n_18k",
                                                 "--artifacts", OUT / "artifacts"])):
        out = OUT / people
        if not (out / "real.json").exists():
            sh(BIN / "lsm-edge", "evaluate-real", *common, *extra, "--people", people, "--out", out)
        for f in ("real.json", "real.md"):
            (RES / f"{people}.{f.split('.')[1]}").write_text((out / f).read_text())
        if people == "val":
            (RES / "choice.md").write_text(choice(json.loads((out / "real.json").read_text())))
    for png in (OUT / "test").glob("*.png"):
        (RES / png.name).write_bytes(png.read_bytes())


def publish(extra: str = ""):
    """The new release into pretrained/ (runs without optimizer state, .tflite files, model cards, bars)."""
    P = ROOT / "pretrained"
    py = BIN / "python"
    art = OUT / "artifacts"
    for run, dst, files in ((OUT / "conv96x5", P / "real_conv96x5", ["conv96x5_float32"]),
                            (OUT / "student_conv64", P / "real_student_conv64", ["student_conv64_int8", "student_conv64_dynamic"]),
                            (OUT / "student_intconv48n_18k", P / "real_student_intconv",
                             ["intconv48n_18k_int8", "intconv48n_18k_int8io"])):
        sh(py, ROOT / "benchmarks" / "release_run.py", run, dst)
        for f in files:
            (dst / f"{f}.tflite").write_bytes((art / f"{f}.tflite").read_bytes())
        sh(py, ROOT / "benchmarks" / "model_card.py", dst, "--corpus", OUT / "corpus", "--eval", RES / "test.json",
           "--method", run.name, *[x for f in files for x in ("--artifact", dst / f"{f}.tflite")], "--extra", extra,
           "--machine", "benchmarks/results/real/cohorts/machine.txt", "--out", dst / "MODEL_CARD.md")
    sh(py, ROOT / "benchmarks" / "real_bars.py", RES / "test.json", "--models", "conv96x5", "student_conv64_int8",
       "intconv48n_18k_int8", "conv96x5_float32", "teacher zero-shot", log=RES / "bars.md")
    sh(py, ROOT / "benchmarks" / "machine.py", log=RES / "machine.txt")


def choice(report: dict) -> str:
    """The rule the release is chosen by, on the validation people: the new teacher's MAE (z-units) against the
    last release's, relative, weighted by windows over every 60-minute row (heart rate, steps, counts); lower wins."""
    rows = []
    for key, d in report["imputation"].items():
        for t, row in d["tasks"].items():
            m = row["methods"]
            if "conv96x5" in m and "teacher zero-shot" in m:
                rows.append((key, t, row["windows"], d["channel"],
                             m["conv96x5"]["mae_z"] / m["teacher zero-shot"]["mae_z"] - 1))

    def mean(sel):
        sel = list(sel)
        return 100 * sum(w * r for _, _, w, _, r in sel) / max(1, sum(w for _, _, w, _, r in sel))

    better = sum(r < -1e-9 for *_, r in rows)
    worse = sum(r > 1e-9 for *_, r in rows)
    lines = ["# The choice, on the validation people", "",
             "Rule: the new teacher (`conv96x5`, every cohort) replaces the last release (`teacher zero-shot`, no CGMacros "
             "or T1D-UOM) when its MAE, relative to the last release's and weighted by windows over every 60-minute "
             "row of `val.md`, is lower.", "",
             f"- all {len(rows)} rows: {mean(rows):+.2f} % (better on {better}, worse on {worse}, equal on "
             f"{len(rows) - better - worse})",
             f"- heart-rate rows: {mean(x for x in rows if x[3] == 'heart_rate'):+.2f} %", "",
             "| set, task | windows | relative MAE |", "|---|---|---|",
             *[f"| {k}, {t} | {w} | {100 * r:+.1f} % |" for k, t, w, _, r in rows], "",
             f"Chosen: {'the new teacher' if mean(rows) < 0 else 'the last release (kept)'}."]
    return "\n".join(lines) + "\n"


def folder():
    """The import bar: one folder holding every real set, every actigraph export, the other exports of
    benchmarks/actigraph_variants.py and a few files of other kinds -> `data import` reads the former and
    lists the latter (results/import_everything.txt)."""
    import shutil

    RES.mkdir(parents=True, exist_ok=True)
    src = OUT / "everything"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    (src / "real").symlink_to(REAL, target_is_directory=True)
    (src / "actigraphs").symlink_to(REAL.parent / "actigraphs", target_is_directory=True)
    sh(BIN / "python", ROOT / "benchmarks" / "actigraph_variants.py", REAL.parent / "actigraphs", src / "variants")
    (src / "notes").mkdir()
    (src / "notes" / "protocol.pdf").write_bytes(b"%PDF-1.4 a protocol")
    (src / "notes" / "visits.xlsx").write_bytes(b"PK\x03\x04 an Excel sheet")
    (src / "notes" / "empty.csv").write_bytes(b"")
    (src / "notes" / "weights.csv").write_text("subject,kg\n1,70\n")
    (src / "notes" / "export.dat").write_bytes(bytes(range(256)))
    out = OUT / "everything_import"
    if out.exists():
        shutil.rmtree(out)
    r = subprocess.run([str(BIN / "lsm-edge"), "data", "import", str(src), "--out", str(out)], capture_output=True,
                       text=True)
    (RES / "import_everything.txt").write_text(
        f"$ python benchmarks/cohorts.py folder   (lsm-edge data import {src.relative_to(ROOT)} --out ...)\n"
        f"exit status {r.returncode}\n\n{r.stdout}\n--- stderr ---\n{r.stderr}")
    print(r.stdout[-3000:], r.stderr[-2000:])


HR_COHORTS = ("covid19", "fitabase", "mmash", "cgmacros", "t1d_uom")
COUNT_COHORTS = ("depresjon", "psykose", "actigraphy")
LOCO_STEPS = 3000  # a quarter of the release's 12,000: eight teachers on 2 cores (the budget is in the report)
ADAPT_STEPS = 200  # evaluate-real's adaptation


def by_hash(tls):
    import hashlib

    from lsm_edge.data.autoimport import split_key

    return sorted(tls, key=lambda t: hashlib.sha256(split_key(t.subject).encode()).hexdigest())


def write_windows(tls_by_split: dict, out: Path, what: str) -> Path:
    """A dataset folder of the windows of ``{split index: timelines}`` (the import's window rule)."""
    from lsm_edge.data.dataset import DatasetWriter
    from lsm_edge.data.windows import Windows, cut_windows

    if (out / "dataset.json").exists():
        return out
    w = DatasetWriter(out, {"kind": "cohorts benchmark", "what": what,
                            "subjects": sorted(t.subject for tls in tls_by_split.values() for t in tls)})
    w.write_shard(0, Windows.concat([cut_windows(t, split=k) for k, tls in tls_by_split.items() for t in tls]))
    w.finish()
    return out


def loco():
    """Leave one cohort out: pretrain without it, score on its test people zero-shot and adapted on 1, 3 and all
    of its train people."""
    import numpy as np

    from lsm_edge import schema
    from lsm_edge.data.autoimport import split_key
    from lsm_edge.api import fit
    from lsm_edge.core.scoring import classical_fills, keras_imputer, score_imputation
    from lsm_edge.verbs.evaluate_real import _adapt, channels_of, read_sets, roles, windows_of
    from lsm_edge.core.run import load_run

    RES.mkdir(parents=True, exist_ok=True)
    sets = read_sets(REAL, progress=True)
    role = roles([t for tls in sets.values() for t in tls])
    classical = classical_fills()
    report = {"command": "python benchmarks/cohorts.py loco", "pretraining_steps": LOCO_STEPS,
              "adapt_steps": ADAPT_STEPS, "cohorts": {}}
    for c in HR_COHORTS + COUNT_COHORTS:
        if c not in sets:
            continue
        base = OUT / "loco" / c
        others = [t for s, tls in sets.items() if s != c for t in tls]
        data = write_windows({0: [t for t in others if role[t.subject] == "train"],
                              1: [t for t in others if role[t.subject] == "val"]}, base / "data", f"every cohort but {c}")
        teacher = conv_run(data, base / "teacher", LOCO_STEPS, every=1000)
        mine = sets[c]
        hr = schema.INDEX["heart_rate"]  # a heart-rate cohort adapts on its people with heart rate
        train_people = by_hash([t for t in mine if role[t.subject] == "train" and
                                (c not in HR_COHORTS or np.isfinite(t.values[:, hr]).any())])
        test = [t for t in mine if role[t.subject] == "test"]
        methods = dict(classical)
        m, st, _ = load_run(teacher)
        methods["zero-shot"] = keras_imputer(m, st)
        for k in (1, 3, len(train_people)):
            if k > len(train_people) or f"adapted on {k}" in methods or k == 0:
                continue
            run = _adapt(fit, train_people[:k], base / f"adapt{k}_data", base / f"adapt{k}", teacher, ADAPT_STEPS, 0, True)
            methods[f"adapted on {k}"] = keras_imputer(run[0], run[1])
        entry = {"train_people": [t.subject for t in train_people], "test_people": [t.subject for t in test],
                 "channels": {}}
        chans = [ch for ch in channels_of(mine) if ch in ("heart_rate", "step_count", "log_energy")]
        if c in HR_COHORTS:
            chans = [ch for ch in chans if ch in ("heart_rate", "step_count")]
        for ch in chans:
            win = [windows_of(t, ch) for t in test]
            if not sum(len(w) for w in win):
                continue
            who = np.asarray([split_key(t.subject) for t, w in zip(test, win) for _ in range(len(w))])
            tasks = ("interpolation", "extrapolation")
            if ch == "heart_rate" and "step_count" in channels_of(mine):
                tasks += ("steps visible",)
            entry["channels"][ch] = {"windows": int(sum(len(w) for w in win)),
                                     "tasks": score_imputation(np.concatenate(win), ch, methods, 0, True, (60,), tasks,
                                                               desc=f"{c} {ch}", people=who)}
        report["cohorts"][c] = entry
        (RES / "loco.json").write_text(json.dumps(report, indent=1))
    (RES / "loco.md").write_text(loco_markdown(report))


def plots():
    """Fills of real 60-minute gaps of each left-out cohort's test people (the score's own draws): classical
    methods, the teacher pretrained without the cohort and its adaptations (results/fills_loco_<cohort>_<channel>.png)."""
    import numpy as np  # noqa: F401  (the scoring functions' arrays)

    from lsm_edge.verbs.evaluate_real import fill_plot, read_sets, roles, windows_of
    from lsm_edge.core.scoring import keras_imputer, last_value_fill, linear_fill
    from lsm_edge.core.run import load_run

    sets = read_sets(REAL, progress=True)
    role = roles([t for tls in sets.values() for t in tls])
    for c in HR_COHORTS + COUNT_COHORTS:
        base = OUT / "loco" / c
        if c not in sets or not (base / "teacher" / "model.keras").exists():
            continue
        methods = {"last value": last_value_fill, "linear": linear_fill}
        m, st, _ = load_run(base / "teacher")
        methods["zero-shot"] = keras_imputer(m, st)
        for run in sorted(base.glob("adapt*[0-9]"), key=lambda p: int(p.name[5:])):
            if (run / "model.keras").exists():
                am, ast_, _ = load_run(run)
                methods[f"adapted on {run.name[5:]}"] = keras_imputer(am, ast_)
        test = [t for t in sets[c] if role[t.subject] == "test"]
        ch = "heart_rate" if c in HR_COHORTS else "log_energy"
        win = [w for w in (windows_of(t, ch) for t in test) if len(w)]
        if win:
            fill_plot(np.concatenate(win), ch, "bpm" if ch == "heart_rate" else "counts/min", methods, 0,
                      RES / f"fills_loco_{c}_{ch}.png")


LABEL = {"heart_rate": "heart rate", "step_count": "steps", "log_energy": "activity counts"}
ZERO_SHOT_BAR = {"interpolation": 5.0, "extrapolation": 10.0}  # the bars for a cohort left out, in %
ADAPTED_BAR = {"interpolation": 10.0, "extrapolation": 15.0}


def bar_rows(r: dict) -> list:
    """The issue's bars per cohort: heart rate against linear (interpolation) or the last value (extrapolation),
    zero-shot and adapted on all train people; steps and counts against the best classical method of the row."""
    from real_bars import baseline  # the baseline of a row: the bar's for heart rate, else the best classical

    out = ["| cohort | channel, task | test people | windows | baseline | zero-shot | bar | adapted on all | bar |",
           "|---|---|---|---|---|---|---|---|---|"]
    for c, e in r["cohorts"].items():
        for ch, d in e["channels"].items():
            for t, row in d["tasks"].items():
                if "steps visible" in t:
                    continue
                m = row["methods"]
                kind, ref, _ = baseline(ch, t, m)
                zb, ab = (ZERO_SHOT_BAR[kind], ADAPTED_BAR[kind]) if ch == "heart_rate" else (0.0, 0.0)
                adapted = max((k for k in m if k.startswith("adapted on ")), key=lambda k: int(k.split()[-1]))

                def cell(k, b):
                    g, lo, hi = (100 * x for x in m[k]["gain"][ref])
                    return f"{g:+.1f} % [{lo:+.1f}, {hi:+.1f}]", ("✓" if g >= b and g > 0 else "✗") + (
                        f" +{b:.0f} %" if b else " beat it")

                z, zm = cell("zero-shot", zb)
                a, am = cell(adapted, ab)
                out.append(f"| {c} | {LABEL[ch]}, {kind} | {row['people']} | {row['windows']} | {ref} "
                           f"{m[ref]['mae_unit']:.2f} | {z} | {zm} | {a} ({adapted.split()[-1]}) | {am} |")
    return out + [""]


def loco_markdown(r: dict) -> str:
    from lsm_edge.core.scoring import reference

    lines = ["# Leave one cohort out: pretrained without the cohort, scored on its test people", "",
             f"Command: `{r['command']}`. Each teacher: the release's recipe (conv96x5 on the masks alone, its corpus's "
             f"own normalisation) for {r['pretraining_steps']:,} steps on the train people of every other cohort; "
             f"adapted with `train --init` ({r['adapt_steps']} steps, evaluate-real's adaptation) on the first 1, 3 "
             f"and all of the cohort's train people (in hash order; for a heart-rate cohort, those with heart rate). Heart rate, steps and counts at 60 minutes, MAE "
             f"in the channel's unit; gains over linear (interpolation) or the last value (extrapolation) with the 95 % "
             f"interval of a bootstrap over people.", "", "## The bars", "", *bar_rows(r), "## Every row", ""]
    for c, e in r["cohorts"].items():
        lines += [f"### {c}", "", f"Test people ({len(e['test_people'])}): {', '.join(e['test_people'])}; train people: "
                  f"{len(e['train_people'])}.", ""]
        if len(e["test_people"]) < 3:
            n = len(e["test_people"])
            lines += [f"**{n} test {'person' if n == 1 else 'people'}: too few to carry a claim alone** (the interval "
                      f"resamples {'that person' if n == 1 else 'these people'}'s windows; it says nothing of other "
                      f"people).", ""]
        for ch, d in e["channels"].items():
            for t, row in d["tasks"].items():
                ref = reference(t)
                ms = row["methods"]
                cells = [f"{k} {v['mae_unit']:.2f}" + (f" ({100 * v['gain'][ref][0]:+.1f} % [{100 * v['gain'][ref][1]:+.1f}, "
                                                       f"{100 * v['gain'][ref][2]:+.1f}])" if "gain" in v else "")
                         for k, v in ms.items() if k == ref or "gain" in v]
                what = t if t.startswith("heart rate") else f"{LABEL[ch]}, {t}"
                who = "1 person" if row["people"] == 1 else f"{row['people']} people"
                lines.append(f"- {what} ({row['windows']} windows, {who}): " + "; ".join(cells))
            lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=["release", "score", "publish", "loco", "plots", "folder", "md"])
    ap.add_argument("--extra", default="", help="publish: a paragraph for the model cards' Limits (the bars' reading)")
    a = ap.parse_args()
    {"release": release, "score": score, "publish": lambda: publish(a.extra), "loco": loco, "plots": plots, "folder": folder,
     "md": lambda: (RES / "loco.md").write_text(loco_markdown(json.loads((RES / "loco.json").read_text())))}[a.stage]()
