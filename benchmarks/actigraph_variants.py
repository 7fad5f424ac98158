"""Write a second actigraph folder, laid out like ../shared/data/actigraphs/, of *other* exports: other
languages, encodings, software versions and epochs of the same formats.

The only real exports of these formats on this machine are the ones in ../shared/data/actigraphs/, so each
variant here is made from one of them by changing what the issue names as changing between exports
(header words, date and number formats, encodings, column names and order, epochs), never the measured
values except to sum epochs into longer ones.  They test recognition and reading; they are not new
recordings, and evaluate-real is not run on them.

    actiware/  German (; separated, decimal comma, dd.mm.yyyy, cp1252), German comma separated (an
               off-wrist status column, light as quoted "2,35E+02"), Spanish (UTF-8 with a byte-order
               mark), US English (m/d/yyyy, 12-hour clock with AM/PM), English 30-s with missing epochs
    actiwatch/ .AWD of 2-minute epochs (code 8, from the 1-minute file), a temperature file whose
               serial gives no device letter (the value range decides), light in E-notation
    acttrust/  a later software version: columns renamed, reordered and added; decimal commas
    actigraph/ .agd of 60-second epochs (the 10-second epochs summed) without the lux column
    motionwatch/ .mtn of 30-second epochs, no XML signature
    tempatilumi/ tab separated, English header words; Portuguese, tab separated, dd/mm/yyyy, Temperatura
    daqtometer/ channels in the other order (light first)
    biobank/   ISO UTC offsets (+01:00) and the tool's later ``imputed`` column

Usage: python benchmarks/actigraph_variants.py ../shared/data/actigraphs OUT
"""

import csv
import gzip
import io
import re
import shutil
import sqlite3
import sys
from pathlib import Path


def actiware(src: Path, out: Path):
    text = src.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    german_words = {"Line": "Zeile", "Date": "Datum", "Time": "Zeit", "Activity": "Aktivität", "Marker": "Markierung",
                    "White Light": "Weißes Licht", "Sleep/Wake": "Schlaf/Wach", "Interval Status": "Intervallstatus"}
    spanish_words = {"Line": "Línea", "Date": "Fecha", "Time": "Hora", "Activity": "Actividad", "Marker": "Marcador",
                     "White Light": "Luz blanca", "Sleep/Wake": "Sueño/Vigilia", "Interval Status": "Estado del intervalo"}

    def dmy(d):  # 04/07/2015 -> (4, 7, 2015)
        a, b, y = d.split("/")
        return int(a), int(b), int(y)

    def write(name, words, date_fmt, time_fmt, delim, comma, encoding, bom=False):
        lines = []
        for r in rows:
            r = [words.get(c, c) for c in r]
            if r and r[0] == "Actiware Export File  (Version 05.00 )":
                r = ["Actiware Exportdatei (Version 06.00)" if words is german_words else
                     "Archivo de exportación de Actiware (Versión 06.00)" if words is spanish_words else r[0]]
            out_r = []
            for c in r:
                if re.fullmatch(r"\d{2}/\d{2}/\d{4}", c):
                    c = date_fmt(*dmy(c))
                elif re.fullmatch(r"\d{2}:\d{2}:\d{2}", c):
                    c = time_fmt(c)
                elif comma and re.fullmatch(r"-?\d+\.\d+", c):
                    c = c.replace(".", ",")
                out_r.append(c)
            lines.append(delim.join(f'"{c}"' for c in out_r))
        data = "\r\n".join(lines) + "\r\n"
        raw = data.encode(encoding, errors="replace")
        (out / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + raw)

    def ampm(t):
        h, m, s = map(int, t.split(":"))
        return f"{(h % 12) or 12}:{m:02d}:{s:02d} {'AM' if h < 12 else 'PM'}"

    write("rpx_de.csv", german_words, lambda d, m, y: f"{d:02d}.{m:02d}.{y}", lambda t: t, ";", True, "cp1252")
    german_comma(rows, german_words, out)
    with_gaps(rows, out)
    write("rpx_es.csv", spanish_words, lambda d, m, y: f"{d}/{m:02d}/{y}", lambda t: t, ",", False, "utf-8", bom=True)
    write("rpx_us.csv", {}, lambda d, m, y: f"{m}/{d}/{y}", ampm, ",", False, "utf-8")


def german_comma(rows, words, out: Path):
    """Actiware in German, comma separated: an off-wrist status column (0 / 1) after the time, and light as a
    quoted decimal-comma number in E-notation (``"2,35E+02"``)."""
    lines = []
    for r in rows:
        if r and r[0] == "Line" and "White Light" in r:
            r = r[:3] + ["Nicht am Handgelenk"] + r[3:]
            light = r.index("White Light")
        elif r and r[0].isdigit() and len(r) > 6 and re.fullmatch(r"\d{2}:\d{2}:\d{2}", r[2]):
            r = r[:3] + [str(int(r[3] == "0"))] + r[3:]  # the status: a made-up flag, 1 where no count
            v = r[light]
            if re.fullmatch(r"-?\d+(\.\d+)?", v):
                r[light] = f"{float(v):.2E}".replace(".", ",")
        if r and re.fullmatch(r"\d{2}/\d{2}/\d{4}", r[1] if len(r) > 1 else ""):
            d, m, y = r[1].split("/")
            r[1] = f"{d}.{m}.{y}"
        r = [words.get(c, c) for c in r]
        lines.append(",".join(f'"{c}"' for c in r))
    lines[0] = '"Actiware Exportdatei (Version 06.00)"'
    (out / "rpx_de_comma.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def with_gaps(rows, out: Path):
    """The English 30-s export with every 41st epoch missing (``NaN`` activity): minutes covered 30 s."""
    lines = []
    for r in rows:
        if r and r[0].isdigit() and len(r) > 6 and re.fullmatch(r"\d{2}:\d{2}:\d{2}", r[2]) and int(r[0]) % 41 == 0:
            r = r[:3] + ["NaN"] + r[4:]
        lines.append(",".join(f'"{c}"' for c in r))
    (out / "rpx_gaps.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def awd(src_dir: Path, out: Path):
    lines = (src_dir / "test_sample_aw4.AWD").read_text(encoding="latin-1").splitlines()
    counts = [int(x.split()[0]) for x in lines[7:] if x.strip()]
    two = [sum(counts[i:i + 2]) for i in range(0, len(counts) - 1, 2)]
    head = lines[:7]
    head[3] = " 8 "
    (out / "aw4_2min.AWD").write_bytes(("\r\n".join(head + [str(c) for c in two]) + "\r\n").encode("latin-1"))
    t = (src_dir / "test_sample_awt.AWD").read_text(encoding="latin-1").splitlines()
    t[5] = "X4460210140"  # no device letter: the 15-45 degC values decide
    (out / "awt_noserial.AWD").write_bytes(("\r\n".join(t) + "\r\n").encode("latin-1"))
    lines = (src_dir / "test_sample_awl.AWD").read_text(encoding="latin-1").splitlines()
    rows = [re.sub(r"^(\d+) , (\d+)", lambda m: f"{m.group(1)} , {float(m.group(2)):.2E}", x) for x in lines[7:]]
    (out / "awl_light_enotation.AWD").write_bytes(("\r\n".join(lines[:7] + rows) + "\r\n").encode("latin-1"))


def acttrust(src: Path, out: Path):
    lines = src.read_text().splitlines()
    end = next(i for i in range(1, len(lines)) if lines[i].startswith("+---"))
    head = lines[end + 1].split(";")
    rename = {"TEMPERATURE": "INT TEMPERATURE", "EXT TEMPERATURE": "EXT TEMP", "LIGHT": "LUX"}
    order = [head.index(c) for c in ("DATE/TIME", "MS", "PIM", "TAT", "ZCM", "TEMPERATURE", "EXT TEMPERATURE",
                                     "LIGHT", "EVENT", "STATE")]
    new_head = [rename.get(head[k], head[k]) for k in order] + ["CAP SENSOR 1", "CAP SENSOR 2"]
    rows = []
    for ln in lines[end + 2:]:
        c = ln.split(";")
        rows.append(";".join([c[k].replace(".", ",") for k in order] + ["0", "0"]))
    meta = [ln.replace("SOFTWARE_VERSION : 1.0.13", "SOFTWARE_VERSION : 2.2.0").replace("ActTrust1", "ActTrust2")
            for ln in lines[:end + 1]]
    (out / "acttrust2.txt").write_text("\r\n".join(meta + [";".join(new_head)] + rows) + "\r\n")


def agd(src: Path, out: Path):
    dst = out / "agd_60s.agd"
    with sqlite3.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    con = sqlite3.connect(dst)
    rows = con.execute("SELECT dataTimestamp, axis1, axis2, axis3, steps, inclineOff, inclineStanding, "
                       "inclineSitting, inclineLying FROM data ORDER BY dataTimestamp").fetchall()
    minute = 600_000_000
    agg = {}
    for r in rows:
        k = r[0] // minute * minute
        agg.setdefault(k, [0.0] * 8)
        agg[k] = [x + y for x, y in zip(agg[k], r[1:])]
    con.execute("DROP TABLE data")
    con.execute("CREATE TABLE data (dataTimestamp INTEGER, axis1 REAL, axis2 REAL, axis3 REAL, steps REAL, "
                "inclineOff REAL, inclineStanding REAL, inclineSitting REAL, inclineLying REAL)")
    con.executemany("INSERT INTO data VALUES (?,?,?,?,?,?,?,?,?)", [(k, *v) for k, v in sorted(agg.items())])
    con.execute("UPDATE settings SET settingValue='60' WHERE settingName='epochlength'")
    con.commit()
    con.close()


def motionwatch(src: Path, out: Path):
    text = src.read_bytes().decode("utf-8-sig")
    text = re.sub(r"<Signature .*?</Signature>", "", text, flags=re.S)

    def sum6(m, how):
        vals = [float(v) for v in m.group(2).replace("\n", "").replace("\r", "").split(",") if v.strip()]
        out_v = [sum(vals[i:i + 6]) if how == "sum" else sum(vals[i:i + 6]) / len(vals[i:i + 6])
                 for i in range(0, len(vals), 6)]
        return m.group(1) + ",".join(f"{v:g}" for v in out_v) + "</data>"

    text = re.sub(r"(<name>motion</name>.*?<data encoding=\"text\">)(.*?)</data>", lambda m: sum6(m, "sum"), text, flags=re.S)
    text = re.sub(r"(<name>Light</name>.*?<data encoding=\"text\">)(.*?)</data>", lambda m: sum6(m, "mean"), text, flags=re.S)
    text = text.replace("<epoch>5</epoch>", "<epoch>30</epoch>")
    (out / "mw_30s.mtn").write_text(text, encoding="utf-8")


def tempatilumi(src: Path, out: Path):
    lines = src.read_text(encoding="utf-8").splitlines()
    res = []
    for ln in lines:
        if ln.startswith("Data; Hora"):
            ln = "Date; Time; Event; Light; Activity"
        res.append("\t".join(c.strip() for c in ln.split(";")) if ";" in ln else ln)
    (out / "tal_tab.txt").write_text("\r\n".join(res) + "\r\n", encoding="utf-8")
    res = []  # Portuguese, tab separated, dd/mm/yyyy, a temperature column (a constant this copy adds) first
    for ln in lines:
        if ln.startswith("Data; Hora"):
            ln = "Data; Hora; Evento; Temperatura; Luminosidade; Atividade"
        elif re.match(r"\d{4}/\d+/\d+;", ln):
            c = [x.strip() for x in ln.split(";")]
            y, m, d = c[0].split("/")
            ln = f"{int(d):02d}/{int(m):02d}/{y}; {c[1]}; {c[2]}; 33,50; {c[3]}; {c[4]}"
        res.append("\t".join(c.strip() for c in ln.split(";")) if ";" in ln else ln)
    (out / "tal_pt.txt").write_text("\r\n".join(res) + "\r\n", encoding="utf-8")


def daqtometer(src: Path, out: Path):
    res = []
    for ln in src.read_text().splitlines():
        c = ln.split(",")
        res.append(",".join([c[0], c[2], c[1]]) if len(c) == 3 else ln)
    (out / "dqt_swapped.csv").write_text("\r\n".join(res) + "\r\n")


def biobank(src: Path, out: Path):
    with gzip.open(src, "rt") as f:
        lines = f.read().splitlines()
    res = [lines[0] + ",imputed"]
    for ln in lines[1:]:
        t, rest = ln.split(",", 1)
        t = re.sub(r"([+-]\d{2})(\d{2}) \[[^\]]*\]", r"\1:\2", t)
        res.append(f"{t},{rest},0")
    with gzip.open(out / "other-timeSeries.csv.gz", "wt") as f:
        f.write("\n".join(res) + "\n")


def main(src, dst):
    src, dst = Path(src), Path(dst)
    if dst.exists():
        shutil.rmtree(dst)
    for sub in ("actiware", "actiwatch", "acttrust", "actigraph", "motionwatch", "tempatilumi", "daqtometer", "biobank"):
        (dst / sub).mkdir(parents=True)
    actiware(src / "actiware" / "test_sample_rpx_eng.csv", dst / "actiware")
    awd(src / "actiwatch", dst / "actiwatch")
    acttrust(src / "acttrust" / "test_sample_atr.txt", dst / "acttrust")
    agd(src / "actigraph" / "test_sample.agd", dst / "actigraph")
    motionwatch(src / "motionwatch" / "test_sample.mtn", dst / "motionwatch")
    tempatilumi(src / "tempatilumi" / "test_sample_tal.txt", dst / "tempatilumi")
    daqtometer(src / "daqtometer" / "test_sample_dqt.csv", dst / "daqtometer")
    biobank(src / "biobank" / "sample-timeSeries.csv.gz", dst / "biobank")
    print(f"{sum(1 for p in dst.rglob('*') if p.is_file())} variant exports written to {dst}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
