"""Research actigraph exports: every real file of ../shared/data/actigraphs, the minute rule, other languages
and versions of each format, malformed fixtures named with file and line, and fuzzing of every parser."""

import gzip
import importlib.util
import os
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsm_edge import schema
from lsm_edge.cli import main
from lsm_edge.data import (actiware, awd, acttrust, agd, autoimport, biobank, daqtometer, motionwatch,
                           tempatilumi)
from lsm_edge.data.epochs import fold
from lsm_edge.data.importing import MAX_TIMELINE_DAYS
from lsm_edge.errors import DataFormatError

ACTIGRAPHS = Path(__file__).resolve().parents[2] / "shared" / "data" / "actigraphs"
LE = schema.INDEX["log_energy"]


@pytest.fixture(scope="module")
def acti_dir():
    if not ACTIGRAPHS.is_dir():
        pytest.skip(f"{ACTIGRAPHS} not present")
    return ACTIGRAPHS


def _read(path):
    """Recognise and read one file as `data import` does -> (layout name, timeline)."""
    layout = next(lay for lay in autoimport.FILE_LAYOUTS if lay.recognise(path))
    (tl,) = layout.read([path])
    return layout.NAME, tl


# -- every real export: device, epoch, channels, span and start measured ------------------------------------
REAL = [  # file, layout, epoch s, channels beyond activity, minutes, start
    ("actiwatch/test_sample_aw4.AWD", "actigraphy", 60, {"event_marker"}, 31854, "2011-02-22T12:00"),
    ("actiwatch/test_sample_aw7.AWD", "actigraphy", 15, {"event_marker", "light"}, 7656, "2009-11-17T19:30"),
    ("actiwatch/test_sample_awmk2.AWD", "actigraphy", 30, {"event_marker"}, 14996, "2016-05-25T14:30"),
    ("actiwatch/test_sample_awl.AWD", "actigraphy", 60, {"event_marker", "light"}, 12774, "1996-11-10T16:22"),
    ("actiwatch/test_sample_awt.AWD", "actigraphy", 60, {"event_marker", "skin_temperature"}, 3862, "2001-01-30T18:11"),
    ("actiware/test_sample_rpx_eng.csv", "actiware", 30, {"event_marker", "light"}, 10080, "2015-07-04T09:45"),
    ("actiware/test_sample_rpx_fr.csv", "actiware", 60, {"event_marker", "light"}, 11581, "2015-02-04T11:45"),
    ("acttrust/test_sample_atr.txt", "acttrust", 60,
     {"event_marker", "light", "skin_temperature", "ambient_temperature", "tat", "zcm"}, 5760, "1918-01-01T09:00"),
    ("actigraph/test_sample.agd", "agd", 10, {"axis1", "axis2", "axis3", "step_count", "light", "posture"}, 899,
     "2019-04-15T15:00"),
    ("motionwatch/test_sample.mtn", "motionwatch", 5, {"light"}, 499, "2018-05-23T17:30"),
    ("tempatilumi/test_sample_tal.txt", "tempatilumi", 60, {"event_marker", "light"}, 10080, "2000-01-01T00:00"),
    ("daqtometer/test_sample_dqt.csv", "daqtometer", 1, {"light"}, 720, "2000-01-27T19:00"),
    ("biobank/sample-timeSeries.csv.gz", "biobank", 30, set(), 8422, "2014-05-07T13:29"),
]


@pytest.mark.parametrize("name, layout, epoch, channels, minutes, start", REAL, ids=[r[0] for r in REAL])
def test_every_real_export(acti_dir, name, layout, epoch, channels, minutes, start):
    got, tl = _read(acti_dir / name)
    assert got == layout
    assert tl.meta["epoch_s"] == epoch and set(tl.meta["channels"]) == {"activity"} | channels
    assert tl.minutes == minutes and tl.start == np.datetime64(start)
    raw = tl.extras["acceleration_mg" if layout == "biobank" else "activity_counts"]
    le = tl.values[:, LE]
    assert np.isfinite(le).mean() > 0.98 and np.nanmax(raw) > 50
    np.testing.assert_allclose(le[np.isfinite(le)], np.log1p(raw[np.isfinite(raw)]), rtol=1e-5)
    assert np.isnan(tl.values[:, schema.INDEX["heart_rate"]]).all()
    if "skin_temperature" in channels:
        t = tl.values[:, schema.INDEX["skin_temperature"]]
        assert 25 < np.nanmedian(t) < 40  # degC on a wrist
    else:
        assert np.isnan(tl.values[:, schema.INDEX["skin_temperature"]]).all()
    if "light" in channels:
        assert np.nanmin(tl.extras["light"]) >= 0


def test_real_counts_fold_to_the_minute(acti_dir):
    """The 15-s Actiwatch 7 file: each minute is the sum of its four epochs' counts."""
    lines = (acti_dir / "actiwatch/test_sample_aw7.AWD").read_text(encoding="latin-1").splitlines()[7:]
    counts = np.array([float(x.split(",")[0]) for x in lines if x.strip()])
    _, tl = _read(acti_dir / "actiwatch/test_sample_aw7.AWD")
    np.testing.assert_allclose(tl.extras["activity_counts"][:100], counts[:400].reshape(100, 4).sum(1))
    assert (tl.extras["light"] == 0).all()  # the Actiwatch 7's light column reads 0 throughout: light, not degC


def test_agd_posture_and_steps(acti_dir):
    _, tl = _read(acti_dir / "actigraph/test_sample.agd")
    assert set(np.unique(tl.labels["posture"])) <= {0, 1, 2, 3}
    con = sqlite3.connect(f"{(acti_dir / 'actigraph/test_sample.agd').as_uri()}?mode=ro", uri=True)
    steps = np.array([r[0] for r in con.execute("SELECT steps FROM data ORDER BY dataTimestamp LIMIT 60")])
    con.close()
    np.testing.assert_allclose(tl.values[:10, schema.INDEX["step_count"]], steps.reshape(10, 6).sum(1))


def test_biobank_predictions_are_never_read(acti_dir):
    _, tl = _read(acti_dir / "biobank/sample-timeSeries.csv.gz")
    assert not tl.labels and set(tl.extras) == {"acceleration_mg"} and tl.meta["units"]["acceleration_mg"] == "mg"
    assert np.isnan(tl.extras["acceleration_mg"]).sum() > 30  # non-wear rows (empty acc) stay missing


def test_cli_imports_the_folder_and_lists_every_file(acti_dir, tmp_path):
    r = CliRunner().invoke(main, ["data", "import", str(acti_dir), "--out", str(tmp_path / "imp")])
    assert r.exit_code == 0, r.output
    assert ("layouts: actigraphy (5 files), actiware (2 files), acttrust (1 file), agd (1 file), biobank (1 file), "
            "daqtometer (1 file), motionwatch (1 file), tempatilumi (1 file)") in r.output
    assert "test_sample_aw7.AWD: Actiwatch .AWD (serial D0309360327), 15-s epochs, activity, event_marker, light; " \
           "7,656 minutes" in r.output
    assert sum(" epochs, " in line for line in r.output.splitlines()) == 13


# -- other languages, versions and epochs of each format (benchmarks/actigraph_variants.py) ----------------
@pytest.fixture(scope="module")
def variants(acti_dir, tmp_path_factory):
    spec = importlib.util.spec_from_file_location("variants", Path(__file__).parents[1] / "benchmarks" /
                                                  "actigraph_variants.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path_factory.mktemp("variants")
    mod.main(acti_dir, out / "v")
    return out / "v"


@pytest.mark.parametrize("variant, original, channels", [
    ("actiware/rpx_de.csv", "actiware/test_sample_rpx_eng.csv", ("activity_counts", "light")),
    ("actiware/rpx_de_comma.csv", "actiware/test_sample_rpx_eng.csv", ("activity_counts", "light")),
    ("actiwatch/awl_light_enotation.AWD", "actiwatch/test_sample_awl.AWD", ("activity_counts", "light")),
    ("tempatilumi/tal_pt.txt", "tempatilumi/test_sample_tal.txt", ("activity_counts", "light")),
    ("actiware/rpx_es.csv", "actiware/test_sample_rpx_eng.csv", ("activity_counts", "light")),
    ("actiware/rpx_us.csv", "actiware/test_sample_rpx_eng.csv", ("activity_counts", "light")),
    ("acttrust/acttrust2.txt", "acttrust/test_sample_atr.txt", ("activity_counts", "light", "temperature_raw", "zcm")),
    ("tempatilumi/tal_tab.txt", "tempatilumi/test_sample_tal.txt", ("activity_counts", "light")),
    ("daqtometer/dqt_swapped.csv", "daqtometer/test_sample_dqt.csv", ("activity_counts", "light")),
    ("biobank/other-timeSeries.csv.gz", "biobank/sample-timeSeries.csv.gz", ("acceleration_mg",)),
    ("actiwatch/awt_noserial.AWD", "actiwatch/test_sample_awt.AWD", ("activity_counts", "temperature_raw")),
])
def test_other_exports_read_as_the_original(acti_dir, variants, variant, original, channels):
    lay_v, v = _read(variants / variant)
    lay_o, o = _read(acti_dir / original)
    assert lay_v == lay_o and v.start == o.start and v.minutes == o.minutes  # never a shifted time axis
    for c in channels:  # the E-notation copies keep 3 digits of light
        rtol = 5e-3 if c == "light" and ("comma" in variant or "enotation" in variant) else 1e-5
        np.testing.assert_allclose(v.extras[c], o.extras[c], rtol=rtol, equal_nan=True, err_msg=c)
    assert v.meta["channels"] == o.meta["channels"] or variant == "tempatilumi/tal_pt.txt"


def test_other_epochs_fold_to_the_same_minutes(acti_dir, variants):
    _, two = _read(variants / "actiwatch/aw4_2min.AWD")  # 2-minute epochs: half of each epoch to each minute
    _, one = _read(acti_dir / "actiwatch/test_sample_aw4.AWD")
    pair = one.extras["activity_counts"][:2000].reshape(-1, 2).sum(1)
    np.testing.assert_allclose(two.extras["activity_counts"][:2000], np.repeat(pair / 2, 2))
    _, m30 = _read(variants / "motionwatch/mw_30s.mtn")
    _, m5 = _read(acti_dir / "motionwatch/test_sample.mtn")
    np.testing.assert_allclose(m30.extras["activity_counts"][:-1], m5.extras["activity_counts"][:-1], rtol=1e-5)
    _, a60 = _read(variants / "actigraph/agd_60s.agd")
    _, a10 = _read(acti_dir / "actigraph/test_sample.agd")
    np.testing.assert_allclose(a60.values[:, schema.INDEX["step_count"]], a10.values[:, schema.INDEX["step_count"]])
    np.testing.assert_allclose(a60.extras["axis1"], a10.extras["axis1"])
    assert "light" not in a60.extras  # that version has no lux column


def test_cli_imports_the_other_folder(variants, tmp_path):
    r = CliRunner().invoke(main, ["data", "import", str(variants), "--out", str(tmp_path / "imp")])
    assert r.exit_code == 0, r.output
    assert sum(" epochs, " in line for line in r.output.splitlines()) == 15
    assert "rpx_gaps.csv: Philips Actiware export, 30-s epochs, activity, event_marker, light; 10,080 minutes " \
           "(10,080 observed, 491 partly covered: counts as recorded)" in r.output


# -- the minute rule ---------------------------------------------------------------------------------------
def test_fold_sums_counts_and_averages_levels():
    off = np.arange(8) * 15.0  # two minutes of 15-s epochs
    v = np.array([1, 2, 3, 4, 10, 20, 30, 40.0])
    np.testing.assert_allclose(fold(off, 15, v, "sum", 2), [10, 100])
    np.testing.assert_allclose(fold(off, 15, v, "mean", 2), [2.5, 25])
    v[[5, 6]] = np.nan  # minute 1 covered 30 s: what was counted, never scaled up to a whole minute
    got, cover = fold(off, 15, v, "sum", 2, with_cover=True)
    np.testing.assert_allclose(got, [10, 50])
    np.testing.assert_allclose(cover, [60, 30])
    v[4] = np.nan  # 15 s covered: missing
    assert np.isnan(fold(off, 15, v, "sum", 2)[1])
    # a 5-minute epoch: a fifth to each minute; levels held
    np.testing.assert_allclose(fold(np.array([0.0]), 300, np.array([50.0]), "sum", 5), [10] * 5)
    # 30-s epochs that start 20 s into a minute: shares by overlap
    got = fold(np.array([20.0, 50, 80, 110]), 30, np.array([30.0, 30, 30, 30]), "sum", 3)
    np.testing.assert_allclose(got[:2], [40, 60])  # minute 0: 40 s covered (20 + 20 s of two epochs), as counted
    assert np.isnan(got[2])  # minute 2: the last epoch's 20 s
    # epochs of their own lengths (the parts of a split epoch) add up to their minute
    np.testing.assert_allclose(fold(np.array([0.0, 26, 60]), np.array([26.0, 34, 60]), np.array([5, 7, 1.0]), "sum", 2),
                               [12, 1])


def test_awd_second_column_rule():
    temp, light = np.array([33.1, 34.0, 35.2]), np.array([0, 0, 120, 3000.0])
    assert awd.second_column("T123", light) == "skin_temperature"  # the device letter first
    assert awd.second_column("L123", temp) == "light"
    assert awd.second_column("V123", temp) == "skin_temperature"  # else the values' range
    assert awd.second_column("V123", light) == "light"
    assert awd.second_column("D123", np.zeros(5)) == "light"


# -- malformed files: one named error with file and line ------------------------------------------------------
AWD = "S1\r\n05-Mar-2021\r\n22:15\r\n 2 \r\n31\r\nV123\r\nF\r\n" + "".join(f"{i} , {i % 50}\r\n" for i in range(40))
ACTIWARE = ('"Actiware Export File  (Version 05.00 )"\r\n\r\n"------ Subject Properties ------"\r\n'
            '"Identity:","S1"\r\n\r\n"------ Epoch-by-Epoch Data ------"\r\n'
            '"Line","Date","Time","Activity","Marker","White Light","Sleep/Wake","Interval Status",\r\n\r\n'
            + "".join(f'"{i + 1}","{14 + i // 120:02d}/07/2015","{(i // 2) // 60 % 24:02d}:{(i // 2) % 60:02d}:'
                      f'{30 * (i % 2):02d}","{(7 * i) % 90}","0","{i}.25","1","ACTIVE",\r\n' for i in range(40)))
ACTTRUST = ("+-------------+ Condor Instruments Report +-------------+\r\nSOFTWARE_VERSION : 1.0.13\r\n"
            "SUBJECT_NAME : S1\r\nINTERVAL : 60\r\n+-----------------------+\r\n"
            "DATE/TIME;MS;EVENT;TEMPERATURE;PIM;TAT;ZCM;LIGHT;STATE\r\n"
            + "".join(f"01/01/2020 09:{i:02d}:00;0;0;{30 + i / 10:.2f};{100 + i};{i};{i % 7};{i * 2}.5;0\r\n"
                      for i in range(40)))
TAL = "Comment\r\n\r\nN° de Série: 00000\r\n\r\nData; Hora; Evento; Luminosidade; Atividade\r\n" + "".join(
    f"2000/1/1; 00:{i:02d}:00; 0; {i * 3}; {i % 11};\r\n" for i in range(40))
DQT = ("Start: 2000-01-27 19:00:00 GMT\r\nEnd: 2000-01-27 19:04:59 GMT\r\n\r\nSerial number:,u1,u1\r\n"
       "Name:,Accelleration X+Y,Light\r\n\r\nBinning mode:,Sum,Average\r\n\r\n"
       + "".join(f"2000-01-27 19:{i // 60:02d}:{i % 60:02d},{i % 13},{50 + i % 5}\r\n" for i in range(240)))
BIOBANK = "time,acc,light,moderate-vigorous,sedentary,sleep,MET\n" + "".join(
    f"2014-05-07 13:{i // 2:02d}:{20 + 30 * (i % 2) if i % 2 else 20}.439000+0100 [Europe/London],"
    f"{(i * 7) % 40}.5,0.0,0.0,1.0,0.0,1.5\n" for i in range(40))
MTN = ('<?xml version="1.0" encoding="UTF-8"?><motionfile><log2 major="2" minor="1"><change>'
       '<property><name>+UserID</name><content>S1</content></property></change><change><property>'
       '<name>=StartTime</name><content>2018-05-23 17:30:00</content></property></change><change><channel>'
       '<name>motion</name><units>Triaxial-Counts</units><epoch>15</epoch><offset>0</offset><data encoding="text">'
       + ",".join(str(i % 9) for i in range(40)) + '</data></channel></change></log2></motionfile>')

TEXT = {  # layout: (good file text, file name, reader)
    "actigraphy": (AWD, "x.AWD", awd.read),
    "actiware": (ACTIWARE, "x.csv", actiware.read),
    "acttrust": (ACTTRUST, "x.txt", acttrust.read),
    "tempatilumi": (TAL, "x.txt", tempatilumi.read),
    "daqtometer": (DQT, "x.csv", daqtometer.read),
    "biobank": (BIOBANK, "x-timeSeries.csv", biobank.read),
    "motionwatch": (MTN, "x.mtn", motionwatch.read),
}


@pytest.mark.parametrize("layout", sorted(TEXT))
def test_fixtures_read_and_are_recognised(tmp_path, layout):
    text, name, read = TEXT[layout]
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    assert [lay.NAME for lay in autoimport.FILE_LAYOUTS if lay.recognise(p)] == [layout]
    (tl,) = read([p])
    assert np.isfinite(tl.values[:, LE]).sum() >= 4


@pytest.mark.parametrize("layout, good, bad, message", [
    ("actiware", '"5","14/07/2015","00:02:00"', '"5","14/07/2015","0x:02:00"', r"x\.csv:13: date '14/07/2015' / time '0x:02:00'"),
    ("acttrust", "01/01/2020 09:03:00;0;0;30.30;103", "01/01/2020 09:03:00;0;0;30.30;1o3", r"x\.txt:10: PIM '1o3' is not a number"),
    ("acttrust", "01/01/2020 09:04:00", "01/01/2020 09:02:00", r"x\.txt:11: time -60 s after the row before"),
    ("tempatilumi", "2000/1/1; 00:03:00; 0; 9; 3;", "2000/1/1; 00:03:00; 0; 9;", r"x\.txt:9: row '2000/1/1; 00:03:00; 0; 9;'"),
    ("daqtometer", "2000-01-27 19:00:05,5,50", "2000-01-27 19:00:05,-5,50", r"x\.csv:14: Accelleration X\+Y -5 is negative"),
    ("biobank", "13:01:20.439000+0100 [Europe/London],14.5", "13:01:20.439000+0100 [Europe/London],fast",
     r"x-timeSeries\.csv:4: acc 'fast' is not a number"),
    ("actigraphy", "\r\n3 , 3\r\n", "\r\n3 ; 3\r\n", r"x\.AWD:11: row '3 ; 3'"),
])
def test_malformed_rows_are_named_with_file_and_line(tmp_path, layout, good, bad, message):
    text, name, read = TEXT[layout]
    assert good in text
    p = tmp_path / name
    p.write_text(text.replace(good, bad, 1), encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        read([p])
    tls = read([p], skip_malformed=True)  # or dropped, each still reported
    assert len(tls) == 1


def test_daylight_saving_changes_neither_lose_nor_invent_an_hour(tmp_path):
    """ActTrust rows on the local clock: at 02:00 it falls back to 01:00 (an hour repeats), later it springs
    from 01:59 to 03:00; every row is read, one minute after the other.  A one-hour gap at noon stays a gap."""
    def rows(times):
        return "".join(f"{t};0;0;31.00;{100 + i};{i};1;2.5;0\r\n" for i, t in enumerate(times))

    head = ACTTRUST[:ACTTRUST.index("01/01/2020 09:00")]
    fall = [f"25/10/2020 01:{m:02d}:00" for m in range(55, 60)] + [f"25/10/2020 01:{m:02d}:00" for m in range(0, 5)]
    spring = [f"28/03/2021 01:{m:02d}:00" for m in range(55, 60)] + [f"28/03/2021 03:{m:02d}:00" for m in range(0, 5)]
    gap = [f"01/06/2021 11:{m:02d}:00" for m in range(55, 60)] + [f"01/06/2021 13:{m:02d}:00" for m in range(0, 5)]
    for name, times, minutes in (("fall", fall, 10), ("spring", spring, 10), ("gap", gap, 70)):
        p = tmp_path / f"{name}.txt"
        p.write_text(head + rows(times))
        (tl,) = acttrust.read([p])
        assert tl.minutes == minutes, name
        counts = tl.extras["activity_counts"]
        np.testing.assert_allclose(counts[np.isfinite(counts)], 100 + np.arange(10), err_msg=name)


# -- imported totals are the files' totals (the counts a device recorded, no more, no less) ----------------
def _awd_total(p):
    return sum(float(ln.split(",")[0].split()[0]) for ln in p.read_text(encoding="latin-1").splitlines()[7:] if ln.strip())


def _column_total(p, header_start, column, delim, skip=lambda cells: False):
    """An independent total: the named column of the table under the line starting with ``header_start``."""
    lines = p.read_bytes().decode("utf-8", errors="replace").splitlines()
    h = next(i for i, ln in enumerate(lines) if ln.startswith(header_start))
    head = [c.strip().strip('"') for c in lines[h].split(delim)]
    k = head.index(column)
    total = 0.0
    for ln in lines[h + 1:]:
        cells = [c.strip().strip('"') for c in ln.split(delim)]
        if len(cells) > k and cells[k] not in ("", "NaN") and not skip(cells):
            total += float(cells[k].replace(",", "."))
    return total


def test_imported_totals_are_the_files_totals(acti_dir, variants):
    """Summed over the recording, the activity channel is the file's own total: split ActTrust epochs count
    once (14,166,918 PIM), minutes a 30-s export covers half are not scaled up.  The one exception is the
    rule's: a minute covered under 30 s is missing (MotionWatch's last, 4 epochs of 5 s)."""
    want = {acti_dir / f"actiwatch/test_sample_{k}.AWD": _awd_total(acti_dir / f"actiwatch/test_sample_{k}.AWD")
            for k in ("aw4", "aw7", "awmk2", "awl", "awt")}
    want[acti_dir / "acttrust/test_sample_atr.txt"] = 14_166_918
    assert _column_total(acti_dir / "acttrust/test_sample_atr.txt", "DATE/TIME", "PIM", ";") == 14_166_918
    want[acti_dir / "tempatilumi/test_sample_tal.txt"] = _column_total(acti_dir / "tempatilumi/test_sample_tal.txt",
                                                                        "Data;", "Atividade", ";")
    eng = acti_dir / "actiware/test_sample_rpx_eng.csv"
    want[eng] = _column_total(eng, '"Line","Date","Time","Activity"', "Activity", ",")
    want[variants / "actiware/rpx_gaps.csv"] = _column_total(variants / "actiware/rpx_gaps.csv",
                                                             '"Line","Date","Time","Activity"', "Activity", ",")
    assert want[variants / "actiware/rpx_gaps.csv"] < want[eng]  # the gaps are epochs with no count
    mtn = (acti_dir / "motionwatch/test_sample.mtn").read_text(encoding="utf-8-sig")
    motion = re.search(r"<name>motion</name>.*?<data encoding=\"text\">(.*?)</data>", mtn, re.S).group(1)
    counts = [float(x) for x in motion.split(",") if x.strip()]
    tail = len(counts) * 5 % 60 // 5  # 5-s epochs; a last minute covered under 30 s is not observed
    assert 0 < tail < 6
    want[acti_dir / "motionwatch/test_sample.mtn"] = sum(counts[:-tail])
    for p, total in want.items():
        _, tl = _read(p)
        assert np.nansum(tl.extras["activity_counts"].astype(np.float64)) == pytest.approx(total, rel=1e-7), p.name
    _, gaps = _read(variants / "actiware/rpx_gaps.csv")
    part = gaps.extras["covered_s"] < 60
    assert gaps.meta["partial_minutes"] == int((part & np.isfinite(gaps.extras["activity_counts"])).sum()) == 491
    assert set(np.unique(gaps.extras["covered_s"][part])) == {30.0}
    _, whole = _read(eng)
    assert "covered_s" not in whole.extras and whole.meta["partial_minutes"] == 0


def test_acttrust_split_epochs_add_up_to_their_epoch(acti_dir, tmp_path):
    _, tl = _read(acti_dir / "acttrust/test_sample_atr.txt")
    m = int((np.datetime64("1918-01-02T01:54") - tl.start).astype(int))  # the row stamped 01:54:26
    np.testing.assert_array_equal(tl.extras["activity_counts"][m - 1:m + 2], [790, 1635, 0])
    assert tl.labels["event_marker"][m] == 1 and "covered_s" not in tl.extras
    # both parts written (09:02:00 and 09:02:26): the minute is their sum, its neighbours untouched
    rows = ACTTRUST.replace("01/01/2020 09:03:00;", "01/01/2020 09:02:26;0;1;30.25;7;1;1;2.5;0\r\n01/01/2020 09:03:00;")
    p = tmp_path / "split.txt"
    p.write_text(rows)
    (two,) = acttrust.read([p])
    (one,) = acttrust.read([_write(tmp_path / "one.txt", ACTTRUST)])
    want = one.extras["activity_counts"].copy()
    want[2] += 7
    np.testing.assert_array_equal(two.extras["activity_counts"], want)
    assert two.labels["event_marker"][2] == 0 and "covered_s" not in two.extras  # the minute's first part's label


def _write(p, text):
    p.write_text(text)
    return p


def test_actiware_column_it_cannot_read_is_named(tmp_path, capsys):
    p = _write(tmp_path / "x.csv", re.sub(r'"(\d+)\.25"', r'"\1.25 lx"', ACTIWARE))
    (tl,) = actiware.read([p])
    assert "light" not in tl.extras and np.isfinite(tl.extras["activity_counts"]).sum() >= 19
    err = capsys.readouterr().err
    assert f"{p}:9: 'White Light' not read: '0.25 lx' is not a number" in err


def test_tempatilumi_dates_of_other_locales(tmp_path):
    us = TAL.replace("2000/1/1; 00:", "1/13/2000; 00:")  # m/d/yyyy: a first number never above 12
    br = TAL.replace("2000/1/1; 00:", "13/01/2000; 00:").replace(":00; 0;", "; 0;")  # HH:MM, no seconds
    for text, day in ((us, "2000-01-13"), (br, "2000-01-13")):
        (tl,) = tempatilumi.read([_write(tmp_path / "t.txt", text)])
        assert tl.start == np.datetime64(f"{day}T00:00") and tl.minutes == 40


def test_tempatilumi_with_temperature(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text(TAL.replace("Luminosidade; Atividade", "Luminosidade; Atividade; Temperatura").replace(
        ";\r\n", "; 33,5;\r\n"), encoding="utf-8")
    (tl,) = tempatilumi.read([p])
    assert tl.meta["channels"] == ["activity", "event_marker", "light", "skin_temperature"]
    np.testing.assert_allclose(tl.values[:, schema.INDEX["skin_temperature"]], 33.5)


def _agd(p, rows=20, start_shift=0):
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE settings (settingID INTEGER PRIMARY KEY, settingName TEXT, settingValue TEXT)")
    t0 = agd.TICKS_1970 + 1_600_000_020 * agd.TICKS_PER_S
    con.executemany("INSERT INTO settings (settingName, settingValue) VALUES (?, ?)",
                    [("epochlength", "30"), ("devicename", "GT3X"), ("subjectname", "S1"),
                     ("startdatetime", str(t0 + start_shift))])
    con.execute("CREATE TABLE data (dataTimestamp INTEGER, axis1 REAL, axis2 REAL, axis3 REAL, steps REAL)")
    con.executemany("INSERT INTO data VALUES (?,?,?,?,?)",
                    [(t0 + i * 30 * agd.TICKS_PER_S, 3.0 * i, 4.0 * i, 0.0, 1.0) for i in range(rows)])
    con.commit()
    con.close()
    return p


def test_agd_opened_read_only_and_foreign_sqlite_named(tmp_path):
    p = _agd(tmp_path / "x.agd")
    before = (p.read_bytes(), p.stat().st_mtime_ns)
    os.chmod(p, 0o444)
    (tl,) = agd.read([p])
    assert (p.read_bytes(), p.stat().st_mtime_ns) == before and not (tmp_path / "x.agd-journal").exists()
    assert tl.start == np.datetime64(1_600_000_020, "s").astype("datetime64[m]") and tl.minutes == 10
    np.testing.assert_allclose(tl.extras["activity_counts"][:2], [5 * (0 + 1), 5 * (2 + 3)])  # VM 5i per epoch
    np.testing.assert_allclose(tl.values[:, schema.INDEX["step_count"]], 2)
    os.chmod(p, 0o644)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE people (name TEXT)")
    con.commit()
    con.close()
    assert agd.recognise(other)
    with pytest.raises(DataFormatError, match=r"other\.db: a SQLite database with tables \['people'\]; expected an "
                                              r"ActiLife \.agd file"):
        agd.read([other])
    broken = tmp_path / "broken.agd"
    broken.write_bytes(p.read_bytes()[:100] + b"\x00" * 3000)
    with pytest.raises(DataFormatError, match=r"broken\.agd: (a damaged SQLite file|a SQLite database with tables)"):
        agd.read([broken])
    late = _agd(tmp_path / "late.agd", start_shift=60 * agd.TICKS_PER_S)
    with pytest.raises(DataFormatError, match=r"late\.agd: the first epoch .* lies before the settings' startdatetime"):
        agd.read([late])


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_agd_raises_a_named_error_or_reads_right(tmp_path, data):
    (tmp_path / "good.agd").unlink(missing_ok=True)
    good = _agd(tmp_path / "good.agd")
    raw = bytearray(good.read_bytes())
    if data.draw(st.booleans()):
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    p = tmp_path / "fuzzed.agd"
    p.write_bytes(bytes(raw))
    try:
        tls = agd.read([p])
    except DataFormatError as e:
        assert str(p) in str(e) or "malformed" in str(e)
        return
    for tl in tls:
        assert tl.minutes <= MAX_TIMELINE_DAYS * 1440
        le = tl.values[:, LE]
        assert (le[np.isfinite(le)] >= 0).all()


def test_mtn_refuses_entities_and_names_bad_xml(tmp_path):
    bomb = tmp_path / "bomb.mtn"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                    '<motionfile>&b;</motionfile>')
    assert motionwatch.recognise(bomb)
    with pytest.raises(DataFormatError, match=r"bomb\.mtn: refused XML \(DTDForbidden"):
        motionwatch.read([bomb])
    cut = tmp_path / "cut.mtn"
    cut.write_text(MTN[:300] + "\n<chan")
    with pytest.raises(DataFormatError, match=r"cut\.mtn:2: not well-formed XML"):
        motionwatch.read([cut])


def test_unrecognised_device_file_refused_and_docs_skipped(tmp_path):
    (tmp_path / "notes.txt").write_text("field notes: watch on the left wrist\n")
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "x.AWD").write_text(AWD)
    assert set(autoimport.find(tmp_path)) == {"actigraphy"}
    (tmp_path / "mystery.dat").write_bytes(b"\x00\x01binary")
    (tmp_path / "empty.csv").write_bytes(b"")
    told = []
    assert set(autoimport.find(tmp_path, report=lambda p, why: told.append((p.name, why)))) == {"actigraphy"}
    assert told == [("empty.csv", "empty file"), ("mystery.dat", "not a layout lsm-edge recognises")]
    with pytest.raises(DataFormatError, match=r"empty\.csv: empty file \(and 1 other file\(s\) not read\)"):
        autoimport.find(tmp_path, strict=True)
    (tmp_path / "x.AWD").unlink()
    with pytest.raises(DataFormatError, match=r"empty\.csv: empty file"):  # nothing recognised: refused
        autoimport.find(tmp_path)


# -- fuzzing: a named error, never a traceback, never a silently shifted time axis -------------------------
DELIM = {"actigraphy": ",", "actiware": ",", "acttrust": ";", "tempatilumi": ";", "daqtometer": ",", "biobank": ","}
BY_NAME = {"acttrust", "tempatilumi", "biobank"}  # columns found by name: a reorder keeps every value


def _mutate(layout, text, data):
    how = data.draw(st.sampled_from(["truncate", "flip", "cp1252", "utf16", "shuffle", "rename"]))
    b = bytearray(text.encode("utf-8"))
    if how == "truncate":
        return bytes(b[:data.draw(st.integers(0, len(b)))]), how
    if how == "flip":
        for _ in range(data.draw(st.integers(1, 5))):
            b[data.draw(st.integers(0, len(b) - 1))] = data.draw(st.integers(0, 255))
        return bytes(b), how
    if how == "cp1252":
        return text.encode("cp1252"), how
    if how == "utf16":
        return text.encode("utf-16"), how
    if layout == "motionwatch":
        return text.replace("<name>motion</name>", "<name>Light</name>").encode(), how
    d = DELIM[layout]
    lines = text.split("\n")
    width = max(ln.count(d) for ln in lines)
    table = [i for i, ln in enumerate(lines) if ln.count(d) == width and width > 0]
    order = data.draw(st.permutations(range(width + 1)))
    for i in table:
        cells = lines[i].split(d)
        if how == "shuffle":
            lines[i] = d.join(cells[k] for k in order)
        elif i == table[0]:  # rename: one header cell gets another name
            k = data.draw(st.integers(0, len(cells) - 1))
            cells[k] = data.draw(st.sampled_from(["Foo", "ACTIVITY 2", "PIMn", ""]))
            lines[i] = d.join(cells)
    return "\n".join(lines).encode("utf-8"), how


@pytest.mark.parametrize("layout", sorted(TEXT))
@settings(max_examples=40, deadline=None, derandomize=True,  # the same cases on every run and in CI
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_exports_raise_a_named_error_or_read_right(tmp_path, layout, data):
    text, name, read = TEXT[layout]
    gz = layout == "biobank" and data.draw(st.booleans())
    p = tmp_path / (name + (".gz" if gz else ""))
    raw, how = _mutate(layout, text, data)
    p.write_bytes(gzip.compress(raw) if gz else raw)
    try:
        tls = read([p])
    except DataFormatError as e:
        assert str(p) in str(e) or "malformed" in str(e)
        return
    good = tmp_path / "good" / name
    good.parent.mkdir(exist_ok=True)
    good.write_text(text, encoding="utf-8")
    (ref,) = read([good])
    for tl in tls:
        assert tl.minutes <= MAX_TIMELINE_DAYS * 1440
        le = tl.values[:, LE]
        assert (le[np.isfinite(le)] >= 0).all()
        if how == "flip":
            continue  # a flipped digit can make another valid reading (or time)
        # the time axis is the good file's: every minute read lies where the good file has it
        at = (tl.start - ref.start).astype(int) + np.arange(tl.minutes)
        ok = np.isfinite(le)
        if how == "truncate":
            ok[np.flatnonzero(ok)[-1:]] = False  # the last minute may be partly covered
        assert ((at >= 0) & (at < ref.minutes))[ok].all(), "a value at a minute the file does not have"
        if how in ("cp1252", "utf16", "truncate") or (how == "shuffle" and layout in BY_NAME):
            np.testing.assert_allclose(le[ok], ref.values[at[ok], LE], rtol=1e-5)


def test_cli_imports_a_recording_shorter_than_a_window(tmp_path):
    """An export shorter than one 300-minute window: imported, listed, and described with no window (no crash)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.txt").write_text(ACTTRUST)
    r = CliRunner().invoke(main, ["data", "import", str(tmp_path / "in"), "--out", str(tmp_path / "imp")])
    assert r.exit_code == 0, r.output
    assert "x.txt: Condor ActTrust, 60-s epochs, activity, event_marker, light, skin_temperature, tat, zcm; " \
           "40 minutes (40 observed)" in r.output and "(total 0)" in r.output
