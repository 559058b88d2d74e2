#!/usr/bin/python3
"""An index built from ONSPD (the invented fixture in tests/data/onspd, in the release's real
53-column layout), end to end: the builder's report and refusals, coordinates against cs2cs for
both grids, Great Britain's answers against the tiny Code-Point index built from the same
postcodes, and Northern Ireland and terminated postcodes in the CLI, batch, the HTTP service and
the Python module.

    PYTHONPATH=BUILD/bindings/python onspd_test.py --cli BUILD/tools/hospital-locator \
        --builder BUILD/tools/hospital-locator-build --server BUILD/tools/hospital-locator-serve \
        --onspd-data WORK/onspd-data --onspd-index WORK/onspd.hlx --tiny-index WORK/tiny.hlx \
        --fixture tests/data/onspd --source . --work DIR
"""
import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

ARGS = None
FAILURES = []
CHECKS = 0
ZIP = "ONSPD_NOV_2026_UK.zip"
CSV_NAME = "ONSPD_NOV_2026_UK.csv"
GRID = "uk_os_OSTN15_NTv2_OSGBtoETRS.tif"
WATER = ("sites in Great Britain are across the sea from Northern Ireland: their distances are "
         "straight lines across the water, not travel distances")


def check(ok, what):
    global CHECKS
    CHECKS += 1
    print(("ok   - " if ok else "FAIL - ") + what)
    if not ok:
        FAILURES.append(what)


def run(argv, **kw):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, **kw)


def cli_json(index, *args):
    p = run([ARGS.cli, "--index", index, *args, "--format", "json"])
    return p.returncode, json.loads(p.stdout or p.stderr)


def fixture_rows(geographic=True):
    """The fixture's rows; without the non-geographic one (BX1 1LT), which the build leaves out."""
    with open(os.path.join(ARGS.fixture, "Data", CSV_NAME), newline="") as f:
        return [r for r in csv.DictReader(f) if not (geographic and r["pcds"].startswith("BX"))]


def build(out, onspd, data=None):
    return run([ARGS.builder, "--quiet", "--data", data or ARGS.onspd_data, "--onspd", onspd,
                "--sites", os.path.join(ARGS.source, "tests/data/tiny/sites.csv"),
                "--listing", "kyphoplasty=" + os.path.join(ARGS.source, "data/listings/kyphoplasty.txt"),
                "--out", out])


def metres_between(a, b):
    from pyproj import Geod
    return Geod(ellps="WGS84").inv(a[1], a[0], b[1], b[0])[2]


# ---- the builder ------------------------------------------------------------------------------

def test_builder():
    # From the bare CSV (the fixture's zip is what the index fixture was built from).
    csv_index = os.path.join(ARGS.work, "from-csv.hlx")
    p = build(csv_index, os.path.join(ARGS.fixture, "Data", CSV_NAME))
    check(p.returncode == 0, f"build from the CSV (exit {p.returncode}: {p.stderr.strip()[:300]})")
    check("postcodes (ONSPD): 22 from 1 file; located 20; quality 90 (no coordinates, lookup only): 2"
          in p.stdout, "report: 22 live postcodes, 20 located")
    check("terminated: 4; Northern Ireland (live): 5; left out as not covered (Channel Islands, Isle of Man): 3; "
          "non-geographic, left out: 1" in p.stdout, "report: 4 terminated, 5 Northern Ireland, 3 not covered, "
          "1 non-geographic")
    m = re.search(r"largest distance from ONSPD's own lat/long: ([\d.]+) m in Great Britain, ([\d.]+) m in "
                  r"Northern Ireland", p.stdout)
    check(m is not None and float(m.group(1)) < 0.1 and float(m.group(2)) < 0.1,
          f"positions within 0.1 m of ONSPD's own lat/long (6 decimals) in both grids: {m and m.groups()}")
    code, info = cli_json(csv_index, "info")
    check(code == 0 and info["counts"]["terminated"] == 4 and info["counts"]["postcodes"] == 26,
          f"info counts: {info.get('counts')}")
    check("TM75 to WGS 84 (2)" in info.get("transform_irish_grid", ""),
          f"the Irish Grid operation is recorded: {info.get('transform_irish_grid', '')[:60]}")
    check([s["role"] for s in info["sources"]][-2:] == ["onspd", "grid"], "the ONSPD file is a recorded source")
    # The zip and the CSV give the same answers.
    for pc in ("BT1 5GS", "CH4 7ZZ", "CM15 8EH"):
        a = cli_json(csv_index, "lookup", pc)
        b = cli_json(ARGS.onspd_index, "lookup", pc)
        check(a == b, f"lookup {pc}: the CSV and the zip builds agree")

    # Refusals: file, line and field, and no index left behind.
    header, rows = None, fixture_rows(geographic=False)
    with open(os.path.join(ARGS.fixture, "Data", CSV_NAME), newline="") as f:
        header = next(csv.reader(f))

    def bad(name, mutate, expect):
        data = [dict(r) for r in rows]
        cols = list(header)
        cols = mutate(data, cols) or cols
        path = os.path.join(ARGS.work, f"ONSPD_BAD_{name}_UK.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, cols, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(data)
        out = os.path.join(ARGS.work, f"bad-{name}.hlx")
        p = build(out, path)
        message = json.loads(p.stderr or "{}").get("error", {}).get("message", "")
        check(p.returncode == 2 and re.search(expect, message) is not None and not os.path.exists(out),
              f"refused, {name}: {message[:160]}")

    def set_field(line, field, value):
        def f(data, cols):
            data[line - 2][field] = value
        return f
    bad("doterm", set_field(5, "doterm", "199913"),
        r"ONSPD_BAD_doterm_UK\.csv line 5: field doterm \(date of termination\) '199913'")
    bad("osgrdind", set_field(3, "osgrdind", "8"), r"line 3: field osgrdind .* '8' is not 1 to 6, 8 \(terminated")
    bad("country", set_field(4, "ctry", "X92000009"), r"line 4: field ctry \(country\) 'X92000009'")
    bad("BT in England", set_field(2, "ctry", "E92000001"), r"line 2: postcode BT1 1AA and field ctry")
    bad("eastings", set_field(6, "oseast1m", "12x"), r"line 6: field oseast1m \(eastings\) '12x'")

    def drop_long(data, cols):
        return [c for c in cols if c != "long"]
    bad("no long", drop_long, r"not in the ONSPD layout: no column long")

    def live_and_terminated(data, cols):
        twin = dict(next(r for r in data if r["pcds"] == "CH4 7ZZ"))
        twin["doterm"] = ""
        data.append(twin)
    bad("twice", live_and_terminated, r"postcode CH4 7ZZ is listed both live and terminated")

    no_grid = os.path.join(ARGS.work, "no-grid")
    os.makedirs(no_grid, exist_ok=True)
    p = build(os.path.join(ARGS.work, "no-grid.hlx"), os.path.join(ARGS.fixture, "Data", CSV_NAME), no_grid)
    check(p.returncode == 2 and GRID in p.stderr, "without the OSTN15 grid the build is refused, naming it")


# ---- coordinates against cs2cs ------------------------------------------------------------------

def test_cs2cs():
    env = dict(os.environ, PROJ_DATA=ARGS.onspd_data + os.pathsep + "/usr/share/proj", PROJ_NETWORK="OFF")
    for grid, crs in (("GB", "EPSG:27700"), ("NI", "EPSG:29903")):
        rows = [r for r in fixture_rows() if r["osgrdind"] != "9" and (r["ctry"] == "N92000002") == (grid == "NI")]
        text = "".join(f"{r['oseast1m']} {r['osnrth1m']}\n" for r in rows)
        # -d 9: nine decimals; the OSTN15 grid is on PROJ_DATA, so cs2cs picks OSGB36 to WGS 84 (9).
        p = run(["cs2cs", "-d", "9", crs, "EPSG:4326"], input=text, env=env)
        worst, lines = 0.0, p.stdout.splitlines()
        for r, line in zip(rows, lines):
            lat, lon = map(float, line.split()[:2])
            _, got = cli_json(ARGS.onspd_index, "lookup", r["pcds"])
            worst = max(worst, metres_between((lat, lon), (got["lat"], got["lon"])))
        check(p.returncode == 0 and len(rows) >= 4 and len(lines) == len(rows) and worst < 0.01,
              f"{grid}: {len(rows)} positions within 1 cm of cs2cs {crs} EPSG:4326 (worst {worst * 1000:.2f} mm)")


# ---- Great Britain: the same as the Code-Point build -------------------------------------------

def test_same_as_codepoint():
    gb = [r for r in fixture_rows() if r["ctry"][0] in "ESW" and not r["doterm"]]
    queries = [r["pcds"] for r in gb] + ["CM15 8", "CH4", "G1 1", "CH4 7XX"]
    differ = []
    for pc in queries:
        a, b = cli_json(ARGS.tiny_index, "lookup", pc), cli_json(ARGS.onspd_index, "lookup", pc)
        if a != b and not (a[1].get("note") and a[1]["note"].replace("Code-Point Open", "ONSPD") == b[1].get("note")):
            differ.append(("lookup", pc, a, b))
        a = cli_json(ARGS.tiny_index, "nearest", pc, "--treatment", "kyphoplasty", "--k", "10")
        b = cli_json(ARGS.onspd_index, "nearest", pc, "--treatment", "kyphoplasty", "--k", "10")
        for answer in (a[1], b[1]):
            answer.get("query", {}).pop("note", None)
        if a != b:
            differ.append(("nearest", pc, a, b))
    check(not differ and len(queries) == 21,
          f"Great Britain: {len(queries)} lookups and nearest (k=10) identical to the Code-Point build"
          + (f"; first difference {differ[0]}" if differ else ""))
    # ONSPD's grid references are those of Code-Point: identical positions, so well within 1 m.


# ---- Northern Ireland and terminated postcodes, shell by shell ----------------------------------

def test_cli():
    code, r = cli_json(ARGS.onspd_index, "lookup", "bt15gs")
    check(code == 0 and r["grid"] == "EPSG:29903" and r["country"] == "Northern Ireland" and r["match"] == "unit"
          and r["eastings"] == 333900.0, f"lookup BT1 5GS: Irish Grid, Northern Ireland ({r})")
    code, r = cli_json(ARGS.onspd_index, "nearest", "BT1 5GS", "--treatment", "kyphoplasty", "--k", "3")
    check(code == 0 and r["query"]["note"] == WATER and r["results"][0]["site"]["id"] == "glasgow",
          "nearest BT1 5GS: Glasgow first, with the across-the-water note")
    code, r = cli_json(ARGS.onspd_index, "nearest", "BT48", "--treatment", "kyphoplasty")
    check(code == 0 and r["query"]["match"] == "district" and r["query"]["note"] == WATER,
          "nearest from a Northern Ireland district carries the note too")
    code, r = cli_json(ARGS.onspd_index, "nearest", "--lat", "54.6", "--lon", "-5.93", "--treatment", "kyphoplasty")
    check(code == 0 and r["query"].get("note") == WATER, "a point in Belfast carries the note")
    code, r = cli_json(ARGS.onspd_index, "nearest", "CH4 7QP", "--treatment", "kyphoplasty")
    check(code == 0 and "note" not in r["query"], "no water note from Great Britain")
    code, r = cli_json(ARGS.onspd_index, "nearest", "--lat", "55.85", "--lon", "-4.3", "--treatment", "kyphoplasty")
    check(code == 0 and "note" not in r["query"], "nor from a point in Glasgow")

    code, r = cli_json(ARGS.onspd_index, "lookup", "CH4 7ZZ")
    check(code == 0 and r["match"] == "terminated" and r["terminated"] == "1999-06" and r["located"]
          and r["eastings"] == 340200.0 and r["quality"] == 10,
          f"lookup of a terminated postcode: its month and last position ({r})")
    code, r = cli_json(ARGS.onspd_index, "lookup", "BT1 1AA")
    check(code == 0 and r["terminated"] == "2001-05" and r["quality"] == 80 and r["grid"] == "EPSG:29903",
          "a Northern Ireland postcode terminated before Gridlink: quality 80, Irish Grid")
    code, r = cli_json(ARGS.onspd_index, "nearest", "CH4 7ZZ", "--treatment", "kyphoplasty")
    check(code == 0 and r["query"]["match"] == "terminated" and r["query"]["note"] ==
          "'CH4 7ZZ' was terminated by Royal Mail in 1999-06; its last position is used",
          "nearest from a terminated postcode: match terminated, with a note")
    code, r = cli_json(ARGS.onspd_index, "nearest", "BT7 1ZZ", "--treatment", "kyphoplasty")
    check(code == 0 and r["query"]["match"] == "sector" and r["query"]["postcode"] == "BT7 1"
          and r["query"]["note"].startswith("'BT7 1ZZ' was terminated by Royal Mail in 2015-07 and has no grid "
                                            "reference; the centroid of its sector 'BT7 1' is used; sites in"),
          "a terminated postcode without a grid reference falls back to its sector, saying both")
    code, r = cli_json(ARGS.onspd_index, "lookup", "CH4 7QP")
    check(code == 0 and r["match"] == "unit" and "terminated" not in r, "a live postcode is never terminated")
    code, r = cli_json(ARGS.onspd_index, "lookup", "BX1 1LT")
    check(code == 2 and r["error"]["code"] == "non_geographic_postcode", "a non-geographic code is left out")
    for pc, place in (("GY1 1AA", "Guernsey"), ("JE2 3AB", "Jersey"), ("IM1 1AA", "the Isle of Man")):
        code, r = cli_json(ARGS.onspd_index, "nearest", pc, "--treatment", "kyphoplasty")
        check(code == 2 and r["error"]["code"] == "not_covered" and place in r["error"]["message"],
              f"{pc}: not_covered ({place})")
    code, r = cli_json(ARGS.tiny_index, "nearest", "BT1 5GS", "--treatment", "kyphoplasty")
    check(code == 2 and r["error"]["code"] == "not_covered" and "built from Code-Point Open" in r["error"]["message"],
          f"a Code-Point index still answers BT not_covered: {r['error']['message']}")
    p = run([ARGS.cli, "--index", ARGS.onspd_index, "lookup", "CH4 7ZZ"])
    check("terminated" in p.stdout and "1999-06" in p.stdout, "the CLI's table shows the termination")


def test_batch():
    src = os.path.join(ARGS.work, "batch.csv")
    with open(src, "w", newline="") as f:
        csv.writer(f).writerows([["postcode"], ["BT1 5GS"], ["CH4 7ZZ"], ["CM15 8ZY"], ["GY1 1AA"], ["CH4 7QP"]])
    for fmt, name in (("csv", "out.csv"), ("jsonl", "out.jsonl")):
        out = os.path.join(ARGS.work, name)
        p = run([ARGS.cli, "--index", ARGS.onspd_index, "batch", "--in", src, "--out", out, "--force", "--quiet",
                 "--treatment", "kyphoplasty", "--k", "1", "--format", fmt])
        check(p.returncode == 0, f"batch {fmt} (exit {p.returncode}: {p.stderr[:200]})")
        if fmt == "csv":
            with open(out, newline="") as f:
                rows = [(r["postcode"], r["status"], r["match"]) for r in csv.DictReader(f)]
            check(rows == [("BT1 5GS", "ok", "unit"), ("CH4 7ZZ", "approximate", "terminated"),
                           ("CM15 8ZY", "approximate", "sector"), ("GY1 1AA", "not_covered", ""),
                           ("CH4 7QP", "ok", "unit")], f"batch CSV: statuses and matches {rows}")
        else:
            with open(out) as f:
                lines = [json.loads(line) for line in f]
            notes = [line.get("query", {}).get("note", "") for line in lines]
            check(len(lines) == 5 and notes[0] == WATER and "terminated by Royal Mail in 1999-06" in notes[1],
                  f"batch JSON Lines carries the notes: {notes}")


class Server:
    def __init__(self, index):
        self.log_path = os.path.join(ARGS.work, "serve.err")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([ARGS.server, "--index", index, "--listen", "127.0.0.1:0", "--threads", "1"],
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        deadline, self.port = time.monotonic() + 60, None
        while self.port is None and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
            with open(self.log_path, errors="replace") as f:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
            self.port = int(m.group(1)) if m else None
        if self.port is None:
            self.stop()
            raise SystemExit("the server did not start")

    def get(self, target):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{target}", timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def test_http():
    server = Server(ARGS.onspd_index)
    try:
        status, r = server.get("/v1/postcodes/" + urllib.parse.quote("CH4 7ZZ"))
        check(status == 200 and r["terminated"] == "1999-06" and r["match"] == "terminated",
              "GET /v1/postcodes/{pc} shows the termination")
        status, r = server.get("/v1/nearest?postcode=" + urllib.parse.quote("BT1 5GS") + "&treatment=kyphoplasty")
        check(status == 200 and r["query"]["note"] == WATER, "GET /v1/nearest from Belfast carries the note")
        status, r = server.get("/v1/nearest?postcode=" + urllib.parse.quote("GY1 1AA") + "&treatment=kyphoplasty")
        check(status == 422 and r["error"]["code"] == "not_covered", "GET /v1/nearest for Guernsey: 422 not_covered")
        status, r = server.get("/v1/info")
        check(status == 200 and r["counts"]["terminated"] == 4, "GET /v1/info counts the terminated postcodes")
        status, spec = server.get("/openapi.json")
        record = spec["components"]["schemas"]["PostcodeRecord"]["properties"] if status == 200 else {}
        check("terminated" in record and "terminated" in record["match"]["enum"],
              "the OpenAPI document describes terminated postcodes")
    finally:
        server.stop()


def test_python():
    import numpy as np
    import hospital_locator as hl
    index = hl.Index(ARGS.onspd_index)
    r = index.lookup("CH4 7ZZ")
    check(r.match == "terminated" and r.terminated == "1999-06" and r.grid == "EPSG:27700",
          "Python: lookup of a terminated postcode")
    check(index.lookup("BT7 1NN").grid == "EPSG:29903" and index.lookup("CH4 7QP").terminated is None,
          "Python: Irish Grid for Northern Ireland; a live postcode is not terminated")
    a = index.nearest(postcode="BT1 5GS", treatment="kyphoplasty")
    check(a.query.note == WATER and a.to_dict()["query"]["note"] == WATER, "Python: the water note")
    batch = index.nearest_many(np.array(["BT1 5GS", "CH4 7ZZ", "CM15 8ZY", "GY1 1AA"]), treatment="kyphoplasty")
    check(list(batch.match_names()) == ["unit", "terminated", "sector", None] and batch.approximate == 2,
          f"Python nearest_many: {list(batch.match_names())}, {batch.approximate} approximate")
    looked = index.lookup_many(np.array(["CH4 7ZZ", "BT1 5GS", "CH4 7QP"]))
    check(list(looked.terminated) == ["1999-06", "", ""] and list(looked.country)[1] == "Northern Ireland",
          "Python lookup_many: terminated and country columns")
    check(index.info().terminated == 4 and "TM75" in index.info().transform_irish_grid, "Python: index info")


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("cli", "builder", "server", "onspd-data", "onspd-index", "tiny-index", "fixture", "source", "work"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--no-python", action="store_true")
    ARGS = ap.parse_args()
    shutil.rmtree(ARGS.work, ignore_errors=True)
    os.makedirs(ARGS.work)
    tests = [test_builder, test_cs2cs, test_same_as_codepoint, test_cli, test_batch, test_http]
    if not ARGS.no_python:
        tests.append(test_python)
    for t in tests:
        print(f"# {t.__name__}")
        t()
    print(f"\n{CHECKS - len(FAILURES)} of {CHECKS} checks pass")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
