import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lsm_edge import schema
from lsm_edge.data.dataset import Dataset
from lsm_edge.data.fitabase import parse_time, read_fitabase
from lsm_edge.data.importing import write_dataset
from lsm_edge.data.longform import read_long
from lsm_edge.errors import DataFormatError

I = schema.INDEX


def write_fitabase(d, hr_rows=None, extra=None):
    d.mkdir(parents=True, exist_ok=True)
    hr = hr_rows or ["Id,Time,Value", "111,4/12/2016 7:21:00 AM,60", "111,4/12/2016 7:21:30 AM,70",
                     "111,4/12/2016 7:23:05 AM,80", "222,4/12/2016 1:00:00 PM,90"]
    (d / "heartrate_seconds_merged.csv").write_text("\n".join(hr) + "\n")
    (d / "minuteStepsNarrow_merged.csv").write_text(
        "Id,ActivityMinute,Steps\n111,4/12/2016 7:21:00 AM,10\n111,4/12/2016 7:22:00 AM,12\n")
    (d / "minuteMETsNarrow_merged.csv").write_text("Id,ActivityMinute,METs\n111,4/12/2016 7:22:00 AM,35\n")
    (d / "minuteSleep_merged.csv").write_text("Id,date,value,logId\n111,4/12/2016 7:20:30 AM,2,99\n")
    for name, text in (extra or {}).items():
        (d / name).write_text(text)
    return d


def test_parse_time():
    assert parse_time("4/12/2016 12:05:59 AM") - parse_time("4/12/2016 12:00:00 AM") == 5
    assert parse_time("4/12/2016 1:00:00 PM") - parse_time("4/12/2016 12:00:00 PM") == 60
    with pytest.raises(ValueError):
        parse_time("2016-04-12 07:21")


def test_fitabase_fixture(tmp_path):
    tls = {t.subject: t for t in read_fitabase(write_fitabase(tmp_path / "fb"))}
    a = tls["fitbit-111"]
    assert str(a.start) == "2016-04-12T07:20" and a.minutes == 4  # 7:20 (sleep row) .. 7:23
    np.testing.assert_allclose(a.values[:, I["heart_rate"]], [np.nan, 65, np.nan, 80])
    np.testing.assert_allclose(a.values[:, I["step_count"]], [np.nan, 10, 12, np.nan])
    np.testing.assert_allclose(a.values[:, I["on_wrist"]], [np.nan, 1, np.nan, 1])
    np.testing.assert_allclose(a.extras["mets"], [np.nan, np.nan, 3.5, np.nan])
    assert a.labels["sleep_state"].tolist() == [2, -1, -1, -1]
    assert np.isnan(a.values[:, I["skin_temperature"]]).all()
    assert tls["fitbit-222"].minutes == 1


def test_fitabase_malformed_rows_named_with_file_and_line(tmp_path):
    rows = ["Id,Time,Value", "111,4/12/2016 7:21:00 AM,60", "111,not a time,61", "111,4/12/2016 7:22:00 AM,abc",
            "111,4/12/2016 7:23:00 AM,999", "111,4/12/2016 7:24:00 AM"]
    d = write_fitabase(tmp_path / "fb", hr_rows=rows)
    with pytest.raises(DataFormatError) as e:
        read_fitabase(d)
    msg = str(e.value)
    assert "4 malformed row(s)" in msg
    for line in (3, 4, 5, 6):
        assert f"heartrate_seconds_merged.csv:{line}:" in msg
    assert "outside the valid range" in msg and "2 fields, expected 3" in msg
    tls = read_fitabase(d, skip_malformed=True)
    assert np.nansum(tls[0].values[:, I["heart_rate"]]) == 60


def test_fitabase_unknown_layout(tmp_path):
    d = write_fitabase(tmp_path / "fb", hr_rows=["Id,Timestamp,Value", "1,4/12/2016 7:21:00 AM,60"])
    with pytest.raises(DataFormatError, match=r"heartrate_seconds_merged.csv:1: header .* expected Id,Time,Value"):
        read_fitabase(d)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="none of the Fitabase files"):
        read_fitabase(tmp_path / "empty")


def test_real_fitabase_export(real_dir, tmp_path):
    tls = read_fitabase(real_dir / "fitabase")
    assert [t.subject for t in tls] == ["fitbit-2022484408"]
    hr = tls[0].values[:, I["heart_rate"]]
    assert tls[0].minutes == 2970 and int((~np.isnan(hr)).sum()) == 1221  # as the data README measured
    assert 40 < np.nanmedian(hr) < 120
    m = write_dataset(tls, tmp_path / "fb", {"kind": "fitabase"})
    assert m["n_windows"] == len(Dataset(tmp_path / "fb").load()) > 0
    assert sum(1 for _ in Dataset(tmp_path / "fb").timelines()) == 1


def _long_rows():
    return [("a", "2024-03-01T07:21:10", "heart_rate", 60), ("a", "2024-03-01 07:21:50", "heart_rate", 70),
            ("a", "2024-03-01T07:25:00", "step_count", 12), ("b", "2024-03-02T00:00:00", "skin_temperature", 33.1)]


def test_long_csv_and_parquet(tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text("subject,timestamp,feature,value\n" + "\n".join(",".join(map(str, r)) for r in _long_rows()))
    pqf = tmp_path / "x.parquet"
    cols = list(zip(*_long_rows()))
    pq.write_table(pa.table({"subject": cols[0], "timestamp": cols[1], "feature": cols[2],
                             "value": [float(v) for v in cols[3]]}), pqf)
    for path in (csv, pqf):
        tls = {t.subject: t for t in read_long(path)}
        a = tls["a"]
        assert a.minutes == 5
        assert a.values[0, I["heart_rate"]] == 65 and a.values[4, I["step_count"]] == 12
        assert tls["b"].values[0, I["skin_temperature"]] == pytest.approx(33.1)


def test_long_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("subject,timestamp,feature,value\na,2024-03-01T07:21,heart_rate,60\n"
                   "a,yesterday,heart_rate,60\na,2024-03-01T07:22,steps,3\na,2024-03-01T07:23,heart_rate,x\n")
    with pytest.raises(DataFormatError) as e:
        read_long(bad)
    msg = str(e.value)
    assert "bad.csv:3: timestamp 'yesterday'" in msg and "bad.csv:4: unknown feature 'steps'" in msg
    assert "bad.csv:5: value 'x'" in msg
    other = tmp_path / "other.csv"
    other.write_text("id,time,value\n1,2,3\n")
    with pytest.raises(DataFormatError, match="expected subject,timestamp,feature,value"):
        read_long(other)
    txt = tmp_path / "x.txt"
    txt.write_text("")
    with pytest.raises(DataFormatError, match="expected .csv or .parquet"):
        read_long(txt)
