import json
import shutil

import numpy as np
import pytest

from conftest import shortened_real
from lsm_edge import api
from lsm_edge import schema
from lsm_edge.core.bootstrap import bootstrap_counts, bootstrap_gains
from lsm_edge.core.scoring import draw_spans, linear_fill, score_imputation
from lsm_edge.verbs.evaluate_real import evaluate_real, roles, segments
from lsm_edge.core.probes import phase_average


def _tl(subject, hr=True):
    from lsm_edge.data.windows import Timeline

    v = np.full((5, schema.N_FEATURES), np.nan, np.float32)
    v[:, schema.INDEX["heart_rate" if hr else "step_count"]] = 60
    return Timeline(subject, np.datetime64("2020-01-01T00:00", "m"), v)


def test_roles_one_per_person_stratified_by_source():
    tls = [_tl(f"covid19-s{i}") for i in range(8)] + [_tl(f"covid19-x{i}", hr=False) for i in range(12)]
    r = roles(tls)
    hr = [r[f"covid19-s{i}"] for i in range(8)]
    assert (hr.count("test"), hr.count("val"), hr.count("train")) == (2, 1, 5)  # stratum with heart rate
    steps = [r[f"covid19-x{i}"] for i in range(12)]
    assert (steps.count("test"), steps.count("val"), steps.count("train")) == (2, 1, 9)
    assert roles(tls[::-1]) == r  # by a hash of the id, not by the order given
    assert set(roles([_tl("a-1"), _tl("a-2")]).values()) == {"train"}  # under 3 people: nobody to score
    # both devices of one aw_fb participant: one person, one role
    aw = roles([_tl(f"awfb-p{i:02d}-{d}") for i in range(10) for d in ("apple_watch", "fitbit")])
    assert all(aw[f"awfb-p{i:02d}-apple_watch"] == aw[f"awfb-p{i:02d}-fitbit"] for i in range(10))


def test_spans_keep_context_and_linear_is_exact_on_a_line():
    rng = np.random.default_rng(0)
    w = np.full((4, 300, schema.N_FEATURES), np.nan, np.float32)
    j = schema.INDEX["heart_rate"]
    w[:, :, j] = 60 + 0.1 * np.arange(300)  # a straight line: linear interpolation recovers it
    w[0, 200:, j] = np.nan  # window 0: no data at the end, so no extrapolation span there
    for i, s in draw_spans(w, "heart_rate", "interpolation", 30, rng):
        assert not np.isnan(w[i, s - 1, j]) and not np.isnan(w[i, s + 30, j])
    assert [i for i, _ in draw_spans(w, "heart_rate", "extrapolation", 60, rng)] == [1, 2, 3]
    res = score_imputation(w, "heart_rate", {"linear": linear_fill, "zero": lambda x: np.nan_to_num(x)},
                           progress=False)
    assert res["interpolation 60 min"]["methods"]["linear"]["mae_unit"] < 1e-3
    assert res["interpolation 60 min"]["methods"]["zero"]["mae_unit"] > 60
    assert res["extrapolation 60 min"]["windows"] == 3


def test_bootstrap_over_people():
    """A method 10 % better in every window: gain 0.10 with no spread.  A noisy gain: the interval holds the point
    and is wider when the same windows belong to 2 people than to 20 (a person is the unit resampled)."""
    rng = np.random.default_rng(1)
    cells = np.full(400, 30.0)
    base = rng.gamma(2, 1, 400) * 30
    exact = bootstrap_gains({"linear": base, "m": 0.9 * base}, cells, np.repeat(np.arange(20), 20), ["m"], ["linear"])
    np.testing.assert_allclose(exact["m"]["linear"], [0.1, 0.1, 0.1], atol=1e-9)
    person = np.repeat(np.arange(20), 20)
    noisy = base * (0.9 + 0.3 * (person % 2) - 0.1 * rng.random(400))  # people differ: half gain, half lose
    many = bootstrap_gains({"linear": base, "m": noisy}, cells, person, ["m"], ["linear"])["m"]["linear"]
    two = bootstrap_gains({"linear": base, "m": noisy}, cells, person % 2, ["m"], ["linear"])["m"]["linear"]
    assert many[1] <= many[0] <= many[2] and two[1] <= two[0] <= two[2]
    assert many[0] == pytest.approx(two[0]) and (two[2] - two[1]) > 2 * (many[2] - many[1])
    counts = bootstrap_counts(np.repeat([0, 1, 2], [5, 10, 1]), n=200)
    per_person = np.stack([counts[:, :5].sum(1) / 5, counts[:, 5:15].sum(1) / 10, counts[:, 15]], 1)
    np.testing.assert_array_equal(per_person, np.round(per_person))  # each draw of a person: all their windows' worth
    np.testing.assert_array_equal(per_person.sum(1), 3)  # three people drawn per resample


def test_evaluate_real_end_to_end(small_run, real_dir, tmp_path):
    data = shortened_real(real_dir, tmp_path / "real")
    arts = tmp_path / "arts"
    arts.mkdir()
    shutil.copy(small_run / "f32.tflite", arts / "teacher_f32.tflite")

    r = evaluate_real(data, small_run / "run", tmp_path / "out", arts, adapt_steps=2, fit=api.fit, progress=False, horizons=(60,),
                      others=[small_run / "run"])
    adapted_on = set(r["adaptation_subjects"])
    act = r["imputation"]["actigraphy counts"]
    assert act["channel"] == "log_energy" and act["unit"] == "counts/min (Actiwatch)"
    assert len(act["subjects"]) == 1 and not set(act["subjects"]) & adapted_on  # 3 people: 1 test, 2 train
    assert act["windows"] > 0
    assert list(act["tasks"]) == ["interpolation 60 min", "extrapolation 60 min"]
    for task, row in act["tasks"].items():
        m = row["methods"]
        assert {"mean (window)", "median (window)", "last value", "linear", "teacher zero-shot", "teacher adapted",
                "teacher_f32"} <= set(m)
        assert len({v["cells"] for v in m.values()}) == 1  # every method on the same cells
        assert m["run"] == m["teacher zero-shot"]  # --with: the teacher's own run, scored as it is
        # the .tflite through the runtime = the Keras teacher, on real windows
        assert abs(m["teacher_f32"]["mae_unit"] - m["teacher zero-shot"]["mae_unit"]) < 1e-2 * m["linear"]["mae_unit"]
    # a person in both Fitabase exports is one subject with one role: never adapted on and scored
    fb = r["imputation"]["fitabase heart rate"]
    assert sum(s == "fitbit-2022484408" for s in adapted_on | set(fb["subjects"])) == 1
    assert len(fb["subjects"]) == 1 and fb["windows"] > 0 and not set(fb["subjects"]) & adapted_on
    # covid19 (read from .csv.gz): heart rate with steps visible, steps on their own
    hr = r["imputation"]["covid19 heart rate"]
    assert list(hr["tasks"]) == ["interpolation 60 min", "extrapolation 60 min", "heart rate, steps visible 60 min"]
    vis, hid = hr["tasks"]["heart rate, steps visible 60 min"], hr["tasks"]["interpolation 60 min"]
    assert vis["methods"]["linear"] == hid["methods"]["linear"]  # the same spans; linear reads heart rate only
    assert "covid19 steps" in r["imputation"] and r["imputation"]["covid19 steps"]["unit"] == "steps/min"
    a = r["activity"]
    assert a["participants"] >= 5 and a["scores"]["random forest (segment stats)"]["folds"] == 5
    assert {f"{kind} probe: {name}" for kind in ("linear", "forest")
            for name in ("teacher embedding", "adapted teacher embedding", "teacher_f32 embed")} <= set(a["scores"])
    assert a["best_probe"] in a["scores"] and " probe: " in a["best_probe"]
    # the .tflite's embed signature = the Keras teacher's embedding: the same features, the same probe
    assert a["scores"]["linear probe: teacher_f32 embed"]["accuracy"] == pytest.approx(
        a["scores"]["linear probe: teacher embedding"]["accuracy"], abs=0.02)
    assert (tmp_path / "out" / "activity_confusion.png").stat().st_size > 10_000
    # the MMASH diary: a second labelled set, the body's state in the diary
    d = r["diary_activity"]
    assert d["participants"] == 6 and d["scores"]["random forest (segment stats)"]["folds"] == 5
    assert list(d["class_counts"]) == ["sleeping", "lying down", "sitting", "light movement", "medium movement",
                                       "heavy movement"]
    assert d["class_counts"]["sitting"] > 5 and sum(d["class_counts"].values()) == d["examples"]
    assert (tmp_path / "out" / "diary_confusion.png").stat().st_size > 10_000
    assert "mmash heart rate" in r["imputation"]
    assert (tmp_path / "out" / "fills_actigraphy_log_energy.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "fills_covid19_heart_rate.png").stat().st_size > 10_000
    md = (tmp_path / "out" / "real.md").read_text()
    assert "## Imputation: actigraphy counts" in md and "participant-grouped folds" in md
    assert json.loads((tmp_path / "out" / "real.json").read_text())["adapt_steps"] == 2


def test_segments_place_each_label_run_in_its_own_window():
    from lsm_edge.data.windows import Timeline

    v = np.full((10, schema.N_FEATURES), np.nan, np.float32)
    v[:, schema.INDEX["heart_rate"]] = np.arange(10) + 60
    tl = Timeline("awfb-p03-fitbit", np.datetime64("2000-01-01T00:00", "m"), v,
                  labels={"lab_activity": np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2], np.int16)})
    x, y, g = segments([tl])
    assert list(y) == [0, 2] and list(g) == ["awfb-p03", "awfb-p03"]  # the 2-minute run is too short
    assert x.shape == (2, 300, schema.N_FEATURES)
    np.testing.assert_array_equal(x[1, :4, schema.INDEX["heart_rate"]], [66, 67, 68, 69])
    assert np.isnan(x[1, 4:]).all()


def test_phase_average_moves_the_segment_through_one_patch():
    x = np.full((2, 300, schema.N_FEATURES), np.nan, np.float32)
    j = schema.INDEX["heart_rate"]
    x[0, :6, j] = [60, 61, 62, 63, 64, 65]
    x[1, :16, j] = np.arange(16) + 100.0
    starts, sums = [], []

    def embed(w):  # [n, 300, 26] -> [n, 2]: where the data starts, and the sum of what is there
        first = np.argmax(~np.isnan(w[:, :, j]), axis=1)
        starts.append(first)
        sums.append(np.nansum(w[:, :, j], axis=1))
        return np.stack([first, np.nansum(w[:, :, j], axis=1)], 1).astype(np.float32)

    out = phase_average(embed, x)
    assert sorted(np.concatenate(starts)[::2]) == list(range(schema.PATCH_MINUTES))  # every phase once
    np.testing.assert_allclose(out[:, 0], (schema.PATCH_MINUTES - 1) / 2)
    np.testing.assert_allclose(np.asarray(sums), [[375, 1720]] * schema.PATCH_MINUTES)  # no minute lost or added
    np.testing.assert_allclose(out[:, 1], [375, 1720])


def test_a_label_run_longer_than_a_window_keeps_its_first_300_minutes():
    from lsm_edge.data.windows import Timeline

    v = np.full((400, schema.N_FEATURES), np.nan, np.float32)
    v[:, schema.INDEX["step_count"]] = np.arange(400)
    tl = Timeline("awfb-p01-apple_watch", np.datetime64("2000-01-01T00:00", "m"), v,
                  labels={"lab_activity": np.full(400, 4, np.int16)})
    x, y, g = segments([tl])
    assert x.shape == (1, 300, schema.N_FEATURES) and list(y) == [4]
    np.testing.assert_array_equal(x[0, :, schema.INDEX["step_count"]], np.arange(300))


def _device_folder(root):
    """Three device families of one recording each: an Actiwatch-T .AWD of 1,800 min (counts, temperature), an
    ActTrust report of 850 min (PIM, temperature, light) and a MotionWatch file of 400 min (too short)."""
    t = np.arange(1800)
    counts = (200 + 150 * np.sin(2 * np.pi * t / 1440)).astype(int)
    temp = 33 + 1.5 * np.sin(2 * np.pi * t / 1440)
    (root / "watch").mkdir(parents=True)
    (root / "watch" / "a.AWD").write_text("S1\r\n01-Mar-2021\r\n00:00\r\n 4 \r\n30\r\nT123\r\nF\r\n"
                                          + "".join(f"{c} , {x:.2f}\r\n" for c, x in zip(counts, temp)))
    (root / "trust").mkdir()
    rows = "".join(f"{str(np.datetime64('2021-03-01T00:00') + np.timedelta64(int(i), 'm')).replace('T', ' ')}:00;"
                   f"{c};{x:.2f};{c // 3}\r\n" for i, c, x in zip(t[:850], counts, temp))
    rows = "".join(f"{r[8:10]}/{r[5:7]}/{r[:4]}{r[10:]}" for r in rows.splitlines(keepends=True))
    (root / "trust" / "x.txt").write_text("+------+ Condor Instruments Report +------+\r\nSUBJECT_NAME : T1\r\n"
                                          "INTERVAL : 60\r\n+--------------+\r\nDATE/TIME;PIM;TEMPERATURE;LIGHT\r\n" + rows)
    (root / "mw").mkdir()
    (root / "mw" / "x.mtn").write_text(
        '<motionfile><log2><change><property><name>=StartTime</name><content>2021-03-01 00:00:00</content>'
        '</property></change><change><channel><name>motion</name><units>counts</units><epoch>60</epoch>'
        '<offset>0</offset><data encoding="text">' + ",".join(map(str, counts[:400])) + "</data></channel>"
        "</change></log2></motionfile>")
    return root


def test_evaluate_real_on_device_families(small_run, tmp_path):
    data = _device_folder(tmp_path / "acti")
    r = evaluate_real(data, small_run / "run", tmp_path / "out", adapt_steps=2, fit=api.fit, progress=False, horizons=(60,),
                      adapt_per_set=True)
    assert r["time_split_sets"] == ["mw", "trust", "watch"] and r["too_short"] == {"mtn-x": 400}
    assert r["adaptation"] == "per set" and set(r["adaptation_subjects"]) == {"awd-S1", "acttrust-T1"}
    counts = r["imputation"]["watch counts"]
    assert counts["unit"] == "counts/min (Actiwatch)" and counts["subjects"] == ["awd-S1"]
    assert counts["windows"] == 2 and counts["scored_part"] == "later part of each recording"  # the last 600 min
    assert "teacher adapted" in counts["tasks"]["interpolation 60 min"]["methods"]
    temp = r["imputation"]["watch skin temperature"]
    assert temp["unit"] == "degC" and temp["windows"] == 2
    assert r["imputation"]["trust counts"]["unit"] == "PIM per minute (ActTrust)"
    light = r["imputation"]["trust light"]["tasks"]["interpolation 60 min"]["methods"]
    assert set(light) == {"mean (window)", "median (window)", "last value", "nearest", "linear"}  # no model slot
    from lsm_edge.data.dataset import Dataset

    adapt = Dataset(tmp_path / "out" / "adapt_data_watch").load()  # only the first 1,200 minutes adapt
    assert (adapt.start + np.timedelta64(300, "m") <= np.datetime64("2021-03-01T20:00")).all()
    assert (tmp_path / "out" / "adapted_teacher_trust" / "model.keras").exists()
    # validation: the later third of the adaptation part; the test part is never read
    v = evaluate_real(data, small_run / "run", tmp_path / "val", adapt_steps=2, fit=api.fit, progress=False, horizons=(60,),
                      adapt_per_set=True, people="val")
    assert v["imputation"]["watch counts"]["windows"] == 1 and set(v["too_short"]) == {"mtn-x", "acttrust-T1"}
    vadapt = Dataset(tmp_path / "val" / "adapt_data_watch").load()
    assert (vadapt.start + np.timedelta64(300, "m") <= np.datetime64("2021-03-01T15:00")).all()
