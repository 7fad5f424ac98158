"""CGMacros and the Garmin 5-minute export (T1D-UOM): every real file read to the values it holds, every column
layout recognised by its columns, and a folder with files of other kinds imported with those listed."""

from __future__ import annotations

import csv
import gzip
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsm_edge import schema
from lsm_edge.cli import main
from lsm_edge.data import autoimport, cgmacros, garmin5min
from lsm_edge.data.windows import NO_LABEL
from lsm_edge.errors import DataFormatError

HR = schema.INDEX["heart_rate"]
STEPS = schema.INDEX["step_count"]


def _table(path):
    with gzip.open(path, "rt", newline="") as f:
        r = csv.reader(f)
        head = [c.strip() for c in next(r)]
        return head, list(r)


# -- CGMacros ------------------------------------------------------------------------------------------------
def test_every_real_cgmacros_file_is_recognised_and_read_to_its_values(real_dir):
    files = sorted((real_dir / "cgmacros").glob("CGMacros-*.csv.gz"))
    assert len(files) == 34 and all(cgmacros.recognise(p) for p in files)
    assert cgmacros.is_sidecar(real_dir / "cgmacros" / "bio.csv") and not cgmacros.recognise(real_dir / "cgmacros" / "bio.csv")
    layouts = {tuple(_table(p)[0]) for p in files}
    assert len(layouts) >= 6  # index column or not, METs or Intensity, glucose order, Steps (the README's 9 of 45)
    # three files of different layouts, checked cell by cell against the CSV
    picks = {"CGMacros-001.csv.gz", "CGMacros-004.csv.gz", "CGMacros-033.csv.gz"}
    picks |= {p.name for p in files if "Steps" in _table(p)[0]}
    for p in (real_dir / "cgmacros" / n for n in sorted(picks)):
        (tl,) = cgmacros.read([p])
        assert tl.subject == "cgmacros-" + p.name[9:12]
        head, rows = _table(p)
        c = {k: i for i, k in enumerate(head)}
        t = np.array([r[c["Timestamp"]] for r in rows], "datetime64[m]")
        at = (t - tl.start).astype(int)
        hr = np.array([float(r[c["HR"]]) if r[c["HR"]] else np.nan for r in rows])
        np.testing.assert_array_equal(tl.values[at, HR], hr.astype(np.float32))
        assert np.isnan(tl.values[np.setdiff1d(np.arange(tl.minutes), at), HR]).all()  # minutes with no row
        dex = np.array([float(r[c["Dexcom GL"]]) if r[c["Dexcom GL"]] else np.nan for r in rows], np.float32)
        np.testing.assert_array_equal(tl.extras["glucose_dexcom"][at], dex)
        num = lambda col: np.array([float(r[c[col]]) if r[c[col]] else np.nan for r in rows])  # noqa: E731
        if "METs" in c:
            np.testing.assert_allclose(tl.extras["mets"][at], num("METs") / 10, rtol=1e-6)
        else:
            np.testing.assert_array_equal(tl.extras["intensity"][at], num("Intensity").astype(np.float32))
        if "Steps" in c:
            st_ = np.array([float(r[c["Steps"]]) if r[c["Steps"]] else np.nan for r in rows], np.float32)
            np.testing.assert_array_equal(tl.values[at, STEPS], st_)
        meals = [(i, r[c["Meal Type"]]) for i, r in enumerate(rows) if r[c["Meal Type"]].strip()]
        assert len(meals) >= 10 and (tl.labels["meal"] != NO_LABEL).sum() == len(meals)
        for i, word in meals:
            assert cgmacros.MEALS[tl.labels["meal"][at[i]]] in word.lower()


def _cgm_csv(index=True, activity="METs", glucose=("Libre GL", "Dexcom GL"), extra_rows=()):
    head = (["Unnamed: 0"] if index else []) + ["Timestamp", *glucose, "HR", "Calories (Activity)", activity,
                                                  "Meal Type", "Calories", "Image path"]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(head)
    rows = [["2020-05-01 10:30:00", "84.0", "", "56.0", "1.05", "10", "", "", ""],
            ["2020-05-01 10:31:00", "84.1", "90", "", "1.05", "20", "Breakfast", "300", "a, b.jpg"],
            ["2020-05-01 10:33:00", "84.2", "", "61", "2.5", "30", "", "", ""], *extra_rows]
    for i, r in enumerate(rows):
        cells = dict(zip(["Timestamp", "Libre GL", "Dexcom GL", "HR", "Calories (Activity)", activity, "Meal Type",
                          "Calories", "Image path"], r))
        w.writerow(([str(i)] if index else []) + [cells[h] for h in head[1 if index else 0:]])
    return out.getvalue()


@pytest.mark.parametrize("index", [True, False])
@pytest.mark.parametrize("glucose", [("Libre GL", "Dexcom GL"), ("Dexcom GL", "Libre GL")])
def test_cgmacros_layouts_read_alike(tmp_path, index, glucose):
    p = tmp_path / "CGMacros-077.csv"
    p.write_text(_cgm_csv(index, "METs", glucose))
    assert cgmacros.recognise(p) and [lay.NAME for lay in autoimport.FILE_LAYOUTS if lay.recognise(p)] == ["cgmacros"]
    (tl,) = cgmacros.read([p])
    assert tl.subject == "cgmacros-077" and tl.minutes == 4
    np.testing.assert_array_equal(tl.values[:, HR], [56, np.nan, np.nan, 61])
    np.testing.assert_array_equal(tl.values[:, schema.INDEX["on_wrist"]], [1, np.nan, np.nan, 1])
    np.testing.assert_allclose(tl.extras["mets"], [1, 2, np.nan, 3])
    np.testing.assert_array_equal(tl.extras["glucose_dexcom"], [np.nan, 90, np.nan, np.nan])
    np.testing.assert_array_equal(tl.labels["meal"], [NO_LABEL, 0, NO_LABEL, NO_LABEL])


def test_cgmacros_bad_rows_named_with_file_and_line(tmp_path):
    p = tmp_path / "CGMacros-078.csv"
    p.write_text(_cgm_csv(extra_rows=[["2020-05-01 10:35:00", "1", "", "300", "1", "10", "", "", ""],
                                      ["2020-05-01 10:36:00", "1", "", "xx", "1", "10", "", "", ""],
                                      ["2020-05-01 10:20:00", "1", "", "70", "1", "10", "", "", ""]]))
    with pytest.raises(DataFormatError) as e:
        cgmacros.read([p])
    msg = str(e.value)
    assert "3 malformed row(s)" in msg and f"{p}:5: HR 300 outside the valid range [25, 240]" in msg
    assert f"{p}:6: HR 'xx' is not a number" in msg and f"{p}:7: Timestamp 2020-05-01 10:20:00 does not follow" in msg
    (tl,) = cgmacros.read([p], skip_malformed=True)
    assert tl.minutes == 4  # the three rows dropped, nothing shifted


def test_hba1c_is_a_person_label_by_the_ada_cut_offs(real_dir, tmp_path, capsys):
    labels = cgmacros.person_labels([real_dir / "cgmacros" / "CGMacros-001.csv.gz"])
    head, body = _table_plain(real_dir / "cgmacros" / "bio.csv")
    k = head.index("A1c PDL (Lab)")
    assert len(labels) == len(body) == 34
    for r in body:  # the README's counts: 11 normal, 12 prediabetes, 11 type 2 diabetes
        got = labels[f"cgmacros-{int(r[0]):03d}"]
        assert got["hba1c_percent"] == float(r[k])
        assert got["glycaemic_status"] == (0 if float(r[k]) < 5.7 else 1 if float(r[k]) < 6.5 else 2)
    assert np.bincount([v["glycaemic_status"] for v in labels.values()]).tolist() == [11, 12, 11]
    assert [cgmacros.glycaemic_status(x) for x in (5.6, 5.65, 5.7, 6.4, 6.45, 6.5)] == [0, 1, 1, 1, 2, 2]
    # a bio.csv row without HbA1c is named with its line; the import carries the labels in its manifest
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "CGMacros-001.csv").write_text(_cgm_csv())
    (tmp_path / "s" / "CGMacros-002.csv").write_text(_cgm_csv())
    (tmp_path / "s" / "bio.csv").write_text("subject,Age,A1c PDL (Lab)\n1,30,6.6\n2,41,n/a\n")
    r = CliRunner().invoke(main, ["data", "import", str(tmp_path / "s"), "--out", str(tmp_path / "imp")])
    assert r.exit_code == 0, r.output
    assert f"{tmp_path / 's' / 'bio.csv'}:3: subject '2' / A1c PDL (Lab) 'n/a'" in capsys.readouterr().err + r.output
    manifest = json.loads((tmp_path / "imp" / "dataset.json").read_text())
    assert manifest["person_labels"] == {"cgmacros-001": {"hba1c_percent": 6.6, "glycaemic_status": 2}}
    assert manifest["person_label_names"]["glycaemic_status"] == ["normal", "prediabetes", "type 2 diabetes"]
    assert "persons  glycaemic_status: normal 0, prediabetes 0, type 2 diabetes 1 (people)" in r.output


def _table_plain(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        return [c.strip() for c in next(r)], [row for row in r if row]


# -- Garmin 5-minute export (T1D-UOM) ------------------------------------------------------------------------
def test_every_real_garmin_file_is_read_onto_minutes(real_dir):
    files = sorted((real_dir / "t1d_uom").glob("*.csv.gz"))
    assert len(files) == 11 and all(garmin5min.recognise(p) for p in files)
    p = files[0]
    (tl,) = garmin5min.read([p])
    head, rows = _table(p)
    c = {k: i for i, k in enumerate(head)}
    hr = np.array([float(r[c["heart_rate"]]) for r in rows])
    t = np.array([f"{r[0][6:10]}-{r[0][3:5]}-{r[0][:2]}T{r[0][11:]}" for r in rows], "datetime64[m]")
    at = (t - tl.start).astype(int)
    assert (np.diff(at) == 5).all() and tl.minutes == at[-1] + 5
    for k in range(5):  # each reading holds for the five minutes of its row; a 0 is no reading
        np.testing.assert_array_equal(tl.values[at + k, HR], np.where(hr > 0, hr, np.nan).astype(np.float32))
    assert np.isnan(tl.values[:, STEPS]).all()  # the step counter is not steps per minute (module doc)
    np.testing.assert_array_equal(tl.extras["garmin_step_counter"][at], [float(r[c["step_count"]]) for r in rows])
    stress = np.array([int(r[c["stress_level_value"]]) for r in rows])
    np.testing.assert_array_equal(tl.labels["garmin_stress"][at + 4], np.where(stress >= 0, stress, NO_LABEL))
    assert tl.meta["epoch_s"] == 300 and tl.meta["units"]["resting_heart_rate"] == "bpm"


def _garmin_csv(order=None):
    head = ["sleep_ts", "step_count", "heart_rate", "current_activity_type_intensity", "stress_level_value",
            "sleep_level", "resting_heart_rate"]
    rows = [["29/10/2023 00:55", "0", "60", "8", "20", "1", "55"],
            ["29/10/2023 01:00", "10", "0", "8", "-2", "1", "55"],
            ["29/10/2023 01:05", "20", "70", "70", "30", "0", "0"]]
    order = order or list(range(len(head)))
    return "\n".join(",".join(r[k] for k in order) for r in [head, *rows]) + "\n"


def test_garmin_columns_found_by_name(tmp_path):
    a, b = tmp_path / "a" / "UoMsleep9.csv", tmp_path / "b" / "UoMsleep9.csv"
    a.parent.mkdir(), b.parent.mkdir()
    a.write_text(_garmin_csv())
    b.write_text(_garmin_csv([6, 2, 0, 5, 1, 4, 3]))
    (ta,), (tb,) = garmin5min.read([a]), garmin5min.read([b])
    np.testing.assert_array_equal(ta.values, tb.values)
    np.testing.assert_array_equal(ta.values[:, HR], [60] * 5 + [np.nan] * 5 + [70] * 5)
    np.testing.assert_array_equal(ta.labels["garmin_stress"], [20] * 5 + [NO_LABEL] * 5 + [30] * 5)
    np.testing.assert_array_equal(ta.extras["resting_heart_rate"], [55] * 10 + [np.nan] * 5)
    assert ta.subject == "garmin-UoMsleep9"


# -- a research folder: what is read, what is listed --------------------------------------------------------
def test_folder_with_other_files_imports_what_it_knows_and_lists_the_rest(tmp_path):
    src = tmp_path / "study"
    (src / "garmin").mkdir(parents=True)
    (src / "garmin" / "UoMsleep1.csv").write_text(_garmin_csv() + "".join(
        f"29/10/2023 {1 + (m + 2) // 12:02d}:{(m + 2) % 12 * 5:02d},0,{60 + m % 7},8,20,1,55\n" for m in range(90)))
    (src / "CGMacros-001.csv").write_text(_cgm_csv())
    (src / "protocol.pdf").write_bytes(b"%PDF-1.4")
    (src / "export.xlsx").write_bytes(b"PK\x03\x04 not a table")
    (src / "blank.csv").write_text("")
    r = CliRunner().invoke(main, ["data", "import", str(src), "--out", str(tmp_path / "imp")])
    assert r.exit_code == 0, r.output
    assert "layouts: cgmacros (1 file), garmin5min (1 file)" in r.output
    assert f"not read: {src / 'blank.csv'}: empty file" in r.output
    assert f"not read: {src / 'export.xlsx'}: not a layout lsm-edge recognises" in r.output
    assert "protocol.pdf" not in r.output  # documentation is passed over quietly
    r = CliRunner().invoke(main, ["data", "import", str(src), "--strict", "--out", str(tmp_path / "imp2")])
    assert r.exit_code != 0 and "blank.csv: empty file (and 1 other file(s) not read)" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "imp2").exists()


# -- fuzzing ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["cgmacros", "garmin5min"])
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_cohort_files_raise_a_named_error_or_read_right(tmp_path, layout, data):
    text, mod = (_cgm_csv(), cgmacros) if layout == "cgmacros" else (_garmin_csv(), garmin5min)
    how = data.draw(st.sampled_from(["truncate", "flip", "cp1252", "shuffle", "rename"]))
    b = bytearray(text.encode())
    if how == "truncate":
        b = b[:data.draw(st.integers(0, len(b)))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 5))):
            b[data.draw(st.integers(0, len(b) - 1))] = data.draw(st.integers(0, 255))
    elif how == "cp1252":
        b = bytearray(text.encode("cp1252"))
    else:
        table = list(csv.reader(io.StringIO(text)))
        order = data.draw(st.permutations(range(len(table[0]))))
        if how == "rename":
            table[0][data.draw(st.integers(0, len(table[0]) - 1))] = "Foo"
        out = io.StringIO()
        csv.writer(out).writerows([[r[k] for k in order] for r in table] if how == "shuffle" else table)
        b = bytearray(out.getvalue().encode())
    p = tmp_path / ("CGMacros-050.csv" if layout == "cgmacros" else "UoMsleep50.csv")
    p.write_bytes(bytes(b))
    good = tmp_path / "good" / p.name
    good.parent.mkdir(exist_ok=True)
    good.write_text(text)
    (ref,) = mod.read([good])
    if not mod.recognise(p):
        assert how in ("truncate", "flip", "rename")  # a broken header is not this layout: import lists it
        return
    try:
        tls = mod.read([p])
    except DataFormatError as e:
        assert str(p) in str(e) or "malformed" in str(e)
        return
    (tl,) = tls
    at = (tl.start - ref.start).astype(int) + np.arange(tl.minutes)
    ok = np.isfinite(tl.values[:, HR])
    if how != "flip":  # a flipped digit can make another valid time or reading
        assert ((at >= 0) & (at < ref.minutes))[ok].all(), "a value at a minute the file does not have"
    if how in ("cp1252", "shuffle") or (how == "rename" and tl.minutes == ref.minutes):
        np.testing.assert_array_equal(tl.values[ok, HR], ref.values[at[ok], HR])


BIO = "subject,Age,Gender,A1c PDL (Lab),HDL\n1,27,M,5.4,74\n2,49,F,6.1,91\n3,59,F,6.5,74\n"


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_bio_table_gives_labels_it_holds_or_names_the_row(tmp_path, data):
    """bio.csv truncated, flipped, re-encoded or its columns reordered: every label read is one the good table
    holds for that person; nothing raises but a named DataFormatError."""
    b = bytearray(BIO.encode())
    how = data.draw(st.sampled_from(["truncate", "flip", "shuffle"]))
    if how == "truncate":
        b = b[:data.draw(st.integers(0, len(b)))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            b[data.draw(st.integers(0, len(b) - 1))] = data.draw(st.integers(0, 255))
    else:
        table = list(csv.reader(io.StringIO(BIO)))
        order = [0] + list(data.draw(st.permutations(range(1, len(table[0])))))
        b = bytearray("\n".join(",".join(r[k] for k in order) for r in table).encode())
    (tmp_path / "bio.csv").write_bytes(bytes(b))
    try:
        got = cgmacros.person_labels([tmp_path / "CGMacros-001.csv"])
    except DataFormatError as e:
        assert "bio.csv" in str(e)
        return
    want = {"cgmacros-001": 5.4, "cgmacros-002": 6.1, "cgmacros-003": 6.5}
    for k, v in got.items():
        assert v["glycaemic_status"] == cgmacros.glycaemic_status(v["hba1c_percent"])
        if how != "flip":
            assert v["hba1c_percent"] == want[k]
    if how == "shuffle":
        assert len(got) == 3


def test_linked_folders_are_read_and_a_link_loop_once(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "CGMacros-001.csv").write_text(_cgm_csv())
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "cgm").symlink_to(tmp_path / "data", target_is_directory=True)
    (tmp_path / "data" / "again").symlink_to(tmp_path / "data", target_is_directory=True)  # a loop
    found = autoimport.find(tmp_path / "study")
    assert [p.name for p in found["cgmacros"]] == ["CGMacros-001.csv"]
