"""The bars of the actigraph issue, from evaluate-real's real.json files.

    select VAL_JSON...         per device family, the adaptation (steps, normalisation) whose adapted model has the lowest
                               mean (adapted MAE / linear MAE) on the validation part, over the bar's channels
                               (the activity channel, and skin temperature where the family records it), on
                               60-minute interpolation -> prints Markdown, writes the choice to ``--out``.
    bars CHOSEN TEST_JSON...   per family, from the test run of its chosen steps: the adapted model against
                               linear interpolation on 60-minute gaps of the activity channel (in the device's
                               unit) and of skin temperature; light by the baselines only (no schema slot).

Nothing is chosen on the scored part: validation is the later third of each recording's adaptation part
(or a validation person), which the test run never scores.
Usage: python benchmarks/actigraph_bars.py select --out chosen.json runs/actigraphs/val_*/real.json
       python benchmarks/actigraph_bars.py bars chosen.json runs/actigraphs/test_*/real.json
"""

import argparse
import json
from pathlib import Path

TASK = "interpolation 60 min"
BAR_CHANNELS = ("log_energy", "skin_temperature")
DEFAULT = "200 steps, init norm"


def config(r) -> str:
    """A run's adaptation: "<steps> steps, <init|own> norm"."""
    return f"{r['adapt_steps']} steps, {r.get('adapt_norm', 'init')} norm"


def _load(paths):
    """-> {config: real.json} of each run, by steps then normalisation."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    runs.sort(key=lambda r: (r.get("adapt_norm", "init"), r["adapt_steps"]))
    return {config(r): r for r in runs}


def _ratios(r, family):
    out = {}
    for d in r["imputation"].values():
        t = d["tasks"].get(TASK)
        if d["set"] == family and d["channel"] in BAR_CHANNELS and t and "teacher adapted" in t["methods"]:
            m = t["methods"]
            out[d["channel"]] = (m["teacher adapted"]["mae_unit"] / m["linear"]["mae_unit"], t["windows"])
    return out


def select(paths, out):
    runs = _load(paths)
    families = sorted({d["set"] for r in runs.values() for d in r["imputation"].values()})
    any_run = next(iter(runs.values()))
    print("# Adaptation steps chosen on the validation part, per device family\n")
    print("Validation: " + ("; ".join(f"`{r['command']}`" for r in runs.values())) + "  ")
    print("Validation part: the later third of each recording's adaptation part (families with too few people "
          "to hold one out), or the validation person.  Criterion: mean over the bar's channels of "
          "adapted / linear MAE on 60-minute interpolation; ties to fewer steps.  Too short for a validation "
          "part: " + (", ".join(f"{k} ({v} min)" for k, v in any_run.get("too_short", {}).items()) or "none") + "\n")
    print("| family | " + " | ".join(runs) + " | chosen |")
    print("|---|" + "---|" * len(runs) + "---|")
    chosen = {}
    for f in families:
        cells, score = [], {}
        for s, r in runs.items():
            rat = _ratios(r, f)
            if rat:
                score[s] = sum(v for v, _ in rat.values()) / len(rat)
                cells.append(", ".join(f"{c} {v:.3f} ({n} w)" for c, (v, n) in rat.items()))
            else:
                cells.append("-")
        order = list(runs)
        chosen[f] = min(score, key=lambda s: (round(score[s], 6), order.index(s))) if score else DEFAULT
        note = "" if score else " (no validation part: default)"
        print(f"| {f} | " + " | ".join(cells) + f" | {chosen[f]}{note} |")
    Path(out).write_text(json.dumps(chosen, indent=1) + "\n")


def bars(chosen_path, paths):
    chosen = json.loads(Path(chosen_path).read_text())
    runs = _load(paths)
    print("# Actigraph bars: the adapted model against linear interpolation, 60-minute gaps\n")
    for s, r in runs.items():
        print(f"- {s}: `{r['command']}`")
    some = next(iter(runs.values()))
    print(f"\nAdaptation: {some.get('adaptation')}, steps and normalisation per family chosen on validation "
          "(selection.md).  "
          "Families scored on the later third of each recording (too few people to hold one out): "
          + ", ".join(some.get("time_split_sets", [])) + ".  Too short to hold out a window after adapting on "
          "one: " + (", ".join(f"{k} ({v} min)" for k, v in some.get("too_short", {}).items()) or "none") + "\n")
    print("| family | channel (unit) | adaptation | scored people | windows | linear MAE | adapted MAE | zero-shot MAE | "
          "adapted / linear | bar |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    met = missed = 0
    for f, steps in sorted(chosen.items()):
        r = runs.get(steps)
        if r is None:
            print(f"| {f} | - | {steps} | - | - | - | - | - | - | no test run of {steps} |")
            continue
        for d in r["imputation"].values():
            if d["set"] != f:
                continue
            t = d["tasks"].get(TASK)
            head = f"| {f} | {d['channel']} ({d['unit']}) | {steps} | {len(d['subjects'])} |"
            if not t:
                why = ("too short" if f in r.get("time_split_sets", []) else
                       "the scored person lacks this channel" if d["subjects"] == [] else "no scored window")
                print(f"{head} 0 | - | - | - | - | {why} |")
                continue
            m = t["methods"]
            lin = m["linear"]["mae_unit"]
            if "teacher adapted" not in m:
                print(f"{head} {t['windows']} | {lin:.2f} | (no schema slot) | - | - | baselines only |")
                continue
            ad, zs = m["teacher adapted"]["mae_unit"], m["teacher zero-shot"]["mae_unit"]
            if d["channel"] in BAR_CHANNELS:
                bar = "met" if ad < lin else f"missed by {100 * (ad / lin - 1):.1f} %"
                met, missed = met + (ad < lin), missed + (ad >= lin)
            else:
                bar = "(not a bar channel)"
            print(f"{head} {t['windows']} | {lin:.2f} | {ad:.2f} | {zs:.2f} | {ad / lin:.3f} | {bar} |")
    print(f"\nBar channels met: {met} of {met + missed}.")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("select")
    a.add_argument("--out", required=True)
    a.add_argument("runs", nargs="+")
    b = sub.add_parser("bars")
    b.add_argument("chosen")
    b.add_argument("runs", nargs="+")
    args = ap.parse_args()
    select(args.runs, args.out) if args.cmd == "select" else bars(args.chosen, args.runs)
