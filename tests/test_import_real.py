"""Importers for the .AWD actigraphy and aw_fb layouts, and `lsm-edge data import` recognising layouts."""

import numpy as np
import pytest
from click.testing import CliRunner

from lsm_edge import schema
from lsm_edge.cli import main
from lsm_edge.data.awd import read_awd
from lsm_edge.data.autoimport import read_any, split_key
from lsm_edge.data.awfb import ACTIVITIES, read_awfb
from lsm_edge.data.dataset import Dataset
from lsm_edge.errors import DataFormatError

AWD_HEADER = ["subj_9", "05-Mar-2021", "22:15", " 4 ", "31", "V123", "F"]
AW_COLS = ",X1,age,gender,height,weight,steps,heart_rate,calories,distance,device,activity"


def write_awd(path, header=AWD_HEADER, counts=("0", "12", "7 M", "300")):
    path.write_bytes(("\r\n".join(list(header) + list(counts)) + "\r\n").encode())
    return path


def write_awfb(path, rows):
    path.write_text(AW_COLS + "\n" + "\n".join(rows) + "\n")
    return path


def aw_row(i, person=(20, 1, 168, 65.4), steps=10, hr=80, device="apple watch", act="Lying"):
    return ",".join(map(str, (i, i, *person, steps, hr, 0.5, 0.01, device, act)))


def test_awd_fixture_values_transform_and_markers(tmp_path):
    tl = read_awd(write_awd(tmp_path / "a.AWD"))
    assert tl.subject == "awd-subj_9"
    assert tl.start == np.datetime64("2021-03-05T22:15")
    counts = tl.extras["activity_counts"]
    np.testing.assert_array_equal(counts, [0, 12, 7, 300])
    np.testing.assert_allclose(tl.values[:, schema.INDEX["log_energy"]], np.log1p(counts), rtol=1e-6)
    assert np.isnan(tl.values[:, schema.INDEX["step_count"]]).all()  # a count is not steps
    np.testing.assert_array_equal(tl.labels["event_marker"], [0, 0, 1, 0])


@pytest.mark.parametrize("header, counts, message", [
    (AWD_HEADER[:1] + ["5 March 2021"] + AWD_HEADER[2:], ("1", "2"), r"a\.AWD:2: start date '5 March 2021'"),
    (AWD_HEADER[:3] + ["9"] + AWD_HEADER[4:], ("1", "2"), r"a\.AWD:4: unknown epoch code 9"),
    (AWD_HEADER, ("1", "x7", "3", "-2"), r"2 malformed row\(s\):\n.*a\.AWD:9: row 'x7'.*\n.*a\.AWD:11: row '-2'"),
    (AWD_HEADER[:3], (), r"a\.AWD: 3 lines"),
])
def test_awd_malformed_files_named_with_file_and_line(tmp_path, header, counts, message):
    with pytest.raises(DataFormatError, match=message):
        read_awd(write_awd(tmp_path / "a.AWD", header, counts))


def test_real_actigraphy_files(real_dir):
    tls = [read_awd(p) for p in sorted((real_dir / "actigraphy").glob("*.AWD"))]
    assert [t.subject for t in tls] == ["awd-example_01", "awd-example_02", "awd-example_03"]
    for t in tls:
        assert 18_000 <= t.minutes <= 21_500  # 12-15 days of 1-minute epochs (README)
        assert t.start.astype("datetime64[Y]") == np.datetime64("1918", "Y")  # dates shifted to 1918
        c = t.extras["activity_counts"]
        assert np.isfinite(c).all() and (c >= 0).all() and c.max() > 100
    assert tls[0].start == np.datetime64("1918-01-23T13:58")


def test_awfb_sequences_labels_and_split_groups(tmp_path):
    rows = [aw_row(i, act=ACTIVITIES[i]) for i in range(6)]
    rows += [aw_row(6 + i, device="fitbit", steps=400 if i == 1 else 20) for i in range(3)]
    rows += [aw_row(9 + i, person=(30, 0, 180, 80)) for i in range(2)]
    tls = read_awfb(write_awfb(tmp_path / "aw.csv", rows))
    assert [t.subject for t in tls] == ["awfb-p00-apple_watch", "awfb-p00-fitbit", "awfb-p01-apple_watch"]
    assert [t.minutes for t in tls] == [6, 3, 2]
    np.testing.assert_array_equal(tls[0].labels["lab_activity"], [0, 1, 2, 3, 4, 5])
    steps = tls[1].values[:, schema.INDEX["step_count"]]
    assert steps[0] == 20 and np.isnan(steps[1])  # 400 steps / min: outside the valid range, set missing
    assert tls[0].values[0, schema.INDEX["heart_rate"]] == 80


def test_awfb_malformed_rows(tmp_path):
    mixed = [aw_row(0), aw_row(1, device="fitbit"), aw_row(2)]  # the apple watch sequence is interrupted
    with pytest.raises(DataFormatError, match=r"aw\.csv:4: the rows of participant .* 'apple watch' are not consecutive"):
        read_awfb(write_awfb(tmp_path / "aw.csv", mixed))
    with pytest.raises(DataFormatError, match=r"aw\.csv:3: activity 'Dancing' is not one of"):
        read_awfb(write_awfb(tmp_path / "aw.csv", [aw_row(0), aw_row(1, act="Dancing")]))
    with pytest.raises(DataFormatError, match=r"aw\.csv:2: not a number"):
        read_awfb(write_awfb(tmp_path / "aw.csv", [aw_row(0, hr="n/a")]))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "bad.csv").write_text("age,steps\n20,3\n")
    with pytest.raises(DataFormatError, match="bad.csv: not a layout lsm-edge recognises; expected a Fitabase export"):
        read_any(tmp_path / "other")


def test_real_awfb_file(real_dir):
    tls = read_awfb(real_dir / "aw_fb" / "aw_fb_data.csv")
    people = {t.subject.rsplit("-", 1)[0] for t in tls}
    assert len(people) == 34 and len(tls) == 2 * 34  # 34 participants, one sequence per device (README)
    assert {t.subject.rsplit("-", 1)[1] for t in tls} == {"apple_watch", "fitbit"}
    lengths = [t.minutes for t in tls]
    assert 40 <= np.median(lengths) <= 90  # about 65 consecutive minutes each
    labels = np.concatenate([t.labels["lab_activity"] for t in tls])
    assert set(np.unique(labels)) == set(range(6))


def test_cli_data_import_recognises_every_real_layout(real_dir, tmp_path):
    r = CliRunner().invoke(main, ["data", "import", str(real_dir), "--out", str(tmp_path / "imp")])
    assert r.exit_code == 0, r.output
    assert ("layouts: actigraphy (3 files), actiwatch_csv (53 files), aw_fb (1 file), cgmacros (34 files), "
            "covid19 (28 files), fitabase (4 files), garmin5min (11 files), mmash (104 files)") in r.output
    assert "not read" not in r.output  # every file there is read, documentation and side tables aside
    ds = Dataset(tmp_path / "imp")
    subjects = [t.subject for t in ds.timelines()]
    # 3 .AWD, 68 aw_fb sequences, 20 covid19 people, 38 + 15 Actiwatch, 15 MMASH, 5 Fitabase people (one of
    # them in both export folders: one subject), 34 CGMacros people, 11 T1D-UOM (Garmin) people
    assert len(subjects) == len(set(subjects)) == 3 + 68 + 20 + 53 + 15 + 5 + 34 + 11
    assert sum(s.startswith("fitbit-2022484408") for s in subjects) == 1
    # split by person, stratified by source: every source with 3 or more people has test people (aw_fb's
    # 65-minute sequences hold no 300-minute window, so they are not among the subjects with windows)
    split = ds.manifest["subjects"]
    for src in ("awd", "covid19", "actiwatch", "mmash", "fitbit", "cgmacros", "garmin"):
        assert any(v == "test" for k, v in split.items() if k.startswith(src + "-")), src
    # both devices of an aw_fb participant are split together; other subjects by their own name
    assert split_key("awfb-p07-apple_watch") == split_key("awfb-p07-fitbit") == "awfb-p07"
    assert split_key("awd-example_01") == "awd-example_01"
    assert ds.manifest["label_names"]["lab_activity"] == list(ACTIVITIES)
    assert ds.manifest["label_names"]["posture"] == ["off", "standing", "sitting", "lying"]
    # describe: people and hours per feature and per source
    from lsm_edge.data.describe import describe

    src = describe(ds)["sources"]
    assert src["covid19"]["people"] == 20 and src["mmash"]["people"] == 15 and src["actiwatch"]["people"] == 53
    assert src["covid19"]["hours"]["heart_rate"] > 5_000 and "heart_rate" not in src["actiwatch"]["hours"]
    assert src["mmash"]["hours"]["rmssd"] > 100 and sum(src["covid19"]["windows"].values()) > 1_000
    assert "sources  (people with windows" in r.output
    r = CliRunner().invoke(main, ["data", "import", str(tmp_path / "imp" / "shards"), "--out", str(tmp_path / "x")])
    assert r.exit_code != 0 and "not a layout lsm-edge recognises" in r.output and "Traceback" not in r.output
