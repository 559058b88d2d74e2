#!/usr/bin/env python3
"""End-to-end tests of `hospital-locator batch` and `hospital-locator map`: real files, real GDAL.

Each group is one ctest test (see CMakeLists.txt):

    batch_test.py --cli CLI --tiny-index TINY --gb-index GB --work DIR GROUP

Expected values are exact. On the tiny index (tests/data/tiny) CH4 7QP is the Chester site's
own postcode, so Chester is first at 0.0 m; CM15 8 is a sector (approximate); BT1 1AA is in
Northern Ireland (not_covered); AB10 1AB is well formed but its district is not in the data
(not_found). Where a value comes from the engine, the oracle is `hospital-locator nearest
--format csv` for the same query: batch rows must equal it.
"""
import argparse
import base64
import csv
import html.parser
import io
import json
import os
import random
import resource
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
csv.field_size_limit(sys.maxsize)  # the hostile file has a 1 MiB field

ARGS = None
FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def equal(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def work(name):
    path = os.path.join(ARGS.work, name)
    return path


def write_bytes(name, data):
    path = work(name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def run(*args, index=None, stdin=None, input_bytes=None, check_rc=None, **kw):
    cmd = [ARGS.cli, "--index", index or ARGS.tiny_index, *args]
    p = subprocess.run(cmd, input=input_bytes, stdin=stdin, capture_output=True, **kw)
    if check_rc is not None and p.returncode != check_rc:
        FAILURES.append(f"{' '.join(cmd)}: exit {p.returncode}, expected {check_rc}; stderr: {p.stderr.decode(errors='replace')}")
        print("FAIL:", FAILURES[-1], file=sys.stderr)
    return p


def batch(in_path, out_path, *extra, index=None, rc=0, treatment="kyphoplasty", **kw):
    args = ["batch", "--in", in_path, "--out", out_path, "--force"]
    if treatment:
        args += ["--treatment", treatment]
    return run(*args, *extra, index=index, check_rc=rc, **kw)


def read_csv(path):
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def error_of(p):
    """The DESIGN.md error object a failed run printed on stderr."""
    for line in p.stderr.decode(errors="replace").splitlines():
        if line.startswith("{"):
            return json.loads(line)["error"]
    return {"code": None, "message": p.stderr.decode(errors="replace")}


# ---- CSV dialects ---------------------------------------------------------------------------

def group_csv():
    cases = {
        # name: (file bytes, extra args, expected input columns, expected [(echoed cells..., status, site_1_id)])
        "header, postcode second, quoted comma": (
            b'name,Postcode\n"Smith, J",CH4 7QP\n"Jones ""JJ""",CM15 8EH\n', [],
            ["name", "Postcode"], [("Smith, J", "CH4 7QP", "ok", "chester"), ('Jones "JJ"', "CM15 8EH", "ok", "brentwood")]),
        "no header": (
            b"CH4 7QP\ncm158eh\n", [], ["column_1"],
            [("CH4 7QP", "ok", "chester"), ("cm158eh", "ok", "brentwood")]),
        "no header, two columns, postcode second": (
            b"17,CH4 7QP\n18,CM15 8EH\n", [], ["column_1", "column_2"],
            [("17", "CH4 7QP", "ok", "chester"), ("18", "CM15 8EH", "ok", "brentwood")]),
        "BOM and CRLF": (
            b"\xef\xbb\xbfid,postcode\r\n1,CH4 7QP\r\n2,CM15 8EH\r\n", [], ["id", "postcode"],
            [("1", "CH4 7QP", "ok", "chester"), ("2", "CM15 8EH", "ok", "brentwood")]),
        "quoted line break, blank lines skipped": (
            b'note,pcd\n\n"line one\nline two",CH4 7QP\n\r\n\n,CM15 8EH\n\n', [], ["note", "pcd"],
            [("line one\nline two", "CH4 7QP", "ok", "chester"), ("", "CM15 8EH", "ok", "brentwood")]),
        "post_code in any case": (
            b"POST_CODE,x\nCH4 7QP,a\n", [], ["POST_CODE", "x"], [("CH4 7QP", "a", "ok", "chester")]),
        "column given by name": (
            b"home,work\nCM15 8EH,CH4 7QP\n", ["--postcode-column", "WORK"], ["home", "work"],
            [("CM15 8EH", "CH4 7QP", "ok", "chester")]),
        "column given by position": (
            b"home,work\nCM15 8EH,CH4 7QP\n", ["--postcode-column", "2"], ["home", "work"],
            [("CM15 8EH", "CH4 7QP", "ok", "chester")]),
        "short row padded, no final newline": (
            b"postcode,extra\nCH4 7QP", [], ["postcode", "extra"], [("CH4 7QP", "", "ok", "chester")]),
        "a column called status is renamed": (
            b"status,postcode\nnew,CH4 7QP\n", [], ["input_status", "postcode"], [("new", "CH4 7QP", "ok", "chester")]),
    }
    for i, (name, (data, extra, columns, expected)) in enumerate(cases.items()):
        src = write_bytes(f"dialect{i}.csv", data)
        out = work(f"dialect{i}.out.csv")
        batch(src, out, "--k", "2", *extra)
        header, rows = read_csv(out)
        equal(header[: len(columns)], columns, f"{name}: input columns")
        equal(header[len(columns):len(columns) + 4], ["status", "match", "lat", "lon"], f"{name}: result columns")
        equal(header[-2:], ["error_code", "error_message"], f"{name}: error columns")
        got = [tuple(list(r.values())[: len(columns)]) + (r["status"], r["site_1_id"]) for r in rows]
        equal(got, expected, name)
    # Chester's own postcode: Chester first, at 0 m.
    _, rows = read_csv(work("dialect0.out.csv"))
    equal((rows[0]["site_1_metres"], rows[0]["site_1_miles"], rows[0]["match"]), ("0.0", "0.000", "unit"), "CH4 7QP distance")

    # A quote that is never closed would swallow every later row: refused, naming its line.
    src = write_bytes("unclosed.csv", b'name,postcode\nA,CH4 7QP\n"B,CM15 8EH\nC,CH4 7QP\nD,CM15 8EH\n')
    out = work("unclosed.out.csv")
    if os.path.exists(out):
        os.remove(out)
    for ext in ("csv", "jsonl", "gpkg"):
        p = batch(src, work(f"unclosed.out.{ext}"), rc=2)
        equal(error_of(p)["code"], "bad_input", f"unclosed quote ({ext}): code")
        check("quoted field that begins on line 3 is never closed" in error_of(p)["message"],
              f"unclosed quote ({ext}): names line 3: {error_of(p)['message']}")
        check(not os.path.exists(work(f"unclosed.out.{ext}")), f"unclosed quote ({ext}): no output file")
    check(not [n for n in os.listdir(work("")) if ".tmp-" in n], "unclosed quote: no temporary file left")
    # Rows before it were already answered: the refusal still leaves nothing, whatever its place.
    body = b"postcode\n" + b"CH4 7QP\n" * 50000 + b'"CM15 8EH\n'
    p = batch(write_bytes("unclosed-late.csv", body), out, "--threads", "2", rc=2)
    check("begins on line 50002 is never closed" in error_of(p)["message"], f"late unclosed quote: {error_of(p)['message']}")
    check(not os.path.exists(out), "late unclosed quote: no output file")
    # A quote that is closed at the end of the file is not refused.
    batch(write_bytes("closed.csv", b'postcode,note\nCH4 7QP,"a\nb"'), out)
    equal([r["note"] for r in read_csv(out)[1]], ["a\nb"], "a quoted field closed at the end of the file")

    # Fields beyond the header's width: the row is invalid and says how many; its fields are
    # kept as far as the columns go. Empty ones (a trailing comma) hold nothing and are let go.
    src = write_bytes("wide.csv", b"id,postcode\n1,CH4 7QP\n2,CM15 8EH,x,y\n3,CH4 7QP,\n4,CM15 8EH,,\n")
    out = work("wide.out.csv")
    batch(src, out, "--k", "1")
    header, rows = read_csv(out)
    equal(len(rows), 4, "extra fields: records in = rows out")
    equal(header[:3], ["id", "postcode", "status"], "extra fields: no extra columns")
    equal([(r["id"], r["postcode"], r["status"], r["site_1_id"]) for r in rows],
          [("1", "CH4 7QP", "ok", "chester"), ("2", "CM15 8EH", "invalid", ""),
           ("3", "CH4 7QP", "ok", "chester"), ("4", "CM15 8EH", "ok", "brentwood")], "extra fields: rows")
    equal((rows[1]["error_code"], rows[1]["error_message"]),
          ("bad_input", "the row on line 3 has 4 fields, the header has 2; the fields beyond are not read"),
          "extra fields: the message")
    batch(write_bytes("wide-nohead.csv", b"1,CH4 7QP\n2,CM15 8EH,x\n"), out, "--k", "1")
    _, rows = read_csv(out)
    equal([(r["status"], r["error_message"]) for r in rows],
          [("ok", ""), ("invalid", "the row on line 2 has 3 fields, the first row has 2; the fields beyond are not read")],
          "extra fields, no header")

    # Semicolons and tabs (European Excel), by --delimiter or by line 1 when it can only mean that.
    expected = [("Smith; J", "CH4 7QP", "ok", "chester"), ("a,b", "CM15 8EH", "ok", "brentwood")]
    for what, sep, option in (("semicolon", b";", ";"), ("tab", b"\t", "tab")):
        data = b"name" + sep + b"postcode\r\n" + b'"Smith; J"' + sep + b"CH4 7QP\r\n" + b"a,b" + sep + b"CM15 8EH\r\n"
        src = write_bytes(f"{what}.csv", data)
        for extra in ((["--delimiter", option]), []):
            batch(src, out, "--k", "1", *extra)
            header, rows = read_csv(out)
            equal(header[:3], ["name", "postcode", "status"], f"{what} {extra or 'detected'}: columns")
            equal([(r["name"], r["postcode"], r["status"], r["site_1_id"]) for r in rows], expected,
                  f"{what} {extra or 'detected'}: rows")
    # No header, semicolons, a postcode on line 1: detected.
    batch(write_bytes("semi-nohead.csv", b"17;CH4 7QP\n18;CM15 8EH\n"), out, "--k", "1")
    _, rows = read_csv(out)
    equal([(r["column_1"], r["site_1_id"]) for r in rows], [("17", "chester"), ("18", "brentwood")], "semicolons, no header")
    # Line 1 has a comma: a comma it is, whatever else it holds.
    batch(write_bytes("comma-semi.csv", b"note;x,postcode\na;b,CH4 7QP\n"), out, "--k", "1")
    header, rows = read_csv(out)
    equal((header[0], rows[0]["note;x"], rows[0]["site_1_id"]), ("note;x", "a;b", "chester"), "commas win")
    # Semicolons but no postcode column after splitting: not guessed; the message says what to try.
    p = batch(write_bytes("semi-nocol.csv", b"name;town\nA;Chester\n"), work("semi-nocol.out.csv"), rc=2)
    check("give --delimiter ';'" in error_of(p)["message"], f"semicolons, no postcode column: {error_of(p)['message']}")
    # Both semicolons and tabs on line 1: ambiguous, not guessed.
    p = batch(write_bytes("semi-tab.csv", b"name;a\tpostcode\nA;b\tCH4 7QP\n"), work("semi-tab.out.csv"), rc=2)
    equal(error_of(p)["code"], "bad_input", "semicolons and tabs: not guessed")
    batch(work("semi-tab.csv"), out, "--delimiter", "tab", "--k", "1")
    equal([(r["name;a"], r["site_1_id"]) for r in read_csv(out)[1]], [("A;b", "chester")], "semicolons and tabs, --delimiter tab")
    # The output is always comma-separated.
    with open(out, "rb") as f:
        check(f.readline().startswith(b"name;a,postcode,status,"), "output: commas")
    batch(src, out, "--delimiter", "|", rc=1)  # a usage error

    # Standard input in, standard output out.
    p = run("batch", "--in", "-", "--out", "-", "--treatment", "kyphoplasty", "--k", "1",
            input_bytes=b"postcode\nCH4 7QP\n", check_rc=0)
    lines = p.stdout.decode().splitlines()
    equal(len(lines), 2, "stdin -> stdout: header and one row")
    equal(lines[1].split(",")[:6], ["CH4 7QP", "ok", "unit", "53.1787190", "-2.8992024", "chester"], "stdin -> stdout row")

    # A header naming no postcode column: the message lists the columns seen.
    src = write_bytes("nocolumn.csv", b"name,town\nA,Chester\n")
    p = batch(src, work("nocolumn.out.csv"), rc=2)
    err = error_of(p)
    equal(err["code"], "bad_input", "no postcode column: code")
    check('"name", "town"' in err["message"], f"no postcode column: message lists the columns: {err['message']}")
    check(not os.path.exists(work("nocolumn.out.csv")), "no postcode column: no output")
    p = batch(write_bytes("badcol.csv", b"a,b\nCH4 7QP,x\n"), work("badcol.out.csv"), "--postcode-column", "pc", rc=2)
    check('"a", "b"' in error_of(p)["message"], "--postcode-column that is not there lists the columns")


# ---- encodings -------------------------------------------------------------------------------

def group_encoding():
    # Excel's "CSV (Comma delimited)": Windows-1252, here with an e-acute (0xE9) on line 3 and a
    # Euro sign (0x80, which Latin-1 does not have) on line 2.
    data = "name,postcode\n\u20ac5 clinic,CM15 8EH\nCaf\u00e9,CH4 7QP\n".encode("cp1252")
    bad = data.index(b"\xe9")
    src = write_bytes("cp1252.csv", data)
    out = work("cp1252.out.csv")
    if os.path.exists(out):
        os.remove(out)
    # Not UTF-8 and no --encoding: refused before any output, naming where.
    p = batch(src, out, rc=2)
    err = error_of(p)
    equal(err["code"], "bad_input", "Windows-1252 without --encoding: code")
    first = data.index(b"\x80")
    check(f"line 2, byte offset {first} (byte 0x80)" in err["message"],
          f"Windows-1252 without --encoding: names line and byte: {err['message']}")
    check("--encoding windows-1252" in err["message"], "Windows-1252 without --encoding: suggests the option")
    check(not os.path.exists(out) and not [n for n in os.listdir(work("")) if ".tmp-" in n],
          "Windows-1252 without --encoding: nothing written")
    # With it, the names come out as UTF-8.
    batch(src, out, "--encoding", "windows-1252", "--k", "1")
    header, rows = read_csv(out)
    equal([(r["name"], r["site_1_id"]) for r in rows], [("\u20ac5 clinic", "brentwood"), ("Caf\u00e9", "chester")],
          "--encoding windows-1252: decoded to UTF-8")
    # Latin-1 reads every byte; 0x80 is a C1 control there.
    batch(src, out, "--encoding", "LATIN-1", "--k", "1")
    _, rows = read_csv(out)
    equal([r["name"] for r in rows], ["\x805 clinic", "Caf\u00e9"], "--encoding latin-1")
    # A byte Windows-1252 does not define is refused, not guessed.
    data = b"postcode,name\nCH4 7QP,a\x81b\n"
    p = batch(write_bytes("undefined1252.csv", data), work("u.csv"), "--encoding", "windows-1252", rc=2)
    at = data.index(b"\x81")
    check(f"line 2, byte offset {at} (byte 0x81)" in error_of(p)["message"], f"0x81 in Windows-1252: {error_of(p)['message']}")
    # UTF-8, with or without a byte order mark, is the default; the offset counts the file's bytes.
    for name, data in (("bom", b"\xef\xbb\xbfname,postcode\nCaf\xc3\xa9,CH4 7QP\n"),
                       ("plain", b"name,postcode\nCaf\xc3\xa9,CH4 7QP\n")):
        batch(write_bytes(f"utf8-{name}.csv", data), out, "--k", "1")
        _, rows = read_csv(out)
        equal([r["name"] for r in rows], ["Caf\u00e9"], f"UTF-8 ({name}) read by default")
        batch(work(f"utf8-{name}.csv"), out, "--k", "1", "--encoding", "utf-8")
    # What a UTF-8 check must refuse: overlong forms, surrogates, beyond U+10FFFF, a cut character.
    for what, tail in (("overlong", b"\xc0\xaf"), ("surrogate", b"\xed\xa0\x80"),
                       ("beyond U+10FFFF", b"\xf4\x90\x80\x80"), ("cut at the end", b"\xe2\x82")):
        data = b"\xef\xbb\xbfpostcode\nCH4 7QP\nCM15 8EH" + tail
        p = batch(write_bytes("badutf8.csv", data), work("b.csv"), rc=2)
        check(f"line 3, byte offset {len(data) - len(tail)} " in error_of(p)["message"],
              f"UTF-8 {what}: {error_of(p)['message']}")
    # A record over 1 MiB is cut before a character, never inside one: the output stays UTF-8.
    src = write_bytes("long-utf8.csv", b"postcode,name\nCH4 7QP," + "\u00e9".encode() * (1 << 20) + b"\nCM15 8EH,x\n")
    batch(src, out, "--k", "1")
    with open(out, "rb") as f:
        text = f.read().decode("utf-8")  # raises if a character was cut
    rows = list(csv.DictReader(io.StringIO(text)))
    equal([(r["status"], r["error_code"]) for r in rows], [("invalid", "bad_input"), ("ok", "")], "long UTF-8 row: statuses")
    equal(rows[0]["name"], "\u00e9" * (((1 << 20) - 7 + 1) // 2), "long UTF-8 row: cut after a whole character")
    # Characters cut by the reader's 64 KiB blocks are joined again (UTF-8 and Windows-1252).
    name = "\u20ac\u00e9" * 40000
    for encoding in ("utf-8", "windows-1252"):
        batch(write_bytes("blocks.csv", ("postcode,name\nCH4 7QP," + name + "\n").encode(encoding.replace("windows-", "cp"))),
              out, "--k", "1", "--encoding", encoding)
        _, rows = read_csv(out)
        equal([(r["status"], r["name"] == name) for r in rows], [("ok", True)], f"characters across blocks ({encoding})")
    # Past the first block the line and offset still count from the start of the file.
    data = b"postcode\n" + b"CH4 7QP\n" * 20000 + b"CM15 8EH \xff\n"
    p = batch(write_bytes("late-bad.csv", data), work("late-bad.out.csv"), rc=2)
    check(f"line 20002, byte offset {len(data) - 2} (byte 0xFF)" in error_of(p)["message"], f"late bad byte: {error_of(p)['message']}")
    check(not os.path.exists(work("late-bad.out.csv")), "late bad byte: nothing written")
    # ASCII, a good character, ASCII again, then a bad byte: the ASCII runs that skip the
    # decoder count their lines and bytes too.
    data = b"postcode,name\nCH4 7QP,Caf\xc3\xa9\nCM15 8EH,ok\nCH4 7QP,x\xc3\n"
    p = batch(write_bytes("mixed-bad.csv", data), work("mixed-bad.out.csv"), rc=2)
    check(f"line 4, byte offset {len(data) - 2} (byte 0xC3)" in error_of(p)["message"], f"mixed bad byte: {error_of(p)['message']}")
    # A header with no postcode column, in Windows-1252: a message, not a crash.
    p = batch(write_bytes("nocol1252.csv", "Caf\u00e9,town\nA,B\n".encode("cp1252")), work("n.csv"), rc=2)
    equal(error_of(p)["code"], "bad_input", "Windows-1252 header, no postcode column, no --encoding")
    p = batch(work("nocol1252.csv"), work("n.csv"), "--encoding", "windows-1252", rc=2)
    check('"Caf\u00e9", "town"' in error_of(p)["message"], f"the columns are named in UTF-8: {error_of(p)['message']}")
    # An argument that is not UTF-8 goes through the UTF-8-replacing error writer.
    p = batch(work("utf8-plain.csv"), work("n.csv"), "--postcode-column", os.fsdecode(b"Caf\xe9"), rc=2)
    check("Caf\ufffd" in error_of(p)["message"], f"a non-UTF-8 argument is replaced: {error_of(p)['message']}")
    # --encoding is for CSV: GDAL decodes its own formats.
    p = batch(write_bytes("e.geojson", b'{"type":"FeatureCollection","features":[]}'), work("e.csv"),
              "--encoding", "latin-1", rc=2)
    equal(error_of(p)["code"], "invalid_parameter", "--encoding with a GeoJSON input")


# ---- statuses -------------------------------------------------------------------------------

STATUS_ROWS = [
    # postcode, status, match, error_code, site_1_id, site_1_metres
    ("CH4 7QP", "ok", "unit", "", "chester", "0.0"),
    ("CM15 8", "approximate", "sector", "", "brentwood", None),
    ("CH4 7ZZ", "approximate", "sector", "", "chester", None),
    ("BT1 1AA", "not_covered", "", "not_covered", "", ""),
    ("XYZ", "invalid", "", "invalid_postcode", "", ""),
    ("", "invalid", "", "invalid_postcode", "", ""),
    ("AB10 1AB", "not_found", "", "postcode_not_found", "", ""),
    ("GIR 0AA", "not_found", "", "non_geographic_postcode", "", ""),
    ("CH1 1ZZ", "approximate", "sector", "", "chester", None),  # quality 90: no coordinates of its own
    ("cm15 8eh", "ok", "unit", "", "brentwood", "0.0"),
]


def status_file():
    body = "id,postcode\n" + "".join(f"{i},{pc}\n" for i, (pc, *_) in enumerate(STATUS_ROWS, 1))
    return write_bytes("statuses.csv", body.encode())


def nearest_csv(query_args, k=3, index=None):
    """The oracle: `hospital-locator nearest --format csv` for one query (header, row)."""
    p = run("nearest", *query_args, "--k", str(k), "--treatment", "kyphoplasty", "--format", "csv", index=index, check_rc=0)
    lines = list(csv.reader(io.StringIO(p.stdout.decode())))
    return lines[1] if len(lines) > 1 else None


def group_statuses():
    src = status_file()
    out = work("statuses.out.csv")
    batch(src, out)
    header, rows = read_csv(out)
    equal([r["id"] for r in rows], [str(i) for i in range(1, len(STATUS_ROWS) + 1)], "one row per input row, in order")
    for r, (pc, status, match, code, site, metres) in zip(rows, STATUS_ROWS):
        equal((r["status"], r["match"], r["error_code"], r["site_1_id"]), (status, match, code, site), f"row {pc!r}")
        if metres is not None:
            equal(r["site_1_metres"], metres, f"row {pc!r} metres")
        check((r["error_message"] != "") == (code != ""), f"row {pc!r}: a message exactly when there is an error code")
        if status in ("ok", "approximate"):
            # Exactly the engine's answer: the same cells as `nearest --format csv`.
            oracle = nearest_csv([pc])
            equal(list(r.values())[2:2 + len(oracle)], oracle, f"row {pc!r} equals nearest --format csv")
    # --max-miles leaves out farther sites; the row stays, its empty slots stay empty.
    out = work("maxmiles.out.csv")
    batch(src, out, "--max-miles", "1", "--k", "2")
    _, rows = read_csv(out)
    equal((rows[0]["site_1_id"], rows[0]["site_2_id"]), ("chester", ""), "--max-miles 1 from CH4 7QP")
    equal(len(rows), len(STATUS_ROWS), "--max-miles keeps every row")
    # A treatment is required when the index has several; an unknown one is named.
    equal(error_of(batch(src, work("t.csv"), treatment=None, rc=2))["code"], "invalid_parameter", "several treatments")
    equal(error_of(batch(src, work("t.csv"), treatment="knee", rc=2))["code"], "unknown_treatment", "unknown treatment")
    _, rows = read_csv(work("statuses.out.csv"))
    # The second treatment has its own sites: Chester offers spinal injections too.
    out = work("spinal.out.csv")
    batch(src, out, "--k", "1", treatment="spinal-injection")
    _, rows = read_csv(out)
    equal(rows[0]["site_1_id"], "chester", "spinal-injection from CH4 7QP")


# ---- GDAL in and out -----------------------------------------------------------------------

def group_ogr():
    # Chester's position as the index has it (WGS84), from the oracle.
    chester = nearest_csv(["CH4 7QP"], k=1)
    lat, lon = float(chester[2]), float(chester[3])
    points = [(lat, lon), (51.5, -0.1), None, (53.5, -2.2)]

    # A GeoPackage point layer, queried by geometry (match: point).
    gpkg_in = work("points.gpkg")
    if os.path.exists(gpkg_in):
        os.remove(gpkg_in)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(gpkg_in)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    layer = ds.CreateLayer("patients", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("ref", ogr.OFTString))
    for i, p in enumerate(points):
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetField("ref", f"P{i + 1}")
        if p:
            g = ogr.Geometry(ogr.wkbPoint)
            g.AddPoint_2D(p[1], p[0])
            f.SetGeometry(g)
        layer.CreateFeature(f)
    ds = None

    out = work("points.out.csv")
    batch(gpkg_in, out, "--k", "3")
    _, rows = read_csv(out)
    equal([r["ref"] for r in rows], ["P1", "P2", "P3", "P4"], "GeoPackage points: one row each, in order")
    equal([r["status"] for r in rows], ["ok", "ok", "invalid", "ok"], "GeoPackage points: statuses")
    equal(rows[2]["error_code"], "invalid_parameter", "a feature without geometry")
    for r, p in zip(rows, points):
        if p:
            equal(r["match"], "point", "point rows match: point")
            oracle = nearest_csv(["--lat", repr(p[0]), "--lon", repr(p[1])])
            equal(list(r.values())[1:1 + len(oracle)], oracle, f"point {p} equals nearest --lat/--lon")

    # A CSV with lat and lon columns is queried by its points, as `nearest --lat --lon` is.
    csv_points = [(lat, lon), (51.5, -0.1), (53.5, -2.2), (52.0, -1.0)]
    for what, head, extra in (("lat,lon", "ref,Latitude,LNG", []), ("--lat-column", "ref,y,x", ["--lat-column", "Y", "--lon-column", "3"]),
                              ("semicolons", "ref;lat;long", [])):
        sep = ";" if ";" in head else ","
        body = head + "\n" + "".join(f"P{i}{sep}{p[0]!r}{sep}{p[1]!r}\n" for i, p in enumerate(csv_points, 1))
        out = work("csvpoints.out.csv")
        batch(write_bytes("csvpoints.csv", body.encode()), out, "--k", "3", *extra)
        _, rows = read_csv(out)
        equal([r["ref"] for r in rows], ["P1", "P2", "P3", "P4"], f"CSV points ({what}): one row each, in order")
        for r, p in zip(rows, csv_points):
            equal(r["match"], "point", f"CSV points ({what}): match point")
            oracle = nearest_csv(["--lat", repr(p[0]), "--lon", repr(p[1])])
            equal(list(r.values())[3:3 + len(oracle)], oracle, f"CSV point {p} ({what}) equals nearest --lat/--lon")
    # Cells that are not numbers: the row is invalid with the contract's message, the CLI's too.
    cells = [("53.2", "abc"), ("", "-2.9"), ("53,2", "-2.9"), (" 53.2", "-2.9"), ("95", "-2.9")]
    body = "id,lat,lon\n" + "".join(f'{i},"{a}","{b}"\n' for i, (a, b) in enumerate(cells, 1))
    batch(write_bytes("badpoints.csv", body.encode()), out, "--k", "1")
    _, rows = read_csv(out)
    equal(len(rows), len(cells), "bad lat/lon cells: one row each")
    for r, (a, b) in zip(rows, cells):
        cli = error_of(run("nearest", "--lat", a, "--lon", b, "--treatment", "kyphoplasty", check_rc=2))
        equal((r["status"], r["error_code"], r["error_message"]), ("invalid", cli["code"], cli["message"]),
              f"bad cells ({a!r}, {b!r}): the CLI's error")
    # A postcode column and lat/lon columns: the postcode wins, unless --use-geometry.
    src = write_bytes("both.csv", f"postcode,lat,lon\nCM15 8EH,{lat!r},{lon!r}\n".encode())
    batch(src, out, "--k", "1")
    _, rows = read_csv(out)
    equal((rows[0]["match"], rows[0]["site_1_id"]), ("unit", "brentwood"), "postcode and lat/lon: the postcode")
    batch(src, out, "--k", "1", "--use-geometry")
    _, rows = read_csv(out)
    equal((rows[0]["match"], rows[0]["site_1_id"]), ("point", "chester"), "postcode and lat/lon, --use-geometry: the point")
    p = batch(write_bytes("nopoints.csv", b"postcode\nCH4 7QP\n"), work("np.csv"), "--use-geometry", rc=2)
    check("no lat and lon columns" in error_of(p)["message"], f"--use-geometry without lat/lon: {error_of(p)['message']}")
    p = batch(src, work("np.csv"), "--lat-column", "lat", rc=2)
    equal(error_of(p)["code"], "invalid_parameter", "--lat-column without --lon-column")

    # GeoJSON in with a postcode property; GeoPackage and GeoJSON out, read back with GDAL.
    geojson_in = write_bytes("in.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"postcode": pc, "n": i}, "geometry": None}
        for i, (pc, *_) in enumerate(STATUS_ROWS, 1)]}).encode())
    for ext, driver in (("gpkg", "GPKG"), ("geojson", "GeoJSON")):
        out = work(f"statuses.out.{ext}")
        batch(geojson_in, out)
        ds = gdal.OpenEx(out, gdal.OF_VECTOR)
        equal(ds.GetDriver().ShortName, driver, f"{ext}: driver")
        layer = ds.GetLayer(0)
        feats = list(layer)
        equal(len(feats), len(STATUS_ROWS), f"{ext}: one feature per row")
        # Input attributes travel as text, whatever their type in the input.
        equal([f.GetField("n") for f in feats], [str(i) for i in range(1, len(STATUS_ROWS) + 1)], f"{ext}: rows in order")
        for f, (pc, status, match, code, site, metres) in zip(feats, STATUS_ROWS):
            equal((f.GetField("status"), f.GetField("site_1_id") or "", f.GetField("error_code") or ""),
                  (status, site, code), f"{ext}: {pc!r}")
            g = f.GetGeometryRef()
            if status in ("ok", "approximate"):
                check(g is not None and g.GetY() == f.GetField("lat") and g.GetX() == f.GetField("lon"),
                      f"{ext}: {pc!r} is a point at its lat/lon")
                defn = layer.GetLayerDefn()
                equal(defn.GetFieldDefn(defn.GetFieldIndex("site_1_metres")).GetType(), ogr.OFTReal, f"{ext}: metres are reals")
                if metres is not None:
                    equal(f.GetField("site_1_metres"), float(metres), f"{ext}: {pc!r} metres")
            else:
                check(g is None, f"{ext}: {pc!r} has no geometry")
        equal(layer.GetSpatialRef().GetAuthorityCode(None), "4326", f"{ext}: WGS84")
        feats = layer = ds = None  # the dataset must outlive its layer and features

    # JSON Lines: the DESIGN.md answer per row, plus the input row.
    out = work("statuses.out.jsonl")
    batch(status_file(), out)
    lines = [json.loads(l) for l in open(out, encoding="utf-8")]
    equal(len(lines), len(STATUS_ROWS), "jsonl: one line per row")
    equal(lines[0]["input"], {"id": "1", "postcode": "CH4 7QP"}, "jsonl: the input row")
    equal((lines[0]["status"], lines[0]["query"]["match"], lines[0]["results"][0]["site"]["id"],
           lines[0]["results"][0]["distance"]["metres"]), ("ok", "unit", "chester", 0.0), "jsonl: CH4 7QP")
    oracle_error = error_of(run("nearest", "BT1 1AA", "--treatment", "kyphoplasty", "--format", "json", check_rc=2))
    equal((lines[3]["status"], lines[3]["error"]), ("not_covered", oracle_error), "jsonl: BT1 1AA, the CLI's error object")
    oracle = json.loads(run("nearest", "CH4 7QP", "--treatment", "kyphoplasty", "--format", "json", check_rc=0).stdout)
    got = {k: v for k, v in lines[0].items() if k not in ("row", "input", "status")}
    equal(got, oracle, "jsonl: the answer is nearest --format json's")


# ---- hostile input ---------------------------------------------------------------------------

def group_hostile():
    rnd = random.Random(4)
    junk_bytes = bytes(b for b in range(256) if b not in b'\n\r",')
    expected = []  # (id, status)
    lines = [b"id,postcode"]
    for i in range(1, 301):
        kind = i % 6
        if kind == 0:
            pc, status = b"CH4 7QP", "ok"
        elif kind == 1:
            pc, status = bytes(rnd.choice(junk_bytes) for _ in range(rnd.randint(1, 80))), "invalid"
        elif kind == 2:
            pc, status = b"\xff\xfe\xc3\x28 CH4 \x00 7QP", "invalid"
        elif kind == 3:
            pc, status = b"CM15 8EH", "ok"
        elif kind == 4:
            pc, status = bytes(rnd.choice(junk_bytes) for _ in range(rnd.randint(1000, 5000))), "invalid"
        else:
            pc, status = b"'; DROP TABLE sites; --", "invalid"
        lines.append(str(i).encode() + b"," + pc)
        expected.append((str(i), status))
    # A line of 2 MiB: cut short at 1 MiB, still one row, marked bad_input.
    lines.append(b"301," + b"A" * (2 << 20))
    expected.append(("301", "invalid"))
    lines.append(b"302,TS20 1PX")
    expected.append(("302", "ok"))
    src = write_bytes("hostile.csv", b"\n".join(lines) + b"\n")

    # Not UTF-8: refused by default, naming the first bad byte.
    out = work("hostile.out.csv")
    if os.path.exists(out):
        os.remove(out)
    p = batch(src, out, "--k", "1", rc=2)
    check("is not valid UTF-8: line " in error_of(p)["message"], f"hostile: refused: {error_of(p)}")
    check(not os.path.exists(out), "hostile: refused without --encoding, nothing written")
    # Latin-1 gives every byte a character: every record is a row.
    batch(src, out, "--k", "1", "--encoding", "latin-1")
    _, rows = read_csv(out)
    equal(len(rows), len(expected), "hostile: one row per record")
    equal([(r["id"], r["status"]) for r in rows], expected, "hostile: ids and statuses in order")
    equal(rows[300]["error_code"], "bad_input", "hostile: the 2 MiB line is bad_input")
    # The first MiB of the record is kept: "301" (3 bytes) and 1 MiB - 3 of the A's.
    equal(rows[300]["postcode"], "A" * ((1 << 20) - 3), "hostile: the long line is cut at 1 MiB")
    equal(rows[301]["site_1_id"], "tees", "hostile: a good row after the long line")
    # Junk is echoed as Latin-1 decoded it, in UTF-8.
    raw_in = dict(l.split(b",", 1) for l in lines[1:6])
    equal(rows[2]["postcode"], raw_in[b"3"].decode("latin-1"), "hostile: bytes echoed as Latin-1 text")

    # JSON Lines stays valid UTF-8 JSON.
    out = work("hostile.out.jsonl")
    batch(src, out, "--k", "1", "--encoding", "latin-1")
    with open(out, "rb") as f:
        data = f.read()
    data.decode("utf-8")  # raises if invalid
    objs = [json.loads(l) for l in data.splitlines()]
    equal([(o["input"]["id"], o["status"]) for o in objs], expected, "hostile jsonl: ids and statuses in order")

    # GeoPackage: every row a feature, in order.
    out = work("hostile.out.gpkg")
    batch(src, out, "--k", "1", "--encoding", "latin-1")
    ds = gdal.OpenEx(out, gdal.OF_VECTOR)
    feats = [(f.GetField("id"), f.GetField("status")) for f in ds.GetLayer(0)]
    equal(feats, expected, "hostile gpkg: ids and statuses in order")


# ---- interruption, full disk -----------------------------------------------------------------

def leftovers(directory):
    return sorted(n for n in os.listdir(directory) if ".tmp-" in n)


def group_interrupt():
    d = work("interrupt")
    os.makedirs(d, exist_ok=True)
    for sig, ext in ((signal.SIGTERM, "csv"), (signal.SIGINT, "gpkg"), (signal.SIGTERM, "jsonl")):
        target = os.path.join(d, f"report.{ext}")
        if os.path.exists(target):
            os.remove(target)
        # Input from a pipe that stays open: the run is mid-way, by construction, when killed.
        p = subprocess.Popen([ARGS.cli, "--index", ARGS.tiny_index, "batch", "--in", "-", "--out", target,
                              "--treatment", "kyphoplasty", "--summary", os.path.join(d, "s.json"),
                              "--map", os.path.join(d, "m.svg"), "--force"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write(b"postcode\n" + b"CH4 7QP\n" * 40000)
        p.stdin.flush()
        deadline = time.time() + 60
        while not leftovers(d) and time.time() < deadline:
            time.sleep(0.05)
        check(bool(leftovers(d)), f"{ext}: a temporary file exists while running")
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        equal(p.returncode, 128 + sig, f"{ext}: exit status after {sig.name}")
        check(b"no output written" in err, f"{ext}: says why: {err!r}")
        check(not os.path.exists(target), f"{ext}: no output after {sig.name}")
        equal(leftovers(d), [], f"{ext}: no temporary file left after {sig.name}")
        check(not os.path.exists(os.path.join(d, "s.json")) and not os.path.exists(os.path.join(d, "m.svg")),
              f"{ext}: no summary or map either")

    # A disk that fills: file size limit hit mid-write (SIGXFSZ ignored, so write fails EFBIG).
    src = write_bytes("many.csv", b"postcode\n" + b"CH4 7QP\n" * 20000)
    target = os.path.join(d, "full.csv")

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    p = subprocess.run([ARGS.cli, "--index", ARGS.tiny_index, "batch", "--in", src, "--out", target,
                        "--treatment", "kyphoplasty", "--force"], capture_output=True, preexec_fn=limit)
    equal(p.returncode, 2, "full disk: exit 2")
    equal(error_of(p)["code"], "io_error", "full disk: io_error")
    check(not os.path.exists(target), "full disk: no output")
    equal(leftovers(d), [], "full disk: no temporary file left")


# ---- refused setups ---------------------------------------------------------------------------

def group_bad_input():
    src = status_file()
    p = batch(work("does-not-exist.csv"), work("x.csv"), rc=2)
    equal(error_of(p)["code"], "io_error", "missing input")
    check("does-not-exist.csv" in error_of(p)["message"], "missing input: named")
    p = batch(src, work("no-such-dir/x.csv"), rc=2)
    equal(error_of(p)["code"], "io_error", "output directory missing")
    check("does not exist" in error_of(p)["message"], "output directory missing: said")
    p = batch(src, src, rc=2)
    equal(error_of(p)["code"], "invalid_parameter", "output is the input")
    with open(src, "rb") as f:
        check(f.read().startswith(b"id,postcode\n1,CH4 7QP\n"), "output is the input: input untouched")
    # An existing output is kept without --force.
    existing = write_bytes("existing.csv", b"keep me\n")
    p = run("batch", "--in", src, "--out", existing, "--treatment", "kyphoplasty", check_rc=2)
    check("--force" in error_of(p)["message"], "existing output: says --force")
    with open(existing, "rb") as f:
        equal(f.read(), b"keep me\n", "existing output untouched")
    batch(src, existing)
    _, rows = read_csv(existing)
    equal(len(rows), len(STATUS_ROWS), "--force replaces it")
    # A file neither CSV nor a vector layer: the message names it.
    junk = write_bytes("junk.gpkg", b"\x00\x01not a geopackage" * 10)
    p = batch(junk, work("x.csv"), rc=2)
    equal(error_of(p)["code"], "bad_input", "unreadable layer: bad_input")
    check("junk.gpkg" in error_of(p)["message"], "unreadable layer: named")
    equal(error_of(batch(src, work("x.csv"), "--k", "0", rc=2))["code"], "invalid_parameter", "--k 0")
    equal(error_of(batch(src, work("x.txt2"), rc=2))["code"], "invalid_parameter", "unknown output extension")
    equal(error_of(batch(src, work("x.csv"), "--map", work("m.gif"), rc=2))["code"], "invalid_parameter", "map .gif")
    # Files that are not files: refused at once, saying what they are. A FIFO with no writer
    # used to block the open forever; 10 s bounds each run so a regression fails, not hangs.
    odd = work("not-files")
    subprocess.run(["rm", "-rf", odd], check=True)
    os.makedirs(odd)
    for name in ("fifo.csv", "fifo.gpkg"):
        os.mkfifo(os.path.join(odd, name))
    for name in ("dir", "dir.gpkg"):
        os.makedirs(os.path.join(odd, name))
    for name, what in [("fifo.csv", "a FIFO (named pipe)"), ("fifo.gpkg", "a FIFO (named pipe)"),
                       ("dir", "a directory"), ("dir.gpkg", "a directory")]:
        path = os.path.join(odd, name)
        try:
            p = batch(path, work("x.csv"), rc=2, timeout=10)
        except subprocess.TimeoutExpired:
            check(False, f"--in {name}: still running after 10 s")
            continue
        equal(error_of(p), {"code": "io_error", "status": 500,
                            "message": f"cannot read {path}: it is {what}, not a regular file"},
              f"--in {name}")
    try:
        p = batch("/dev/zero", work("x.csv"), rc=2, timeout=10)
        equal(error_of(p)["message"], "cannot read /dev/zero: it is a character device, not a "
              "regular file", "--in /dev/zero")
    except subprocess.TimeoutExpired:
        check(False, "--in /dev/zero: still reading after 10 s")
    # Standard input is a pipe by design, and stays allowed.
    p = batch("-", work("stdin.out.csv"), input_bytes=b"postcode\nCH4 7QP\n", timeout=60)
    _, rows = read_csv(work("stdin.out.csv"))
    equal([r["site_1_id"] for r in rows], ["chester"], "--in - reads standard input")
    subprocess.run(["rm", "-rf", odd], check=True)
    # The index is never an output, whatever --force says: batch used to rename its report over
    # the index it was reading. Named as given, through --format, or through a symbolic link.
    with open(ARGS.tiny_index, "rb") as f:
        tiny = f.read()
    index = write_bytes("index-copy.csv", tiny)
    links = {}
    for ext in ("jsonl", "md"):
        links[ext] = work(f"index-link.{ext}")
        if os.path.lexists(links[ext]):
            os.remove(links[ext])
        os.symlink(index, links[ext])
    for out, extra, target in [(index, [], index), (links["jsonl"], [], links["jsonl"]),
                               (work("x.csv"), ["--summary", links["md"]], links["md"])]:
        p = batch(src, out, *extra, index=index, rc=2)
        equal(error_of(p), {"code": "invalid_parameter", "status": 400,
                            "message": f"the output {target} is the index {index}; an index is "
                                       "never overwritten by batch, even with --force"},
              f"--out {os.path.basename(out)} {extra} over --index with --force")
        with open(index, "rb") as f:
            check(f.read() == tiny, f"--out {os.path.basename(out)} {extra}: the index is byte-identical")
    hlx = write_bytes("index-copy.hlx", tiny)
    p = batch(src, "index-copy.hlx", "--format", "csv", index="index-copy.hlx", rc=2, cwd=ARGS.work)
    equal(error_of(p)["code"], "invalid_parameter", "--format csv --out INDEX.hlx")
    with open(hlx, "rb") as f:
        check(f.read() == tiny, "--format csv --out INDEX.hlx: the index is byte-identical")
    # The same for map.
    png = write_bytes("index-copy.png", tiny)
    png_link = work("index-link.png")
    if os.path.lexists(png_link):
        os.remove(png_link)
    os.symlink(png, png_link)
    for out in (png, png_link):
        p = run("map", "--out", out, "--treatment", "kyphoplasty", "--force", index=png, check_rc=2)
        message = error_of(p)["message"]
        check(message.startswith(f"the output {out} is the index {png}"), f"map --out {out} over --index: {message}")
    with open(png, "rb") as f:
        check(f.read() == tiny, "map: the index is byte-identical")
    p = run("batch", "--in", src, check_rc=1)  # usage: --out is required
    check(b"--out" in p.stderr, "usage error names --out")
    for name in ("x.csv", "m.gif"):
        check(not os.path.exists(work(name)), f"refused runs write nothing ({name})")


# ---- summary ---------------------------------------------------------------------------------

def nearest_rank(values, p):
    values = sorted(values)
    import math
    return values[max(1, math.ceil(p / 100 * len(values))) - 1]


def group_summary():
    body = "postcode\n" + "".join(pc + "\n" for pc, *_ in STATUS_ROWS) * 3
    body += "".join(pc + "\n" for pc in ("CF10 1AB", "G1 1AB", "CM14 4AB", "CH1 1AB", "CH4 7AB"))
    src = write_bytes("summary.csv", body.encode())
    out = work("summary.out.csv")
    p = batch(src, out, "--summary", work("summary.json"))
    batch(src, work("summary2.out.csv"), "--summary", work("summary.md"))
    _, rows = read_csv(out)
    s = json.load(open(work("summary.json")))
    equal(s["rows"], len(rows), "summary: rows")
    for status in ("ok", "approximate", "invalid", "not_found", "not_covered"):
        equal(s["status"][status], sum(r["status"] == status for r in rows), f"summary: {status} count")
    codes = {}
    for r in rows:
        if r["error_code"]:
            codes[r["error_code"]] = codes.get(r["error_code"], 0) + 1
    equal(s["error_codes"], codes, "summary: error codes")
    per_site = {}
    for r in rows:
        if r["site_1_id"]:
            per_site.setdefault(r["site_1_id"], []).append(float(r["site_1_metres"]))
    equal({x["id"]: x["rows"] for x in s["nearest_site"] if x["rows"]}, {k: len(v) for k, v in per_site.items()},
          "summary: rows per nearest site")
    equal(len(s["nearest_site"]), 10, "summary: every site offering the treatment is listed")
    all_m = [m for v in per_site.values() for m in v]
    equal(s["distance_to_nearest"]["max_metres"], max(all_m), "summary: max distance")
    for p_ in (50, 90, 99):
        exact = nearest_rank(all_m, p_)
        got = s["distance_to_nearest"][f"p{p_}_metres"]
        check(abs(got - exact) <= max(1.0, exact * 0.0006), f"summary: p{p_} {got} vs nearest rank {exact}")
    chester = next(x for x in s["nearest_site"] if x["id"] == "chester")
    equal(chester["distance"]["max_metres"], max(per_site["chester"]), "summary: Chester's max")
    equal(s["index"]["checksum"], json.loads(run("info", "--format", "json", check_rc=0).stdout)["checksum"],
          "summary: index checksum")
    equal(s["farthest"][0]["metres"], max(all_m), "summary: farthest row first")
    check(set(s["timing"]) >= {"seconds", "threads", "slowest"}, "summary: timing")
    md = open(work("summary.md"), encoding="utf-8").read()
    check(f"| ok | {s['status']['ok']} |" in md, "markdown: ok count")
    check(f"| not_covered | {s['status']['not_covered']} |" in md, "markdown: not_covered count")
    check("(`chester`)" in md, "markdown: per-site table")
    # Always a short summary on stderr.
    err = p.stderr.decode()
    check(f"{len(rows)} rows" in err and f"ok {s['status']['ok']}" in err, f"stderr summary: {err!r}")


# ---- a report to hand on -------------------------------------------------------------------

# Rows of the tiny fixture with the country and admin district code Code-Point gives their
# postcode (tests/data/tiny/Data/CSV): a sector and TA2 6AN (its DC cell is empty) have none.
REPORT_ROWS = [
    ("CH4 7QP", "England", "E06000050"), ("CH1 1AB", "England", "E06000050"),
    ("CH4 7AB", "England", "E06000050"), ("CM15 8", "England", None), ("CM14 4AB", "England", "E07000068"),
    ("CF10 1AB", "Wales", "W06000015"), ("G1 1AB", "Scotland", "S12000049"), ("TA2 6AN", "England", None),
    ("PL6 8BG", "England", "E06000026"), ("TS20 1PX", "England", "E06000004"),
    ("BT1 1AA", None, None), ("nonsense", None, None),  # not covered, invalid: not answered
]
REPORT_NAMES = {"E06000050": "Cheshire West and Chester", "E06000026": "Plymouth", "E06000004": "Stockton-on-Tees",
                "E07000068": "Brentwood", "W06000015": "Cardiff"}  # S12000049 left unnamed
MILE_M = 1609.344


def codelist_xlsx(path):
    """A code list laid out as Code-Point Open's Doc/Codelist.xlsx: a sheet per kind of area,
    each row a name and its GSS code (GDAL writes a header row of field names, passed over)."""
    sheets = {"UTA": ["E06000050", "E06000026", "E06000004", "W06000015"], "DIS": ["E07000068"]}
    drv = ogr.GetDriverByName("XLSX")
    if os.path.exists(path):
        os.remove(path)
    ds = drv.CreateDataSource(path)
    for sheet, codes in sheets.items():
        layer = ds.CreateLayer(sheet, geom_type=ogr.wkbNone)
        layer.CreateField(ogr.FieldDefn("Name", ogr.OFTString))
        layer.CreateField(ogr.FieldDefn("Code", ogr.OFTString))
        for code in codes:
            f = ogr.Feature(layer.GetLayerDefn())
            f.SetField("Name", REPORT_NAMES[code])
            f.SetField("Code", code)
            layer.CreateFeature(f)
    ds = None
    return path


def expected_group(rows):
    """rows: the output CSV rows of one group. Its JSON, from the rows' own distances."""
    answered = [r for r in rows if r["status"] in ("ok", "approximate")]
    metres = [float(r["site_1_metres"]) for r in answered if r["site_1_id"]]
    within = []
    for miles in (0.5, 1, 2.5):
        n = sum(m <= miles * MILE_M for m in metres)
        within.append({"miles": miles, "rows": n, "share": round(n / len(answered), 4)})
    return {"rows": len(answered), "within": within, "max_metres": max(metres)}


def group_report():
    src = write_bytes("report.csv", ("postcode\n" + "".join(pc + "\n" for pc, _, _ in REPORT_ROWS)).encode())
    out, summary_json, summary_md = work("report.out.csv"), work("report.json"), work("report.md")
    names = codelist_xlsx(work("Codelist.xlsx"))
    batch(src, out, "--summary", summary_json, "--bands", "0.5,1,2.5", "--district-names", names)
    batch(src, work("report2.out.csv"), "--summary", summary_md, "--bands", "0.5,1,2.5", "--district-names", names)
    _, rows = read_csv(out)
    s = json.load(open(summary_json))
    equal(s["access_bands_miles"], [0.5, 1, 2.5], "report: bands as given")

    def got(g):
        return {"rows": g["rows"], "within": g["within"], "max_metres": g["distance"]["max_metres"]}

    equal({"rows": s["access"]["rows"], "within": s["access"]["within"], "max_metres": s["distance_to_nearest"]["max_metres"]},
          expected_group(rows), "report: access over every answered row")
    equal(s["access"]["rows"], 10, "report: 10 rows answered")
    # Per country and per district: exactly the rows of each, by the fixture's codes.
    by_country, by_district = {}, {}
    for (pc, country, code), r in zip(REPORT_ROWS, rows):
        if country:
            by_country.setdefault(country, []).append(r)
            by_district.setdefault(code, []).append(r)
    equal([g["country"] for g in s["by_country"]], ["England", "Scotland", "Wales"], "report: countries in order")
    for g in s["by_country"]:
        equal(got(g), expected_group(by_country[g["country"]]), f"report: {g['country']}")
    equal(s["by_country"][0]["rows"], 8, "report: England has 8 answered rows")
    districts = s["by_admin_district"]
    equal((districts["codes_in_index"], districts["names_from"]), (True, names), "report: district provenance")
    equal([(g["code"], g["name"]) for g in districts["districts"]],
          [("E06000004", "Stockton-on-Tees"), ("E06000026", "Plymouth"), ("E06000050", "Cheshire West and Chester"),
           ("E07000068", "Brentwood"), ("S12000049", None), ("W06000015", "Cardiff"), (None, None)],
          "report: districts by code, named from the xlsx, the rows without one last")
    for g in districts["districts"]:
        equal(got(g), expected_group(by_district[g["code"]]), f"report: district {g['code']}")
    equal(districts["districts"][2]["rows"], 3, "report: three rows in Cheshire West and Chester")
    # Miles and km, metres kept, in the JSON.
    d = s["distance_to_nearest"]
    equal((d["max_miles"], d["max_km"]), (round(d["max_metres"] / MILE_M, 3), round(d["max_metres"] / 1000, 3)),
          "report: max in miles and km")
    md = open(summary_md, encoding="utf-8").read()
    for line in [
        "| nearest site | rows | p50 | p90 | p99 | max |",
        "- 0.5 miles (0.8 km): 6 rows, 60.0%",
        "- 1 mile (1.6 km): 8 rows, 80.0%",
        "- 2.5 miles (4.0 km): 9 rows, 90.0%",
        "| country | rows | p50 | p90 | max | within 0.5 mi | within 1 mi | within 2.5 mi |",
        "| Wales | 1 | 2.0 mi (3.2 km) | 2.0 mi (3.2 km) | 2.0 mi (3.2 km) | 0.0% | 0.0% | 100.0% |",
        "| Cheshire West and Chester | E06000050 | 3 | 0.4 mi (0.7 km) | 0.9 mi (1.4 km) | 0.9 mi (1.4 km) "
        "| 66.7% | 100.0% | 100.0% |",
        "| – | S12000049 | 1 | 2.6 mi (4.2 km) | 2.6 mi (4.2 km) | 2.6 mi (4.2 km) | 0.0% | 0.0% | 0.0% |",
        "| 5 | CM14 4AB | brentwood | 0.9 mi (1.4 km) |",
    ]:
        check(line + "\n" in md, f"report markdown has {line!r}")
    check("names from `" + names + "`" in md, "report markdown names its code list")

    # A code list as ONS publishes it: CSV with a header; its header row is passed over.
    ons = write_bytes("lad.csv", b"FID,LAD23CD,LAD23NM,LAD23NMW\n1,E06000050,Cheshire West and Chester,\n"
                                 b"2,W06000015,Cardiff,Caerdydd\n")
    batch(src, work("report3.out.csv"), "--summary", work("report3.json"), "--district-names", ons)
    s3 = json.load(open(work("report3.json")))
    equal({g["code"]: g["name"] for g in s3["by_admin_district"]["districts"] if g["name"]},
          {"E06000050": "Cheshire West and Chester", "W06000015": "Cardiff"}, "report: names from an ONS CSV")
    equal([w["miles"] for w in s3["access"]["within"]], [10, 25, 50, 100], "report: default bands")

    # Bad setups: refused before any output, saying what and where.
    refused = work("refused.out.csv")
    for extra, code, message in [
        (["--bands", "10,5"], "invalid_parameter",
         "--bands must be distances in miles, each greater than 0 and than the one before, like 10,25,50,100 (got '10,5')"),
        (["--bands", "10,,25"], "invalid_parameter", "bands must be a number (got '')"),
        (["--bands", "0"], "invalid_parameter",
         "--bands must be distances in miles, each greater than 0 and than the one before, like 10,25,50,100 (got '0')"),
        (["--district-names", work("nowhere.xlsx")], "io_error",
         f"--district-names {work('nowhere.xlsx')}: no such file (or not a regular file)"),
        (["--district-names", write_bytes("clash.csv", b"E06000050,Chester\nE06000050,Cheshire West and Chester\n")],
         "bad_input", f"--district-names {work('clash.csv')} layer 'clash' row 2: E06000050 is named 'Cheshire West "
         f"and Chester' here and 'Chester' at {work('clash.csv')} layer 'clash' row 1"),
        (["--district-names", write_bytes("nocodes.csv", b"code,name\nE0600005,Chester\n")],
         "bad_input", f"--district-names {work('nocodes.csv')}: no row holds a GSS code (like E07000068) and a name"),
    ]:
        if os.path.exists(refused):
            os.remove(refused)
        p = batch(src, refused, "--summary", work("refused.md"), *extra, rc=2)
        equal((error_of(p)["code"], error_of(p)["message"]), (code, message), f"refused: {extra}")
        check(not os.path.exists(refused), f"refused {extra}: no output")


# ---- the HTML report, in a real browser ------------------------------------------------------

class PageText(html.parser.HTMLParser):
    """The rendered DOM as chromium dumps it: each <h2> with the tables and list items under it
    (cell text as the browser shows it), every <img>, and every element name seen."""

    def __init__(self):
        super().__init__()
        self.sections, self.images, self.tags, self._text, self._row = {}, [], set(), None, None
        self._section = self.sections.setdefault("", {"tables": [], "items": []})

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag in ("h2", "li", "td", "th"):
            self._text = ""
        elif tag == "table":
            self._section["tables"].append([])
        elif tag == "tr":
            self._row = []
        elif tag == "img":
            self.images.append(dict(attrs))

    def handle_data(self, data):
        if self._text is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "h2":
            self._section = self.sections.setdefault(self._text, {"tables": [], "items": []})
        elif tag == "li":
            self._section["items"].append(self._text)
        elif tag in ("td", "th"):
            self._row.append(self._text)
        elif tag == "tr":
            self._section["tables"][-1].append(self._row)
        if tag in ("h2", "li", "td", "th"):
            self._text = None


def chromium(*args):
    # --no-sandbox: tests may run as root; a throwaway profile so runs do not share state.
    profile = work("chromium-profile")
    cmd = ["chromium", "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile}",
           "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, timeout=60)


def coloured_pixels(png):
    """Pixels of a screenshot with a clear hue (channels apart by more than 60): the map's
    catchment colours; the page's text and table rules are black, grey or white."""
    ds = gdal.Open(png)
    bands = [ds.GetRasterBand(b + 1).ReadRaster() for b in range(3)]
    return sum(max(px) - min(px) > 60 for px in zip(*bands))


def group_html():
    # A district name from the user's code list that is markup, quotes and Markdown at once.
    hostile = '<script>alert("x")</script> & <b>Chester</b> | `x` *y*'
    names = write_bytes("lad.csv", ("LAD23CD,LAD23NM\nE06000050," + '"' + hostile.replace('"', '""') + '"\n'
                                    "W06000015,Cardiff\n").encode())
    src = write_bytes("html.csv", ("postcode\n" + "".join(pc + "\n" for pc, _, _ in REPORT_ROWS)).encode())
    out, page = work("html.out.csv"), work("report.html")
    batch(src, out, "--summary", page, "--bands", "0.5,1,2.5", "--district-names", names, "--map-width", "480")
    # Answers are the same bytes whatever the summary's format.
    batch(src, work("plain.out.csv"), "--bands", "0.5,1,2.5")
    equal(open(out, "rb").read(), open(work("plain.out.csv"), "rb").read(), "html: the CSV is unchanged")
    _, rows = read_csv(out)
    text = open(page, encoding="utf-8").read()
    check("http:" not in text.replace("http://www.w3.org", "") and "https:" not in text and "<script" not in text,
          "html: no external resources, no scripts")

    p = chromium("--dump-dom", "file://" + page)
    equal(p.returncode, 0, f"chromium --dump-dom: {p.stderr.decode(errors='replace')[-400:]}")
    dom = PageText()
    dom.feed(p.stdout.decode())
    check("script" not in dom.tags and "b" not in dom.tags, f"html: user text makes no elements ({sorted(dom.tags)})")

    def table(section, i=0):
        return dom.sections.get(section, {"tables": [[]] * (i + 1)})["tables"][i]

    def pct(n, of):
        return f"{100 * n / of:.1f}%"

    answered = [r for r in rows if r["status"] in ("ok", "approximate")]
    metres = lambda rs: [float(r["site_1_metres"]) for r in rs if r["site_1_id"]]
    equal(table("Rows by status")[1:], [[st, str(sum(r["status"] == st for r in rows))]
                                        for st in ("ok", "approximate", "invalid", "not_found", "not_covered")],
          "html: rows by status, from the CSV")
    equal(dom.sections[""]["items"][-1], f"rows: {len(rows)}", "html: row count")
    equal(dom.sections.get("Access", {}).get("items"),
          [f"{label} ({km} km): {sum(m <= miles * MILE_M for m in metres(answered))} rows, "
           f"{pct(sum(m <= miles * MILE_M for m in metres(answered)), len(answered))}"
           for miles, label, km in ((0.5, "0.5 miles", "0.8"), (1, "1 mile", "1.6"), (2.5, "2.5 miles", "4.0"))],
          "html: access band shares, from the CSV")

    def shares(rs):
        rs = [r for r in rs if r["status"] in ("ok", "approximate")]
        return [str(len(rs))] + [pct(sum(m <= miles * MILE_M for m in metres(rs)), len(rs)) for miles in (0.5, 1, 2.5)]

    by_country, by_district = {}, {}
    for (pc, country, code), r in zip(REPORT_ROWS, rows):
        if country:
            by_country.setdefault(country, []).append(r)
            by_district.setdefault(code, []).append(r)
    countries = table("By country")
    equal(countries[0][:2] + countries[0][-3:], ["country", "rows", "within 0.5 mi", "within 1 mi", "within 2.5 mi"],
          "html: country table header")
    equal([[c[0], c[1]] + c[-3:] for c in countries[1:]],
          [[name] + shares(by_country[name]) for name in ("England", "Scotland", "Wales")] + [["all"] + shares(rows)],
          "html: per-country rows and band shares, from the CSV")
    districts = table("By local authority district")
    equal([[d[0], d[1], d[2]] + d[-3:] for d in districts[1:] if d[1] in ("E06000050", "W06000015")],
          [[hostile, "E06000050"] + shares(by_district["E06000050"]), ["Cardiff", "W06000015"] + shares(by_district["W06000015"])],
          "html: a hostile district name shows as its own text, with its rows")
    equal(len(districts) - 1, len({c for _, _, c in REPORT_ROWS if c}) + 2, "html: one district row per code, none, all")

    # The map: one PNG, drawn by the map code at --map-width, and the browser paints it.
    equal(len(dom.images), 1, "html: one image")
    src_ = dom.images[0].get("src", "") if dom.images else ""
    check(src_.startswith("data:image/png;base64,"), "html: the map is a data: URI")
    png = base64.b64decode(src_.split(",", 1)[-1] or "AA==")
    equal(png[:8], b"\x89PNG\r\n\x1a\n", "html: the map is a PNG")
    equal(struct.unpack(">II", png[16:24]) if len(png) >= 24 else None, (480, int(dom.images[0].get("height", 0)))
          if dom.images else None, "html: the map's size is the <img>'s")
    shot = work("report.png")
    if os.path.exists(shot):
        os.remove(shot)
    p = chromium(f"--screenshot={shot}", "--window-size=1000,1000", "file://" + page)
    check(os.path.exists(shot), f"chromium --screenshot: {p.stderr.decode(errors='replace')[-400:]}")
    if os.path.exists(shot):
        n = coloured_pixels(shot)
        # The legend's ten swatches alone are ~1,400 such pixels; a page whose image does not
        # decode or show has none.
        check(n > 1000, f"html: the browser paints the map ({n} coloured pixels)")


# ---- maps ------------------------------------------------------------------------------------

def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is a PNG")
    return struct.unpack(">II", head[16:24])


def group_map():
    src = status_file()
    batch(src, work("map.out.csv"), "--map", work("rows.svg"), "--map-width", "640")
    root = ET.parse(work("rows.svg")).getroot()
    equal(root.tag, "{http://www.w3.org/2000/svg}svg", "svg: root element")
    equal(root.get("width"), "640px", "svg: width")
    batch(src, work("map.out.csv"), "--map", work("rows.png"), "--map-width", "500")
    w, h = png_size(work("rows.png"))
    equal(w, 500, "png: width")
    check(400 < h < 3000, f"png: height {h}")
    # Same input, same picture.
    batch(src, work("map.out.csv"), "--map", work("rows2.svg"), "--map-width", "640")
    equal(open(work("rows.svg"), "rb").read(), open(work("rows2.svg"), "rb").read(), "svg: deterministic")
    # The standalone catchment map of the whole index.
    for f in ("catch.png", "catch.svg"):
        if os.path.exists(work(f)):
            os.remove(work(f))
    p = run("map", "--out", work("catch.png"), "--treatment", "kyphoplasty", "--width", "480", check_rc=0)
    equal(png_size(work("catch.png"))[0], 480, "map command: png width")
    run("map", "--out", work("catch.svg"), "--treatment", "kyphoplasty", check_rc=0)
    svg = ET.parse(work("catch.svg")).getroot()
    equal(svg.get("width"), "800px", "map command: default width")
    p = run("map", "--out", work("catch.png"), "--treatment", "kyphoplasty", check_rc=2)
    check("--force" in error_of(p)["message"], "map command: keeps an existing file")


# ---- determinism -----------------------------------------------------------------------------

def group_determinism():
    body = "postcode\n" + "".join(pc + "\n" for pc, *_ in STATUS_ROWS) * 500
    src = write_bytes("det.csv", body.encode())
    for ext in ("csv", "jsonl", "geojson"):
        a, b = work(f"det1.{ext}"), work(f"det2.{ext}")
        batch(src, a, "--threads", "1")
        batch(src, b, "--threads", "2")
        equal(open(a, "rb").read(), open(b, "rb").read(), f"{ext}: 1 thread and 2 threads give the same bytes")
    s1, s2 = work("det1.json"), work("det2.json")
    batch(src, work("det1.csv"), "--summary", s1, "--threads", "1")
    batch(src, work("det2.csv"), "--summary", s2, "--threads", "2")
    j1, j2 = json.load(open(s1)), json.load(open(s2))
    j1.pop("timing"), j2.pop("timing")
    j1.pop("output"), j2.pop("output")
    equal(j1, j2, "summary: the same apart from timing")


# ---- the GB index ----------------------------------------------------------------------------

GB_QUERIES = ["CH4 7QP", "CM15 8EH", "CF11 0SN", "GL51 6SY", "G12 0PJ", "RH16 1UD", "PL6 8BG", "TA2 6AN",
              "TS20 1PX", "SO53 2DW", "SW1A 1AA", "sw1a2aa", "EH1 1YZ", "M1 1AE", "B1 1AA", "LS1 1UR",
              "NE1 1EE", "TR18 4AA", "IV1 1AA", "ZE1 0AA", "KW15 1AA", "HS1 2AA", "LL11 1AA", "CM15 8",
              "NR1", "PA1 1ZZ"]


def group_gb():
    src = write_bytes("gb.csv", ("postcode\n" + "\n".join(GB_QUERIES) + "\n").encode())
    out = work("gb.out.csv")
    batch(src, out, index=ARGS.gb_index)
    _, rows = read_csv(out)
    equal(len(rows), len(GB_QUERIES), "GB: one row per query")
    equal((rows[0]["status"], rows[0]["site_1_id"], rows[0]["site_1_metres"]), ("ok", "chester", "0.0"),
          "GB: CH4 7QP -> Chester at 0 m")
    for r, q in zip(rows, GB_QUERIES):
        oracle = nearest_csv([q], index=ARGS.gb_index)
        if oracle is None:
            check(r["status"] not in ("ok", "approximate"), f"GB {q}: no answer from nearest, none from batch")
            continue
        equal(list(r.values())[1:1 + len(oracle)], oracle, f"GB {q}: equals nearest --format csv")
    # The summary's countries and districts are Code-Point's own, read here from the zip itself.
    countries = {"E92000001": "England", "S92000003": "Scotland", "W92000004": "Wales"}
    expected_country, expected_district = {}, {}
    for r, q in zip(rows, GB_QUERIES):
        if r["status"] not in ("ok", "approximate"):
            continue
        found = json.loads(run("lookup", q, "--format", "json", index=ARGS.gb_index, check_rc=0).stdout)
        # A unit's country and district from Code-Point's row; a centroid's main country is the engine's.
        cy, dc = codepoint_areas(found["postcode"]) if r["match"] == "unit" else (None, None)
        country = countries[cy] if cy else found["country"]
        expected_country[country] = expected_country.get(country, 0) + 1
        expected_district[dc or None] = expected_district.get(dc or None, 0) + 1
    batch(src, work("gb2.out.csv"), "--summary", work("gb.json"), index=ARGS.gb_index)
    s = json.load(open(work("gb.json")))
    equal({g["country"]: g["rows"] for g in s["by_country"]}, expected_country, "GB: rows per country")
    equal({g["code"]: g["rows"] for g in s["by_admin_district"]["districts"]}, expected_district,
          "GB: rows per admin district, as Code-Point gives them")
    check(expected_district.get("E06000050") and expected_district.get("S12000049"),
          f"GB: Chester's and Glasgow's districts among them: {expected_district}")


def codepoint_areas(postcode):
    """(CY, DC) of a unit postcode ("SW1A 2AA") in the data's codepo_gb.zip, read with GDAL."""
    area = postcode[:2].rstrip("0123456789").lower()  # the leading letters: "SW1A 2AA" -> sw
    ds = gdal.OpenEx(f"/vsizip/{ARGS.data}/codepo_gb.zip/Data/CSV/{area}.csv", gdal.OF_VECTOR,
                     open_options=["HEADERS=NO", "AUTODETECT_TYPE=NO"])
    layer = ds.GetLayer(0)
    layer.SetAttributeFilter(f"field_1 = '{postcode}'")
    f = layer.GetNextFeature()
    return (f.GetField(4), f.GetField(8)) if f else (None, None)


GROUPS = {name[len("group_"):]: fn for name, fn in globals().items() if name.startswith("group_")}


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--tiny-index", required=True)
    parser.add_argument("--gb-index", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--data", help="the data directory the GB index was built from (its codepo_gb.zip)")
    parser.add_argument("group", choices=sorted(GROUPS))
    ARGS = parser.parse_args()
    ARGS.work = os.path.join(ARGS.work, ARGS.group)
    os.makedirs(ARGS.work, exist_ok=True)
    GROUPS[ARGS.group]()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
