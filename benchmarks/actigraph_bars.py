"""The bars of the actigraph issue from evaluate-real's real.json: per device family, the adapted model
against linear interpolation on 60-minute gaps of the activity channel (in the device's unit) and of skin
temperature; light is scored by the baselines only (no schema slot, so no model fills it).

Usage: python benchmarks/actigraph_bars.py benchmarks/results/actigraphs/real.json > bars.md
"""

import json
import sys

TASK = "interpolation 60 min"


def main(path):
    r = json.loads(open(path).read())
    print("# Actigraph bars: the adapted model against linear interpolation, 60-minute gaps\n")
    print(f"From `{path}` (command: `{r['command']}`). Adaptation: {r.get('adaptation')}, {r['adapt_steps']} steps.  ")
    print("Families scored on the later third of each recording (too few people to hold one out): "
          + ", ".join(r.get("time_split_sets", [])) + "  ")
    print("Too short to hold out a window after adapting on one: "
          + (", ".join(f"{k} ({v} min)" for k, v in r.get("too_short", {}).items()) or "none") + "\n")
    print("| family | channel (unit) | scored people | windows | linear MAE | adapted MAE | zero-shot MAE | "
          "adapted / linear | bar |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, d in r["imputation"].items():
        t = d["tasks"].get(TASK)
        if not t:
            print(f"| {d['set']} | {d['channel']} ({d['unit']}) | {len(d['subjects'])} | 0 | - | - | - | - | too short |")
            continue
        m = t["methods"]
        lin = m["linear"]["mae_unit"]
        if "teacher adapted" not in m:
            print(f"| {d['set']} | {d['channel']} ({d['unit']}) | {len(d['subjects'])} | {t['windows']} | {lin:.2f} | "
                  f"(no model slot) | - | - | baselines only |")
            continue
        ad, zs = m["teacher adapted"]["mae_unit"], m["teacher zero-shot"]["mae_unit"]
        bar = "met" if ad < lin else f"missed by {100 * (ad / lin - 1):.0f} %"
        print(f"| {d['set']} | {d['channel']} ({d['unit']}) | {len(d['subjects'])} | {t['windows']} | {lin:.2f} | "
              f"{ad:.2f} | {zs:.2f} | {ad / lin:.2f} | {bar} |")


if __name__ == "__main__":
    main(sys.argv[1])
