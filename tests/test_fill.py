"""lsm-edge fill: whole recordings through sliding windows, the centre-most window's fill, long gaps left."""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from lsm_edge import api, schema
from lsm_edge.cli import main
from lsm_edge.data.autoimport import read_any
from lsm_edge.verbs.fill import FILLED, MISSING, OBSERVED, W, fill_values, gaps, owners, window_starts

STUDENT = Path(__file__).parents[1] / "pretrained" / "real_student_conv64" / "student_conv64_int8.tflite"
HR, STEPS = schema.INDEX["heart_rate"], schema.INDEX["step_count"]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2000), st.integers(1, W))
def test_every_minute_is_owned_by_its_centre_most_window(minutes, stride):
    starts = window_starts(minutes, stride)
    own = owners(minutes, starts)
    assert starts[0] == 0 and (minutes <= W or starts[-1] == minutes - W) and np.all(np.diff(starts) <= stride)
    for t in range(0, minutes, max(1, minutes // 50)):
        inside = [i for i, s in enumerate(starts) if s <= t < s + W]
        depth = [min(t - starts[i], starts[i] + W - 1 - t) for i in inside]
        assert own[t] == inside[int(np.argmax(depth))]  # the deepest, the earlier of equals


@given(st.lists(st.booleans(), max_size=60))
def test_gaps_are_the_runs_of_missing_minutes(bits):
    found = gaps(np.array(bits, bool))
    again = np.zeros(len(bits), bool)
    for a, n in found:
        assert n > 0 and again[a:a + n].sum() == 0
        again[a:a + n] = True
    assert again.tolist() == list(bits)
    assert all(b[0] + b[1] < c[0] for b, c in zip(found, found[1:]))  # maximal: runs never touch


def _tagging_imputer(calls):
    """Fills every cell of a window with 1000 + the window's first observed heart rate: which window filled a
    minute can be read back from its value."""
    def impute(x):
        calls.append(len(x))
        out = x.copy()
        for i, w in enumerate(x):
            tag = w[np.isfinite(w[:, HR]), HR][0]
            out[i] = np.where(np.isnan(w), 100 + tag % 100, w)
        return out
    return impute


def test_fill_values_keeps_observed_cells_fills_short_gaps_only_and_each_minute_from_its_owner():
    minutes, stride = 1500, 60
    v = np.full((minutes, schema.N_FEATURES), np.nan, np.float32)
    v[:, HR] = 50 + np.arange(minutes) % 37  # a window's first heart rate tells the window apart
    v[:, STEPS] = 3.0
    v[200:260, HR] = np.nan    # 60 minutes: filled
    v[500:700, HR] = np.nan    # 200 minutes > max_gap: left missing
    v[900:1000, STEPS] = np.nan  # steps not asked for: untouched
    calls = []
    out, flags = fill_values(v, _tagging_imputer(calls), ["heart_rate", "skin_temperature"], stride, max_gap=120)
    hr = flags[:, 0]
    assert np.array_equal(out[~np.isnan(v)], v[~np.isnan(v)])  # observed cells unchanged
    assert (hr[200:260] == FILLED).all() and (hr[500:700] == MISSING).all() and np.isnan(out[500:700, HR]).all()
    assert (hr[np.isfinite(v[:, HR])] == OBSERVED).all()
    assert (flags[:, 1] == MISSING).all() and np.isnan(out[:, schema.INDEX["skin_temperature"]]).all()  # never seen
    assert np.isnan(out[900:1000, STEPS]).all()
    starts = window_starts(minutes, stride)
    own = owners(minutes, starts)
    for t in range(200, 260):
        first = v[starts[own[t]]:starts[own[t]] + W, HR]
        assert out[t, HR] == pytest.approx(100 + first[np.isfinite(first)][0] % 100)
    assert sum(calls) == len(set(own[200:260].tolist()))  # only the windows that own a filled minute run


def test_a_recording_shorter_than_a_window_is_filled_and_clipped_to_the_valid_range():
    v = np.full((90, schema.N_FEATURES), np.nan, np.float32)
    v[:, STEPS] = 10.0
    v[40:50, STEPS] = np.nan
    out, flags = fill_values(v, lambda x: np.where(np.isnan(x), -7.0, x), ["step_count"], max_gap=120)
    assert (flags[40:50, 0] == FILLED).all() and (out[40:50, STEPS] == 0).all()  # -7 steps clipped to 0
    assert out.shape == v.shape


@pytest.fixture(scope="module")
def recordings(real_dir, tmp_path_factory):
    """Two Depresjon recordings cut to 3 days, with a gap of 45 min and one of 5 h, and a malformed third file."""
    root = tmp_path_factory.mktemp("fill") / "recordings"
    root.mkdir()
    for name in ("condition_1", "control_2"):
        group = name.split("_")[0]
        lines = gzip.open(real_dir / "depresjon" / group / f"{name}.csv.gz", "rt").read().splitlines()
        keep = lines[:1 + 3 * 1440]
        del keep[1 + 2000:1 + 2300]  # 300 minutes missing: longer than --max-gap
        del keep[1 + 605:1 + 650]    # 45 minutes missing: filled (a 60-minute jump onto an hour reads as DST)
        (root / f"{name}.csv").write_text("\n".join(keep) + "\n")
    (root / "control_9.csv").write_text("timestamp,date,activity\n2003-05-07 12:00:00,2003-05-07,0\nnot a row\n")
    return root


def test_fill_on_real_recordings_keeps_what_was_recorded_and_names_the_bad_file(recordings, tmp_path):
    if not STUDENT.is_file():
        pytest.skip(f"{STUDENT} not present")
    res = api.fill(recordings, STUDENT, tmp_path / "out", quiet=True)
    assert [Path(f).name for f, _ in res["not_read"]] == ["control_9.csv"]
    assert "control_9.csv:3: 1 fields, expected 3" in res["not_read"][0][1]
    assert set(res["people"]) == {"actiwatch-condition_1", "actiwatch-control_2"}
    good = recordings.parent / "good"
    good.mkdir()
    for f in ("condition_1.csv", "control_2.csv"):
        (good / f).write_text((recordings / f).read_text())
    truth = {t.subject: t for t in read_any(good)[0]}  # the importer's own timelines
    for person, tl in truth.items():
        table = dict((c, np.genfromtxt(tmp_path / "out" / f"{person}.csv", delimiter=",", names=True, dtype=None,
                                        encoding="utf-8")[c]) for c in ("activity_counts", "activity_counts_flag"))
        counts, flag = table["activity_counts"].astype(float), np.char.strip(table["activity_counts_flag"], '"')
        recorded = np.expm1(tl.values[:, schema.INDEX["log_energy"]])
        seen = np.isfinite(recorded)
        assert len(counts) == tl.minutes and (flag[seen] == "observed").all()
        np.testing.assert_allclose(counts[seen], recorded[seen], rtol=1e-5, atol=1e-3)  # observed cells unchanged
        for a, n in gaps(~seen):
            want = "filled" if n <= 120 else "missing"
            assert (flag[a:a + n] == want).all(), (person, a, n)
        assert np.isnan(counts[flag == "missing"]).all() and (counts[flag == "filled"] >= 0).all()
        s = res["people"][person]["log_energy"]
        assert s["filled"] == (flag == "filled").sum() == 45 and s["gaps_left"] == 1 and s["longest_gap_left"] == 300
        assert (tmp_path / "out" / f"{person}.parquet").is_file() and (tmp_path / "out" / f"{person}.png").is_file()
    summary = (tmp_path / "out" / "summary.csv").read_text().splitlines()
    assert summary[0] == "person,channel,observed,filled,missing,gaps_left,longest_gap_left" and len(summary) == 3


def test_fill_reads_a_dataset_from_its_recordings_and_the_cli_names_bad_options(recordings, tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "dataset.json").write_text(json.dumps({"source": {"path": str(tmp_path / "gone")}}))
    r = CliRunner().invoke(main, ["fill", str(tmp_path / "ds"), "--model", str(tmp_path), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "recordings are not at hand" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["fill", str(recordings), "--model", str(tmp_path), "--out", str(tmp_path / "o"),
                                  "--channels", "heart_rate,light"])
    assert r.exit_code == 2 and "--channels light: expected some of heart_rate" in r.output
