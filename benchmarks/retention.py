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
    t_acc = json.loads((runs / "clf" / "activity_teacher" / "metrics.json").read_text())
    rows = [{"model": "teacher (micro)", "params": json.loads((runs / "teacher" / "config.json").read_text())["params"],
             **{f"gain {k}": gain(t, k, "teacher") for k in TASKS}, "activity accuracy": t_acc["accuracy"],
             "activity mAP": t_acc["mAP"]}]
    for ev in sorted(out.glob("*/generative.json")):
        name = ev.parent.name
        s = json.loads(ev.read_text())["results"]
        cfg = json.loads((runs / "students" / name / "config.json").read_text())
        clf = runs / "clf" / f"activity_{name}" / "metrics.json"
        acc = json.loads(clf.read_text()) if clf.exists() else {"accuracy": float("nan"), "mAP": float("nan")}
        for k in TASKS:  # the same windows and masks, or the comparison is void
            assert abs(s[k]["linear"]["mae"] - t[k]["linear"]["mae"]) < 1e-9, f"{name}: other windows/masks than the teacher's"
        row = {"model": name, "params": cfg["params"], "flops": cfg["flops"],
               "params / teacher": cfg["params"] / cfg["teacher"]["params"],
               "flops / teacher": cfg["flops"] / cfg["teacher"]["flops"],
               **{f"gain {k}": gain(s, k, "student") for k in TASKS},
               "activity accuracy": acc["accuracy"], "activity mAP": acc["mAP"]}
        for k in TASKS:
            row[f"kept {k}"] = row[f"gain {k}"] / rows[0][f"gain {k}"]
        row["kept activity accuracy"] = acc["accuracy"] / t_acc["accuracy"]
        rows.append(row)
    cmd = "python benchmarks/retention.py " + " ".join(sys.argv[1:])
    (out / "retention.json").write_text(json.dumps({"command": cmd, "machine": machine(), "rows": rows}, indent=1))
    md = ["# Students: what they keep of the teacher", "", "Command: `bash benchmarks/distill_reference.sh` "
          f"(then `{cmd}`)  ", f"Machine: {machine()}", "",
          "Gain = 1 - MAE / MAE(linear interpolation) on the teacher's 512 held-out windows and masks; kept = student / teacher.",
          "Activity: full fine-tuning (students: with the fine-tuned teacher's logits when distilled), held-out subjects.", "",
          "| model | params (x teacher) | FLOPs (x teacher) | 60-min interp. gain (kept) | 60-min extrap. gain (kept) | activity acc. (kept) | activity mAP |",
          "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "flops" not in r:
            md.append(f"| {r['model']} | {r['params']:,} | 1 | {100 * r['gain interpolation 60 min']:+.1f}% | "
                      f"{100 * r['gain extrapolation 60 min']:+.1f}% | {100 * r['activity accuracy']:.1f}% | "
                      f"{100 * r['activity mAP']:.1f}% |")
            continue
        md.append(f"| {r['model']} | {r['params']:,} ({r['params / teacher']:.3f}) | {r['flops'] / 1e6:.1f} M "
                  f"({r['flops / teacher']:.3f}) | {100 * r['gain interpolation 60 min']:+.1f}% "
                  f"({100 * r['kept interpolation 60 min']:.0f}%) | {100 * r['gain extrapolation 60 min']:+.1f}% "
                  f"({100 * r['kept extrapolation 60 min']:.0f}%) | {100 * r['activity accuracy']:.1f}% "
                  f"({100 * r['kept activity accuracy']:.0f}%) | {100 * r['activity mAP']:.1f}% |")
    (out / "retention.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
