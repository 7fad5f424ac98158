"""Write a model card (MODEL_CARD.md) for a released run, from what the run, its training data and its
evaluation recorded: nothing in a card is typed by hand except the licence table below, which follows
../shared/data/real/README.md.

    python benchmarks/model_card.py RUN --corpus runs/real/corpus --eval benchmarks/results/real/pretraining/test.json \
        --method NAME [--artifact FILE.tflite ...] --out pretrained/NAME/MODEL_CARD.md
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from real_bars import baseline

LICENCES = {  # source prefix -> (data set, licence as its README states it, what it means for the weights)
    "covid19": ("covid19: Mishra et al. 2020, Nature Biomedical Engineering 4:1208 (files from gireeshkbogu/AnomalyDetect)",
                "no explicit licence on the data (the repository's MIT licence covers its code only)",
                "no grant to redistribute derived models is written down: treat the weights as research use"),
    "fitbit": ("Fitabase exports: Furberg et al., Zenodo doi:10.5281/zenodo.53894", "CC BY 4.0",
               "attribution"),
    "mmash": ("MMASH: Rossi et al., PhysioNet doi:10.13026/cerq-fc86", "Open Data Commons (as PhysioNet states it; "
              "a mirror ships ODbL 1.0)", "ODbL asks that derived databases stay open; check before commercial use"),
    "actiwatch": ("Depresjon (Garcia-Ceja et al., MMSys 2018) and Psykose (Jakobsen et al., CBMS 2020), Simula",
                  "Depresjon: no licence named (cite the paper); Psykose: CC BY-NC 4.0",
                  "Psykose is non-commercial: weights trained on it are for non-commercial use"),
    "awd": ("pyActigraphy 1.2.2 example recordings", "GPL-3.0",
            "GPL-3.0 data in the training set: say so wherever the weights go"),
    "cgmacros": ("CGMacros: Das et al. 2025, PhysioNet v1.0.0 (files from winter141/predictive-model-t2dm)",
                 "CC BY-NC-SA 4.0, as two repositories that copy it state (not checked at the source)",
                 "non-commercial and share-alike: weights trained on it are for non-commercial use, and a model "
                 "adapted or distilled from them must be shared under the same licence"),
    "garmin": ("T1D-UOM: Manchester coordinated diabetes study (rocapp/ManchesterCSCoordinatedDiabetesStudy)",
               "CC BY 4.0 (its CITATION.cff and DataCite record)", "attribution"),
}


def _kind(cfg: dict) -> str:
    d = cfg.get("distill")
    if d is None:
        return "Masked autoencoder (the contract's ViT)"
    if not d.get("use_teacher", True):
        return f"Masked autoencoder of the {d['family']} family, trained on the masks alone (no teacher),"
    return f"Student ({d['family']} family) distilled from `{cfg['teacher']['path']}`,"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--corpus", required=True, help="The dataset folder the run was trained on.")
    ap.add_argument("--eval", required=True, help="evaluate-real's real.json on the test people.")
    ap.add_argument("--method", required=True, help="The run's method name in that report (its folder name).")
    ap.add_argument("--artifact", action="append", default=[], help="A .tflite of this model to list with its size.")
    ap.add_argument("--extra", default="", help="A paragraph (Markdown) added under 'Limits'.")
    ap.add_argument("--machine", default="benchmarks/results/real/pretraining/machine.txt",
                    help="Where the training machine is described.")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    run, corpus = Path(a.run), json.loads((Path(a.corpus) / "dataset.json").read_text())
    cfg = json.loads((run / "config.json").read_text())
    report = json.loads(Path(a.eval).read_text())
    rows = list(csv.DictReader(open(run / "log.csv")))
    seconds = sum(float(r["seconds"]) for r in rows)
    sources = sorted({s.split("-", 1)[0] for s in corpus["subjects"]})
    splits = {k: sum(1 for v in corpus["subjects"].values() if v == k) for k in ("train", "val", "test")}

    out = [f"# Model card: {run.name}", "",
           f"{_kind(cfg)} `{cfg.get('name', cfg.get('family', ''))}`, {cfg.get('params', 0):,} parameters. "
           "Loads with `keras.models.load_model(..., safe_mode=True)` through `lsm_edge.core.run.load_run`; every "
           "lsm-edge command takes the folder as a run (`train --init`, `distill --teacher`, `convert`, "
           "`evaluate-real --teacher` / `--with`).", "",
           "## Training data", "",
           f"`lsm-edge data import ../shared/data/real`: {len(corpus['subjects'])} people with 300-minute windows, split by "
           f"person and stratified by source: {splits['train']} train, {splits['val']} validation, {splits['test']} test "
           f"(windows {corpus['windows_per_split']}). Trained on the train people only; chosen on the validation people; "
           "the figures below are on the test people.", "",
           "| source | data set | licence | what it means for these weights |", "|---|---|---|---|"]
    for s in sources:
        if s in LICENCES:
            d, lic, means = LICENCES[s]
            out.append(f"| {s} | {d} | {lic} | {means} |")
    out += ["", "## Recipe and compute", "", "```json", json.dumps(cfg.get("train") or cfg.get("distill") or cfg, indent=1), "```", "",
            f"{rows[-1].get('step', len(rows))} steps, {seconds / 60:.1f} minutes of training on the machine in "
            f"{a.machine} (2 CPU cores).", ""]
    for art in a.artifact:
        out.append(f"- `{Path(art).name}`: {Path(art).stat().st_size / 1e3:,.0f} KB")
    ours = [a.method] + [Path(art).stem for art in a.artifact]
    base = ["mean (window)", "median (window)", "last value", "linear", "teacher adapted"]
    adapted = any("teacher adapted" in row["methods"] for d in report["imputation"].values() for row in d["tasks"].values())
    if not adapted:
        base = base[:-1]
    out += ["", "## Figures on the test people (MAE in the channel's unit, 60-minute spans)", "",
            "`teacher adapted` is the simulator-only teacher adapted on the train people (200 steps): what real "
            "pretraining is compared with." if adapted else
            f"The gain of `{a.method}` is over the issue's baseline (heart rate: linear, or the last value for "
            "extrapolation; steps and counts: the best classical method of the row), with the 95 % interval of a "
            "bootstrap over people; under 3 people it cannot carry a claim alone.", "",
            "| set | task | people | windows | " + " | ".join(f"`{m}`" for m in ours + base) + " | gain [95 % interval] |",
            "|---|---|---|---|" + "---|" * (len(ours + base) + 1)]
    for key, d in report["imputation"].items():
        for task, row in d["tasks"].items():
            m = row["methods"]
            if not task.endswith(" 60 min") or a.method not in m:
                continue
            cells = [f"{m[k]['mae_unit']:.2f}" if k in m else "" for k in ours + base]
            _, ref, _ = baseline(d["channel"], task, m)
            g = m[a.method].get("gain", {}).get(ref)
            cells.append(f"{100 * g[0]:+.1f} % [{100 * g[1]:+.1f}, {100 * g[2]:+.1f}] over {ref}" if g else "")
            out.append(f"| {key} | {task} | {len(d['subjects'])} | {row['windows']} | " + " | ".join(cells) + " |")
    for key in ("activity", "diary_activity"):
        act = report.get(key)
        if act:
            probes = {k: v for k, v in act["scores"].items() if any(m in k for m in ours)}
            best = max(probes.items(), key=lambda kv: kv[1]["accuracy"], default=None)
            base = max(("random forest (segment stats)", "logistic regression (segment stats)"),
                       key=lambda k: act["scores"][k]["accuracy"])
            if best:
                out += ["", f"{act.get('set', key)}: best probe on this model's embedding {100 * best[1]['accuracy']:.1f} % "
                        f"({best[0]}) against the best classical baseline, {base.split(' (')[0]} on segment statistics, "
                        f"{100 * act['scores'][base]['accuracy']:.1f} % ({act['examples']} segments, "
                        f"{act['participants']} people, grouped folds)."]
    out += ["", "## Limits", "",
            "- Real wearables here carry one to a few channels (heart rate, steps, activity counts, RR on 15 MMASH "
            "people); the other schema features were never observed in training and the model's fills there mean "
            "nothing.",
            "- Test people are few per source (see the table); the figures carry that uncertainty.",
            "- Several covid19 people had COVID-19 during their recording; Depresjon and Psykose people are patients "
            "and controls of psychiatric studies: not a general population.",
            "- Person-level labels from these embeddings (depression, schizophrenia, glycaemic status; "
            "benchmarks/results/people/README.md) are research results on a few dozen people, not a diagnostic."]
    if a.extra:
        out += ["", a.extra]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
