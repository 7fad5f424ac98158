"""The layouts added for real pretraining: compressed tables, covid19, Actiwatch minute counts (Depresjon /
Psykose), MMASH, Fitabase exports across folders; fixtures, real files and fuzzing."""

import gzip
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsm_edge import schema
from lsm_edge.data import covid19, minutecounts, mmash
from lsm_edge.data.autoimport import find, read_any
from lsm_edge.data.fitabase import read as read_fitabase_files
from lsm_edge.data.importing import MAX_TIMELINE_DAYS
from lsm_edge.data.textio import open_text
from lsm_edge.errors import DataFormatError

I = schema.INDEX


def write(path, text: str):
    """Write ``text`` as ``path`` says: plain, .gz or a one-file .zip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    elif path.name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(path.name[:-4], data)
    else:
        path.write_bytes(data)
    return path


# -- compressed input ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.csv.zip"])
def test_every_table_reads_plain_gz_and_zip_alike(tmp_path, name):
    p = write(tmp_path / name, "timestamp,date,activity\n2003-05-07 12:00:00,2003-05-07,5\n")
    assert minutecounts.recognise(p)
    with open_text(p) as f:
        assert f.read().splitlines()[1] == "2003-05-07 12:00:00,2003-05-07,5"


def test_broken_archives_are_named(tmp_path):
    two = tmp_path / "two.csv.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.csv", "x\n")
        z.writestr("b.csv", "y\n")
    with pytest.raises(DataFormatError, match=r"two\.csv\.zip: a \.zip holding 2 files; expected exactly one"):
        with open_text(two) as f:
            f.read()
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(DataFormatError, match=r"bad\.csv\.gz: the file is damaged"):
        with open_text(bad) as f:
            f.read()


# -- covid19 ---------------------------------------------------------------------------------------
def test_covid19_joins_a_person_and_applies_the_wear_rules(tmp_path):
    hr = [",user,datetime,heartrate"] + [f"{i},P1,2020-03-10 00:{m:02d}:{s:02d},{70 + m}"
                                         for i, (m, s) in enumerate([(0, 5), (0, 35), (1, 0), (40, 0)])]
    steps = [",user,datetime,steps"] + [f"{m},P1,2020-03-10 00:{m:02d}:00,{5 if m in (30, 31) else 0}"
                                        for m in range(0, 60)]
    steps.append("60,P1,2020-03-10 00:31:00,0")  # a duplicate minute: zero fill beside the count
    write(tmp_path / "P1_hr.csv.zip", "\n".join(hr) + "\n")
    write(tmp_path / "P1_steps.csv.gz", "\n".join(steps) + "\n")
    only = [",user,datetime,steps"] + [f"{m},Q,2020-03-10 {m // 60:02d}:{m % 60:02d}:00,{int(m < 10)}"
                                       for m in range(13 * 60)]
    write(tmp_path / "Q_steps.csv", "\n".join(only) + "\n")
    tls, found = read_any(tmp_path)
    assert found == {"covid19": [str(tmp_path / f) for f in ("P1_hr.csv.zip", "P1_steps.csv.gz", "Q_steps.csv")]}
    p = {t.subject: t for t in tls}["covid19-P1"]  # the user column names the person, hr + steps joined
    np.testing.assert_allclose(p.values[[0, 1, 40], I["heart_rate"]], [70, 71, 110])  # two readings in minute 0
    s = p.values[:, I["step_count"]]
    assert s[31] == 5  # the larger of a duplicate minute
    assert s[10] == 0  # a zero within 15 minutes of a heart-rate reading: worn, still
    assert np.isnan(s[20]) and s[30] == 5  # a zero far from heart rate: not worn; steps always kept
    assert s[55] == 0 and np.isnan(s[56])  # up to 15 min after the reading at minute 40
    q = {t.subject: t for t in tls}["covid19-Q"].values[:, I["step_count"]]  # steps alone: 12 h of zeros off
    assert q[5] == 1 and np.isnan(q[10:]).all() and len(q) == 13 * 60


def test_covid19_malformed_rows(tmp_path):
    rows = [",user,datetime,heartrate", "0,P,2020-03-10 00:00:05,70", "1,P,yesterday,71", "2,P,2020-03-10 00:01:00,999",
            "3,P,2020-03-10 00:02:00", "4,P,2020-03-10 00:03:00+02:00,72"]
    write(tmp_path / "P_hr.csv", "\n".join(rows) + "\n")
    with pytest.raises(DataFormatError) as e:
        read_any(tmp_path)
    msg = str(e.value)
    assert "4 malformed row(s)" in msg and "P_hr.csv:3: datetime 'yesterday'" in msg
    assert "P_hr.csv:4: heart_rate 999 outside the valid range" in msg and "P_hr.csv:5: 3 fields" in msg
    assert "P_hr.csv:6: datetime '2020-03-10 00:03:00+02:00' is not like 2020-03-10 00:00:06 (local time, no zone)" in msg


# -- Actiwatch minute counts (Depresjon / Psykose) ---------------------------------------------------
def _minutes(start, n, clock_step=None):
    t = np.datetime64(start, "m")
    out = []
    for i in range(n):
        out.append(t)
        t = t + np.timedelta64(clock_step(i) if clock_step else 1, "m")
    return out


def test_actiwatch_daylight_saving_neither_loses_nor_duplicates_a_minute(tmp_path):
    fwd = _minutes("2003-03-30T01:58", 4, lambda i: 61 if i == 1 else 1)  # 01:58 01:59 03:00 03:01
    back = _minutes("2003-10-26T02:58", 4, lambda i: -59 if i == 1 else 1)  # 02:58 02:59 02:00 02:01
    for name, ts in (("f.csv", fwd), ("b.csv.gz", back)):
        write(tmp_path / name, "timestamp,date,activity\n" + "".join(
            f"{str(t).replace('T', ' ')}:00,{str(t)[:10]},{k * 10}\n" for k, t in enumerate(ts)))
    tls = {t.subject: t for t in minutecounts.read(sorted(tmp_path.iterdir()))}
    for name in ("actiwatch-f", "actiwatch-b"):
        tl = tls[name]
        assert tl.minutes == 4  # four epochs, four minutes
        np.testing.assert_array_equal(tl.extras["activity_counts"], [0, 10, 20, 30])
        np.testing.assert_allclose(tl.values[:, I["log_energy"]], np.log1p([0, 10, 20, 30]), rtol=1e-6)


def test_actiwatch_errors_and_duplicates(tmp_path):
    write(tmp_path / "a" / "x.csv", "timestamp,date,activity\n2003-05-07 12:00:00,2003-05-07,1\n"
          "2003-05-07 11:00:00,2003-05-07,2\n2003-05-07 12:02:00,2003-05-07,-4\n")
    with pytest.raises(DataFormatError) as e:
        minutecounts.read([tmp_path / "a" / "x.csv"])
    assert "x.csv:3: timestamp 2003-05-07T11:00 does not follow" in str(e.value)
    assert "x.csv:4: activity '-4' is not a non-negative count" in str(e.value)
    # the same person in two folders (Psykose ships Depresjon's controls): one timeline, minutes once
    row = "timestamp,date,activity\n2003-05-07 12:00:00,2003-05-07,1\n2003-05-07 12:01:00,2003-05-07,2\n"
    write(tmp_path / "d" / "control_1.csv", row)
    write(tmp_path / "p" / "control_1.csv.gz", row + "2003-05-07 12:02:00,2003-05-07,3\n")
    write(tmp_path / "d" / "scores.csv", "number,days,gender\ncontrol_1,2,1\n")  # a side table: skipped
    tls, found = read_any(tmp_path / "d")
    assert len(tls) == 1 and list(found) == ["actiwatch_csv"]
    tls = minutecounts.read([tmp_path / "d" / "control_1.csv", tmp_path / "p" / "control_1.csv.gz"])
    assert [t.subject for t in tls] == ["actiwatch-control_1"]
    np.testing.assert_array_equal(tls[0].extras["activity_counts"], [1, 2, 3])


def test_real_depresjon_and_psykose(real_dir):
    files = sorted((real_dir / "psykose" / "patient").glob("*.csv.gz"))[:2]
    tls = minutecounts.read(files)
    for t in tls:
        c = t.extras["activity_counts"]
        assert 12 * 1440 <= t.minutes <= 23 * 1440 and np.isfinite(c).all()  # 2-3 weeks, no minute lost
    ctrl = minutecounts.read([real_dir / "depresjon" / "control" / "control_31.csv.gz"])[0]  # a spring-forward jump
    assert np.isfinite(ctrl.extras["activity_counts"]).all() and ctrl.minutes == 51389  # one row a minute


# -- MMASH --------------------------------------------------------------------------------------------
ACTI_HEAD = ",Axis1,Axis2,Axis3,Steps,HR,Inclinometer Off,Inclinometer Standing,Inclinometer Sitting," \
            "Inclinometer Lying,Vector Magnitude,day,time"


def _mmash(folder, day2="2"):
    rows = [ACTI_HEAD]
    for s in range(0, 120):  # minute 0: 40 seconds of rows (20 removed); minute 1: only 10 rows
        if (s < 60 and s % 3 == 2) or (s >= 60 and s % 6):
            continue
        rows.append(f"{s},1,1,1,{1 if s % 2 == 0 else 0},{3 if s == 0 else 60 + s % 60},0,0,1,0,{s % 60},1,"
                    f"23:59:{s % 60:02d}" if s < 60 else f"{s},1,1,1,0,80,0,0,0,1,2,{day2},00:00:{s % 60:02d}")
    write(folder / "Actigraph.csv.gz", "\n".join(rows) + "\n")
    rr = [",ibi_s,day,time"] + [f"{i},{0.8 + 0.01 * (i % 2)},1,23:59:{i % 50:02d}" for i in range(30)]
    rr += ["30,0.1,1,23:59:51", "31,2.5,1,23:59:52"]  # two artefacts
    write(folder / "RR.csv.gz", "\n".join(rr) + "\n")
    write(folder / "Activity.csv", ",Activity,Start,End,Day\n0,3,23:00,23:59,1\n1,9,23:30,23:59,1\n"
                                   "2,0,23:00,23:30,1\n3,1,23:59,00:30,1\n")
    write(folder / "user_info.csv", ",Gender,Weight,Height,Age\n0,M,65,169,29\n")
    return folder


@pytest.mark.parametrize("day2", ["2", "-29"])
def test_mmash_seconds_to_minutes_rr_and_diary(tmp_path, day2, capsys):
    _mmash(tmp_path / "user_4", day2)
    tls, found = read_any(tmp_path)
    assert list(found) == ["mmash"] and len(found["mmash"]) == 4
    (tl,) = tls
    assert tl.subject == "mmash-user_4" and tl.start == np.datetime64("2000-01-01T23:59")
    assert tl.minutes == 2  # day 2 (or -29) 00:00 follows day 1 23:59
    v = tl.values
    kept = [s for s in range(60) if s % 3 != 2]  # the 40 seconds present in minute 0
    np.testing.assert_allclose(v[0, I["heart_rate"]], np.mean([60 + s for s in kept if s != 0]))  # 3 bpm left out
    np.testing.assert_allclose(v[0, I["step_count"]], np.mean([s % 2 == 0 for s in kept]) * 60)  # a rate
    np.testing.assert_allclose(tl.extras["activity_counts"][0], np.mean(kept) * 60, rtol=1e-6)
    assert np.isnan(v[1, [I["heart_rate"], I["step_count"], I["log_energy"]]]).all()  # 10 rows: too few
    assert tl.labels["posture"].tolist() == [2, -1]
    ms = np.array([800 + 10 * (i % 2) for i in range(30)], float)
    np.testing.assert_allclose(v[0, I["rr_mean"]], ms.mean(), rtol=1e-6)
    np.testing.assert_allclose(v[0, I["rr_percent_valid"]], 100 * 30 / 32, rtol=1e-6)
    np.testing.assert_allclose(v[0, I["rmssd"]], 10, rtol=1e-6)
    assert v[0, I["pnn30"]] == 0
    assert tl.labels["diary_activity"].tolist() == [1, 1]  # sleeping over sitting and the screen (ends past midnight)
    err = capsys.readouterr().err
    assert "1 seconds of HR outside the schema's valid range left out (1 files)" in err
    assert "1 diary entry left out (activity code 0: 1; first " in err and "Activity.csv:4: activity code 0" in err


def test_real_mmash_user(real_dir):
    (tl,) = mmash.read(sorted(p for p in (real_dir / "mmash" / "user_8").iterdir()))
    hr = tl.values[:, I["heart_rate"]]
    assert 22 * 60 <= tl.minutes <= 26 * 60  # 24 h, its second day written -29
    assert np.isfinite(hr).mean() > 0.85 and 40 < np.nanmedian(hr) < 110
    assert np.isfinite(tl.values[:, I["rmssd"]]).mean() > 0.85
    assert set(np.unique(tl.labels["posture"])) <= {-1, 0, 1, 2, 3}


# -- Fitabase across folders ----------------------------------------------------------------------------
def test_fitabase_exports_in_several_folders_join_into_one_person(tmp_path):
    head = "Id,Time,Value\n"
    write(tmp_path / "march" / "heartrate_seconds_merged.csv", head + "7,4/11/2016 11:58:00 PM,60\n"
                                                                     "7,4/12/2016 12:00:05 AM,70\n")
    write(tmp_path / "deep" / "april" / "heartrate_seconds_merged.csv.gz",
          head + "7,4/12/2016 12:00:05 AM,70\n7,4/12/2016 12:00:35 AM,80\n8,4/12/2016 1:00:00 AM,90\n")
    found = find(tmp_path)
    assert len(found["fitabase"]) == 2
    tls = {t.subject: t for t in read_fitabase_files(found["fitabase"])}
    a = tls["fitbit-7"]
    assert a.start == np.datetime64("2016-04-11T23:58") and a.minutes == 3
    np.testing.assert_allclose(a.values[:, I["heart_rate"]], [60, np.nan, 75])  # the repeated row read once


def test_real_fitabase_person_in_both_exports(real_dir):
    tls = read_any(real_dir / "fitabase")[0]
    subjects = [t.subject for t in tls]
    assert len(subjects) == len(set(subjects)) == 5
    both = {t.subject: t for t in tls}["fitbit-2022484408"]
    assert both.start < np.datetime64("2016-04-12") < both.start + np.timedelta64(both.minutes, "m")


# -- fuzzing: a named error, never a traceback, never a silently wrong timeline -------------------------
GOOD = {  # layout: (a good file, its name, reader, channel checked)
    "covid19": (",user,datetime,heartrate\n" + "".join(f"{i},P,2020-03-10 00:{i:02d}:00,{60 + i}\n" for i in range(20)),
                "x", covid19.read, "heart_rate"),
    "actiwatch": ("timestamp,date,activity\n" + "".join(f"2003-05-07 12:{i:02d}:00,2003-05-07,{i}\n" for i in range(20)),
                  "x", minutecounts.read, "log_energy"),
    "mmash": (ACTI_HEAD + "\n" + "".join(f"{s},1,2,3,1,{70 + s % 7},0,1,0,0,{s % 9},1,10:{s // 60:02d}:{s % 60:02d}\n"
                                         for s in range(150)), "Actigraph", mmash.read, "heart_rate"),
}


def _mutate(text: str, data) -> tuple[bytes, str]:
    b = bytearray(text.encode())
    how = data.draw(st.sampled_from(["truncate", "flip", "latin1", "shuffle", "utf16"]))
    if how == "truncate":
        b = b[:data.draw(st.integers(0, len(b)))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 5))):
            i = data.draw(st.integers(0, len(b) - 1))
            b[i] = data.draw(st.integers(0, 255))
    elif how == "latin1":
        b = text.replace("2", "²").encode("latin-1")
    elif how == "utf16":
        b = text.encode("utf-16")
    else:
        lines = text.splitlines()
        cols = [ln.split(",") for ln in lines]
        order = data.draw(st.permutations(range(len(cols[0]))))
        b = bytearray("\n".join(",".join(c[k] for k in order if k < len(c)) for c in cols).encode())
    return bytes(b), how


@pytest.mark.parametrize("layout", sorted(GOOD))
@settings(max_examples=60, deadline=None, derandomize=True,  # the same 60 cases on every run and in CI
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_files_raise_a_named_error_or_read_right(tmp_path, layout, data):
    text, base, read, channel = GOOD[layout]
    name = base + data.draw(st.sampled_from([".csv", ".csv.gz", ".csv.zip"]))
    p = tmp_path / name
    raw, how = _mutate(text, data)
    if name.endswith(".gz"):
        p.write_bytes(gzip.compress(raw) if data.draw(st.booleans()) else raw)
    elif name.endswith(".zip"):
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("x.csv", raw)
    else:
        p.write_bytes(raw)
    try:
        tls = read([p])
    except DataFormatError as e:
        assert str(p) in str(e) or "malformed" in str(e)
        return
    # read without error.  Values stay in the schema's range and timelines stay bounded whatever happened
    lo, hi = schema.valid_range()
    j = I[channel]
    for tl in tls:
        got = tl.values[:, j]
        assert tl.minutes <= MAX_TIMELINE_DAYS * 1440
        assert ((got[np.isfinite(got)] >= lo[j]) & (got[np.isfinite(got)] <= hi[j])).all()
    if how == "flip" or layout == "mmash":  # a flipped digit can make another valid reading; MMASH
        return  # minutes are means of seconds, and a truncated file changes its last minute's mean
    # otherwise every value kept is the good file's, at the minute it had it (a truncated last row aside)
    good = tmp_path / "good" / f"{base}.csv"
    good.parent.mkdir(exist_ok=True)
    good.write_text(text)
    (ref,) = read([good])
    for tl in tls:
        got = tl.values[:, j]
        at = (tl.start - ref.start).astype(int) + np.arange(tl.minutes)
        ok = np.isfinite(got)
        if how == "truncate":
            ok[np.flatnonzero(ok)[-1:]] = False
        assert ((at >= 0) & (at < ref.minutes))[ok].all(), "a value at a minute the file does not have"
        np.testing.assert_allclose(got[ok], ref.values[at[ok], j], rtol=1e-5)
