import json

from click.testing import CliRunner

from lsm_edge.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_help_lists_verbs_and_defaults():
    r = run("--help")
    assert r.exit_code == 0 and "data" in r.output
    r = run("data", "simulate", "--help")
    assert r.exit_code == 0
    for opt in ("--subjects", "--days", "--seed", "--out", "--resume"):
        assert opt in r.output
    assert "default: 100" in r.output.replace("[", "").replace("]", "")


def test_simulate_describe_stats(tmp_path):
    out = tmp_path / "d"
    r = run("data", "simulate", "--subjects", "5", "--days", "2", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "subjects train" in r.output and "heart_rate" in r.output
    r = run("data", "describe", str(out), "--json")
    d = json.loads(r.output)
    assert d["n_windows"] == sum(d["windows"].values()) > 0
    assert abs(d["hours"] - d["n_windows"] * 5) < 1e-9
    r = run("data", "stats", str(out), "--out", str(tmp_path / "s.json"))
    assert r.exit_code == 0 and json.loads((tmp_path / "s.json").read_text())["feature_names"][0] == "heart_rate"


def test_user_errors_are_one_line_without_traceback(tmp_path):
    (tmp_path / "empty").mkdir()
    r = run("data", "describe", str(tmp_path / "empty"))
    assert r.exit_code != 0
    assert "not an lsm-edge dataset" in r.output and "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    r = run("data", "import-fitbit", str(tmp_path / "empty"), "--out", str(tmp_path / "o"))
    assert r.exit_code != 0 and "none of the Fitabase files" in r.output and "Traceback" not in r.output
    r = run("data", "simulate", "--subjects", "0", "--out", str(tmp_path / "x"))
    assert r.exit_code == 2 and "--subjects" in r.output
    r = run("data", "simulate", "--subjects", "2", "--days", "1", "--out", str(tmp_path / "y"))
    r = run("data", "simulate", "--subjects", "2", "--days", "1", "--out", str(tmp_path / "y"))
    assert r.exit_code == 1 and "already holds a dataset" in r.output


def test_data_verbs_do_not_start_tensorflow(tmp_path):
    """`lsm-edge data ...` is numpy-only: TensorFlow's start-up (seconds, log lines) is not paid there."""
    import subprocess
    import sys

    code = ("import sys\nfrom click.testing import CliRunner\nfrom lsm_edge.cli import main\n"
            f"r = CliRunner().invoke(main, ['data', 'simulate', '--subjects', '2', '--days', '1', '--out', {str(tmp_path / 'd')!r}])\n"
            "assert r.exit_code == 0, r.output\n"
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\nassert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def test_evaluate_refuses_augmentation_for_generative(tmp_path):
    r = run("evaluate", "--teacher", str(tmp_path), "--data", str(tmp_path), "--flip-p", "0.5")
    assert r.exit_code == 2 and "--task generative trains nothing" in r.output and "expected 0" in r.output
    assert "Traceback" not in r.output


def test_evaluate_real_rejects_unknown_horizons(tmp_path):
    for bad, msg in (("60,45", "spans must be among (10, 30, 60, 120), got (60, 45)"), ("sixty", "'sixty' is not")):
        r = run("evaluate-real", "--data", str(tmp_path), "--teacher", str(tmp_path), "--horizons", bad,
                "--out", str(tmp_path / "o"))
        assert r.exit_code == 2 and msg in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


def test_evaluate_rejects_bad_few_shot(tmp_path):
    r = run("evaluate", "--task", "activity", "--teacher", str(tmp_path), "--data", str(tmp_path), "--few-shot", "5,x")
    assert r.exit_code == 2 and "'5,x' is not a comma-separated list of counts" in r.output
    assert "Traceback" not in r.output


def test_evaluate_real_peers_without_the_extra_names_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pypots", None)  # as if `lsm-edge[peers]` were not installed
    monkeypatch.delitem(sys.modules, "lsm_edge.core.peers", raising=False)
    r = run("evaluate-real", "--data", str(tmp_path), "--teacher", str(tmp_path), "--peers", str(tmp_path),
            "--out", str(tmp_path / "o"))
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert 'pip install "lsm-edge[peers]"' in r.output and not (tmp_path / "o").exists()


def test_finetune_from_scratch_needs_full_head(tmp_path):
    r = run("finetune", "--teacher", str(tmp_path), "--data", str(tmp_path), "--task", "activity", "--head", "conv",
            "--from-scratch", "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "got --head conv, expected --head full" in r.output and "Traceback" not in r.output
    r = run("finetune", "--teacher", str(tmp_path), "--data", str(tmp_path), "--task", "activity", "--full-lr", "0",
            "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "--full-lr" in r.output
    for extra in (["--head", "linear"], ["--head", "full", "--from-scratch"]):
        r = run("finetune", "--teacher", str(tmp_path), "--data", str(tmp_path), "--task", "activity",
                "--probe-epochs", "5", *extra, "--out", str(tmp_path / "o"))
        assert r.exit_code == 2 and "needs --head full without --from-scratch" in r.output, r.output
        assert "Traceback" not in r.output
    r = run("finetune", "--teacher", str(tmp_path), "--data", str(tmp_path), "--task", "activity", "--head", "conv",
            "--hide-p", "0.5", "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "got --head conv, expected --head full" in r.output and "Traceback" not in r.output
    r = run("finetune", "--teacher", str(tmp_path), "--data", str(tmp_path), "--task", "activity", "--head", "full",
            "--flip-p", "1.5", "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "--flip-p" in r.output
    assert not (tmp_path / "o").exists()
