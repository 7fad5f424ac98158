"""What each student keeps of the teacher (issue 5): gain over linear interpolation and activity accuracy.

    .venv/bin/python benchmarks/retention.py --teacher-eval benchmarks/results/teacher/generative.json \
        --runs runs/ref --out benchmarks/results/distill

Reads the generative reports that benchmarks/distill_reference.sh wrote (same windows and masks as
the teacher's: same --windows and seed) and the classifier runs' metrics.json.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from machine import machine  # noqa: E402

TASKS = ("interpolation 60 min", "extrapolation 60 min")


def gain(res, task, method):
    r = res[task]
    return 1.0 - r[method]["mae"] / r["linear"]["mae"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher-eval", required=True)
    ap.add_argument("--runs", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out, runs = Path(a.out), Path(a.runs)
    t = json.loads(Path(a.teacher_eval).read_text())["results"]
    nan = {"accuracy": float("nan"), "mAP": float("nan")}

    def clf_metrics(name):
        p = runs / "clf" / name / "metrics.json"
        return json.loads(p.read_text()) if p.exists() else nan

    # full fine-tuning for 8 epochs (the default) and 30; the reference is the better teacher
    t8, t30 = clf_metrics("activity_teacher"), clf_metrics("activity_teacher_e30")
    t_acc = max((t8, t30), key=lambda m: -1 if m["accuracy"] != m["accuracy"] else m["accuracy"])
    rows = [{"model": "teacher (micro)", "params": json.loads((runs / "teacher" / "config.json").read_text())["params"],
             **{f"gain {k}": gain(t, k, "teacher") for k in TASKS}, "activity accuracy": t_acc["accuracy"],
             "activity mAP": t_acc["mAP"], "activity accuracy 8 epochs": t8["accuracy"],
             "activity accuracy 30 epochs": t30["accuracy"]}]
    for ev in sorted(out.glob("*/generative.json")):
        name = ev.parent.name
        s = json.loads(ev.read_text())["results"]
        cfg = json.loads((runs / "students" / name / "config.json").read_text())
        acc8, acc = clf_metrics(f"activity_{name}"), clf_metrics(f"activity_{name}_e30")
        for k in TASKS:  # the same windows and masks, or the comparison is void
            assert abs(s[k]["linear"]["mae"] - t[k]["linear"]["mae"]) < 1e-9, f"{name}: other windows/masks than the teacher's"
        row = {"model": name, "params": cfg["params"], "flops": cfg["flops"],
               "params / teacher": cfg["params"] / cfg["teacher"]["params"],
               "flops / teacher": cfg["flops"] / cfg["teacher"]["flops"],
               **{f"gain {k}": gain(s, k, "student") for k in TASKS},
               "activity accuracy": acc["accuracy"], "activity mAP": acc["mAP"],
               "activity accuracy 8 epochs": acc8["accuracy"], "activity accuracy 30 epochs": acc["accuracy"]}
        for k in TASKS:
            row[f"kept {k}"] = row[f"gain {k}"] / rows[0][f"gain {k}"]
        row["kept activity accuracy"] = acc["accuracy"] / t_acc["accuracy"]
        rows.append(row)
    cmd = "python benchmarks/retention.py " + " ".join(sys.argv[1:])
    (out / "retention.json").write_text(json.dumps({"command": cmd, "machine": machine(), "rows": rows}, indent=1))
    md = ["# Students: what they keep of the teacher", "", "Command: `bash benchmarks/distill_reference.sh` "
          f"(then `{cmd}`)  ", f"Machine: {machine()}", "",
          "Gain = 1 - MAE / MAE(linear interpolation) on the teacher's 512 held-out windows and masks; kept = student / teacher.",
          "Activity: full fine-tuning, held-out subjects; distilled students also learn from the fine-tuned "
          "teacher's softened logits (T = 2, alpha = 0.5; the 8-epoch teacher). Kept is against the better of the "
          "teacher's 8- and 30-epoch fine-tunes; the students' kept figure uses their 30-epoch fine-tune.", "",
          "| model | params (x teacher) | FLOPs (x teacher) | 60-min interp. gain (kept) | 60-min extrap. gain (kept) "
          "| activity acc. 30 epochs (kept) | activity mAP | activity acc. 8 epochs |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "flops" not in r:
            md.append(f"| {r['model']} | {r['params']:,} | 1 | {100 * r['gain interpolation 60 min']:+.1f}% | "
                      f"{100 * r['gain extrapolation 60 min']:+.1f}% | {100 * r['activity accuracy 30 epochs']:.1f}% | "
                      f"{100 * r['activity mAP']:.1f}% (reference: {100 * r['activity accuracy']:.1f}%) | "
                      f"{100 * r['activity accuracy 8 epochs']:.1f}% |")
            continue
        md.append(f"| {r['model']} | {r['params']:,} ({r['params / teacher']:.3f}) | {r['flops'] / 1e6:.1f} M "
                  f"({r['flops / teacher']:.3f}) | {100 * r['gain interpolation 60 min']:+.1f}% "
                  f"({100 * r['kept interpolation 60 min']:.0f}%) | {100 * r['gain extrapolation 60 min']:+.1f}% "
                  f"({100 * r['kept extrapolation 60 min']:.0f}%) | {100 * r['activity accuracy']:.1f}% "
                  f"({100 * r['kept activity accuracy']:.0f}%) | {100 * r['activity mAP']:.1f}% | "
                  f"{100 * r['activity accuracy 8 epochs']:.1f}% |")
    (out / "retention.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
