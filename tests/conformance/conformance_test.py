#!/usr/bin/python3
"""Conformance of the four shells: the same query gives the same answer, code and message in the
CLI, the HTTP service (GET and one item of a bulk POST), batch and the Python module.

Every case in CASES goes through every shell. An answer is reduced to what every shell shows:
an error is (code, message); a success is (match, [(site id, metres to 0.1, miles to 0.001)...]).
A case passes when all shells give the same outcome and it is the one the table expects; the
report groups the shells by what they answered. Messages must be identical: a bulk item's
message has no "item N: " prefix (its place in the answer array says which item it is), and a
usage error (exit 1) where another shell answers invalid_parameter is a difference. Where a
shell cannot express a case at all the case says so (na=) and the report prints it. The
listings (sites, treatments) must be equal JSON in the CLI, /v1/... and Python's to_dict().

    PYTHONPATH=BUILD/bindings/python conformance_test.py --cli BUILD/tools/hospital-locator \
        --server BUILD/tools/hospital-locator-serve --gb-index GB.hlx --tiny-index TINY.hlx \
        --onspd-index ONSPD.hlx --work DIR
"""
import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SHELLS = ("cli", "get", "bulk", "batch", "python")


def C(name, index, expect, why="", na=None, **query):
    """One case. index: "gb", "tiny" or "onspd". expect: an error code, or "ok:MATCH[:FIRST_SITE_ID]".
    query: pc, lat, lon, k, treatment, max_miles, max_km, as text the way a user types them (each
    shell turns the text into its own form: an argument, a URL parameter, a JSON value, a CSV cell
    or GeoJSON coordinate, a Python int/float/str). na: {shell: reason} where a shell cannot
    express the case at all; it is reported as such, never silently skipped."""
    return dict(name=name, index=index, expect=expect, why=why, na=na or {}, q=query)


BOTH_POINT = "a batch row is queried by its postcode, or (--use-geometry) by its point: never both"
NO_LON = "this test gives batch its points as GeoJSON geometries, which always have both coordinates"
NO_JSON = "JSON has no NaN or Infinity, so a bulk item cannot carry it"
PARSER = ("every shell hands numbers to the contract as text or numbers, never to its own "
          "argument parser: the contract's invalid_parameter (CLI exit 2), not a usage error")
FAR = "the engine refuses points outside the area the index covers: not_covered, the same everywhere"
CLI_EMPTY = ("the CLI passes on what it was given, an empty or missing query included, and answers "
             "like the other shells (exit 2)")
PY_TYPE = "Python numbers of any type or size go to the contract: InvalidParameter, never TypeError"

CASES = [
    # -- postcodes resolved at each level -------------------------------------------------------
    C("unit", "gb", "ok:unit:chester", pc="CH4 7QP"),
    C("unit, forgiving form", "gb", "ok:unit:chester", pc=" ch47qp "),
    C("sector", "gb", "ok:sector:brentwood", pc="CM15 8"),
    C("district", "gb", "ok:district:brentwood", pc="CM15"),
    C("unit not in the data falls back to its sector", "gb", "ok:sector:brentwood", pc="CM15 8ZZ"),
    # -- postcodes that are errors --------------------------------------------------------------
    C("typo I for 1, suggestion", "gb", "invalid_postcode", pc="SWIA 1AA"),
    C("typo O for 0, suggestion", "gb", "invalid_postcode", pc="CH4 7OP"),
    C("not a postcode", "gb", "invalid_postcode", pc="hello"),
    C("empty postcode", "gb", "invalid_postcode", why=CLI_EMPTY, pc=""),
    C("non-ASCII letter", "gb", "invalid_postcode", pc="SW1A 1AÄ"),
    C("full-width letters", "gb", "invalid_postcode", pc="Ｃ Ｈ４"),
    C("emoji", "gb", "invalid_postcode", pc="🏥"),
    C("district not in the data", "gb", "postcode_not_found", pc="ZE9 9ZZ"),
    C("district not in the tiny data", "tiny", "postcode_not_found", pc="AB10 1AB", treatment="kyphoplasty"),
    C("Northern Ireland", "gb", "not_covered", pc="BT1 1AA"),
    C("Jersey", "gb", "not_covered", pc="JE2 3AB"),
    C("Guernsey", "gb", "not_covered", pc="GY1 1AA"),
    C("Isle of Man", "gb", "not_covered", pc="IM1 1AA"),
    C("Girobank", "gb", "non_geographic_postcode", pc="GIR 0AA"),
    C("BFPO", "gb", "non_geographic_postcode", pc="BFPO 1234"),
    C("ZZ99 pseudo-postcode", "gb", "non_geographic_postcode", pc="ZZ99 3AA"),
    C("overseas territory", "gb", "non_geographic_postcode", pc="ASCN 1ZZ"),
    # -- k ----------------------------------------------------------------------------------------
    C("k=1", "gb", "ok:unit:chester", pc="CH4 7QP", k="1"),
    C("k=1000 (the most), fewer sites than k", "gb", "ok:unit:chester", pc="CH4 7QP", k="1000"),
    C("k=0", "gb", "invalid_parameter", pc="CH4 7QP", k="0"),
    C("k=1001", "gb", "invalid_parameter", pc="CH4 7QP", k="1001"),
    C("k=-1", "gb", "invalid_parameter", pc="CH4 7QP", k="-1"),
    C("k=2.5", "gb", "invalid_parameter", why=PARSER + "; " + PY_TYPE, pc="CH4 7QP", k="2.5"),
    C("k=2^32+1 (wraps to 1 in 32 bits)", "gb", "invalid_parameter", why=PARSER, pc="CH4 7QP", k="4294967297"),
    C("k=1e30", "gb", "invalid_parameter", why=PARSER + "; " + PY_TYPE, pc="CH4 7QP", k="1e30"),
    # -- distance limits --------------------------------------------------------------------------
    C("max_miles keeps only near sites", "gb", "ok:unit:chester", pc="CH4 7QP", max_miles="0.5"),
    C("max_km keeps only near sites", "gb", "ok:unit:chester", pc="CH4 7QP", max_km="200", k="10"),
    C("max_miles=0", "gb", "ok:unit:chester", pc="CH4 7QP", max_miles="0"),
    C("max_miles negative", "gb", "invalid_parameter", pc="CH4 7QP", max_miles="-1"),
    C("max_km negative", "gb", "invalid_parameter", pc="CH4 7QP", max_km="-0.5"),
    C("max_miles NaN", "gb", "invalid_parameter", na={"bulk": NO_JSON}, pc="CH4 7QP", max_miles="nan"),
    C("max_km NaN", "gb", "invalid_parameter", na={"bulk": NO_JSON}, pc="CH4 7QP", max_km="nan"),
    C("max_miles infinite", "gb", "invalid_parameter", na={"bulk": NO_JSON}, pc="CH4 7QP", max_miles="inf"),
    C("max_miles and max_km", "gb", "invalid_parameter", why=PARSER, pc="CH4 7QP", max_miles="5", max_km="5"),
    # -- points -----------------------------------------------------------------------------------
    C("point in GB", "gb", "ok:point:chester", lat="53.2", lon="-2.9"),
    C("point, lat and lon swapped", "gb", "invalid_parameter", lat="-2.9", lon="53.2"),
    C("point, lat out of range", "gb", "invalid_parameter", lat="91", lon="0"),
    C("point, lon out of range", "gb", "invalid_parameter", lat="53", lon="181"),
    C("point in Sydney", "gb", "not_covered", why=FAR, lat="-33.9", lon="151.2"),
    C("point in Paris", "gb", "not_covered", why=FAR, lat="48.85", lon="2.35"),
    C("postcode and a point", "gb", "invalid_parameter", na={"batch": BOTH_POINT}, pc="CH4 7QP", lat="53.2", lon="-2.9"),
    C("lat without lon", "gb", "invalid_parameter", why=CLI_EMPTY, na={"batch": NO_LON}, lat="53.2"),
    C("lon without lat", "gb", "invalid_parameter", why=CLI_EMPTY, na={"batch": NO_LON}, lon="-2.9"),
    # -- treatments -------------------------------------------------------------------------------
    C("unknown treatment", "gb", "unknown_treatment", pc="CH4 7QP", treatment="chemotherapy"),
    C("two treatments, none named", "tiny", "invalid_parameter", why="the engine's code", pc="CH4 7QP"),
    C("two treatments, one named", "tiny", "ok:unit:chester", pc="CH4 7QP", treatment="kyphoplasty"),
    C("the other treatment", "tiny", "ok:unit:cardiff-bay", pc="CF11 0SN", treatment="spinal-injection", k="2"),
    C("unknown treatment, tiny", "tiny", "unknown_treatment", pc="CH4 7QP", treatment="chemotherapy"),
    C("treatment, sector, limit", "tiny", "ok:sector:brentwood", pc="CM15 8", treatment="kyphoplasty", max_km="50"),
    # -- an index built from ONSPD: Northern Ireland, terminated postcodes ------------------------
    C("Northern Ireland unit (ONSPD)", "onspd", "ok:unit:glasgow", pc="BT1 5GS", treatment="kyphoplasty"),
    C("Northern Ireland sector fallback (ONSPD)", "onspd", "ok:sector:glasgow", pc="BT1 5ZZ", treatment="kyphoplasty"),
    C("Northern Ireland district (ONSPD)", "onspd", "ok:district:glasgow", pc="BT48", treatment="kyphoplasty"),
    C("Northern Ireland point (ONSPD)", "onspd", "ok:point:glasgow", lat="54.6", lon="-5.93", treatment="kyphoplasty"),
    C("terminated postcode (ONSPD)", "onspd", "ok:terminated:chester", pc="CH4 7ZZ", treatment="kyphoplasty"),
    C("terminated in Northern Ireland (ONSPD)", "onspd", "ok:terminated:glasgow", pc="bt11aa", treatment="kyphoplasty"),
    C("terminated, no grid reference (ONSPD)", "onspd", "ok:sector:brentwood", pc="CM15 8ZY", treatment="kyphoplasty"),
    C("live postcode (ONSPD)", "onspd", "ok:unit:chester", pc="CH4 7QP", treatment="kyphoplasty"),
    C("Guernsey (ONSPD lists it without a position)", "onspd", "not_covered", pc="GY1 1AA", treatment="kyphoplasty"),
    C("Isle of Man (ONSPD lists it without a position)", "onspd", "not_covered", pc="IM1 1AA", treatment="kyphoplasty"),
]

ARGS = None


# ---- answers reduced to what every shell shows -------------------------------------------------

def error(code, message):
    return ("error", code, message)


def success(match, results):  # results: [(id, metres, miles)], numbers or text
    return ("ok", match, tuple((i, float(m), float(mi)) for i, m, mi in results))


def same(a, b):
    """Equal outcomes: the same error, or the same match and sites with distances equal at the
    precision every shell shows (batch: 0.1 m, 0.001 mi; allow for either side's rounding)."""
    if a[0] == "error" or a[:2] != b[:2] or len(a[2]) != len(b[2]):
        return a == b
    return all(x[0] == y[0] and abs(x[1] - y[1]) <= 0.0501 and abs(x[2] - y[2]) <= 0.000501
               for x, y in zip(a[2], b[2]))


def from_json(doc):
    """An answer or error in the DESIGN.md JSON shape (CLI, HTTP, Python's to_dict())."""
    if isinstance(doc, dict) and "error" in doc:
        return error(doc["error"].get("code"), doc["error"].get("message"))
    return success(doc["query"]["match"], [(r["site"]["id"], r["distance"]["metres"], r["distance"]["miles"])
                                           for r in doc["results"]])


def describe(outcome):
    if outcome[0] == "ok":
        sites = ", ".join(f"{i} {m:.1f} m {mi:.3f} mi" for i, m, mi in outcome[2])
        return f"ok match={outcome[1]} [{sites}]"
    return f"{outcome[1]}: {outcome[2]!r}"


# ---- the shells -------------------------------------------------------------------------------

def run(argv):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, errors="replace", timeout=300)


def process_outcome(p):
    """A CLI run: JSON on stdout (exit 0), the error object on stderr (exit 2), usage (exit 1)."""
    if p.returncode == 0:
        return from_json(json.loads(p.stdout))
    if p.returncode == 2:
        for line in p.stderr.splitlines():
            if line.startswith("{"):
                return from_json(json.loads(line))
    first = (p.stderr.strip().splitlines() or [""])[0]
    return error(f"<exit {p.returncode}, no error JSON>", first)


CLI_OPTIONS = {"lat": "--lat", "lon": "--lon", "k": "--k", "treatment": "--treatment",
               "max_miles": "--max-miles", "max_km": "--max-km"}
RUN_OPTIONS = ("k", "treatment", "max_miles", "max_km")  # batch: options of the whole run


def options(q, keys):
    return [f"{CLI_OPTIONS[k]}={q[k]}" for k in keys if k in q]  # "=": a value may start with "-"


def cli_shell(case):
    q = case["q"]
    argv = [ARGS.cli, "--index", getattr(ARGS, case["index"] + "_index"), "nearest"] + ([q["pc"]] if "pc" in q else [])
    return process_outcome(run(argv + options(q, CLI_OPTIONS) + ["--format", "json"]))


NAMES = {"pc": "postcode"}  # the table's short name -> HTTP, JSON and Python name


def http(method, port, target, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{target}", data=body, method=method,
                                 headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except OSError as e:  # no answer: a difference to report, not a crash
        return 0, {"error": {"code": "<no answer>", "message": str(e)}}
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, {"error": {"code": "<not JSON>", "message": raw[:300].decode(errors="replace")}}


def get_shell(case, port):
    params = [(NAMES.get(k, k), v) for k, v in case["q"].items()]
    status, doc = http("GET", port, "/v1/nearest?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote))
    outcome = from_json(doc)
    if status != (200 if outcome[0] == "ok" else doc["error"].get("status")):
        return error(f"<HTTP {status} with {outcome[0]}>", describe(outcome))
    return outcome


def json_literal(case, key, text):
    """The value as written in a JSON item: a string, or the number exactly as the table has it."""
    if key in ("pc", "treatment"):
        return json.dumps(text)
    if not re.fullmatch(r"-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?", text):
        raise SystemExit(f"case {case['name']!r}: {text!r} is not a JSON number; mark it na={{'bulk': NO_JSON}}")
    return text


def bulk_item(case):
    return "{" + ", ".join(f"{json.dumps(NAMES.get(k, k))}: {json_literal(case, k, v)}"
                           for k, v in case["q"].items()) + "}"


def bulk_shell(cases, port):
    """All the cases of one index as the items of one POST: item i answers case i."""
    body = "[" + ", ".join(bulk_item(c) for c in cases) + "]"
    status, doc = http("POST", port, "/v1/nearest", body.encode())
    if status != 200 or not isinstance(doc, list) or len(doc) != len(cases):
        return {c["name"]: error(f"<bulk POST HTTP {status}>", json.dumps(doc)[:300]) for c in cases}
    return {c["name"]: from_json(d) for c, d in zip(cases, doc)}


def py_value(key, text):
    if key in ("pc", "treatment"):
        return text
    if key == "k" and re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    return float(text)


def python_shell(case, hl, indexes):
    kw = {NAMES.get(k, k): py_value(k, v) for k, v in case["q"].items()}
    try:
        return from_json(indexes[case["index"]].nearest(**kw).to_dict())
    except hl.Error as e:
        return error(e.code, e.message)
    except Exception as e:  # noqa: BLE001 - any other exception is a difference to report
        return error(f"<{type(e).__name__}>", str(e).splitlines()[0])


def batch_shell(cases):
    """One batch run per (index, option set, input kind): postcodes as CSV rows, points as
    features of a GeoJSON FeatureCollection read with --use-geometry."""
    groups, out = {}, {}
    for c in cases:
        kind = "points" if "lat" in c["q"] or "lon" in c["q"] else "postcodes"
        groups.setdefault((c["index"], tuple(options(c["q"], RUN_OPTIONS)), kind), []).append(c)
    for n, ((index, run_options, kind), members) in enumerate(groups.items()):
        src = os.path.join(ARGS.work, f"batch{n}." + ("geojson" if kind == "points" else "csv"))
        dst = os.path.join(ARGS.work, f"batch{n}.out.csv")
        if kind == "points":
            features = [{"type": "Feature", "properties": {"row": i},
                         "geometry": {"type": "Point", "coordinates": [float(c["q"]["lon"]), float(c["q"]["lat"])]}}
                        for i, c in enumerate(members)]
            with open(src, "w") as f:
                json.dump({"type": "FeatureCollection", "features": features}, f)
        else:
            with open(src, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows([["row", "postcode"]] + [[i, c["q"]["pc"]] for i, c in enumerate(members)])
        argv = [ARGS.cli, "--index", getattr(ARGS, index + "_index"), "batch",
                "--in", src, "--out", dst, "--force", "--quiet", "--threads", "1", *run_options]
        p = run(argv + (["--use-geometry"] if kind == "points" else []))
        if p.returncode != 0:  # a run-level error answers every row of the run
            out.update({c["name"]: process_outcome(p) for c in members})
            continue
        with open(dst, newline="", encoding="utf-8", errors="replace") as f:
            rows = list(csv.DictReader(f))
        if [r["row"] for r in rows] != [str(i) for i in range(len(members))]:
            out.update({c["name"]: error("<batch rows>", f"rows {[r['row'] for r in rows]} for {len(members)} in")
                        for c in members})
            continue
        for c, row in zip(members, rows):
            if row["status"] in ("ok", "approximate"):
                sites, i = [], 1
                while row.get(f"site_{i}_id"):
                    sites.append((row[f"site_{i}_id"], row[f"site_{i}_metres"], row[f"site_{i}_miles"]))
                    i += 1
                out[c["name"]] = success(row["match"], sites)
            else:
                out[c["name"]] = error(row["error_code"], row["error_message"])
    return out


# ---- the HTTP server --------------------------------------------------------------------------

class Server:
    """hospital-locator-serve on an ephemeral loopback port; always stopped by the caller."""

    def __init__(self, index):
        self.log_path = os.path.join(ARGS.work, f"serve-{os.path.basename(index)}.err")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([ARGS.server, "--index", index, "--listen", "127.0.0.1:0", "--threads", "1"],
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        deadline, self.port = time.monotonic() + 60, None
        while self.port is None and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.text())
            self.port = int(m.group(1)) if m else None
        if self.port is None:
            self.stop()
            raise SystemExit(f"the server did not start: {self.text()}")

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---- running and reporting --------------------------------------------------------------------

def judge(case, outcomes):
    """Failures of one case: shells that disagree, and shells that differ from the table."""
    problems, groups = [], []  # [(outcome, [shells])]
    for shell, outcome in outcomes.items():
        group = next((g for g in groups if same(g[0], outcome)), None)
        if group:
            group[1].append(shell)
        else:
            groups.append((outcome, [shell]))
    if len(groups) > 1:
        problems.append("shells disagree:\n" + "\n".join(
            f"      {'/'.join(shells):<22} {describe(o)}" for o, shells in groups))
    want = case["expect"].split(":")
    for shell, o in outcomes.items():
        if want[0] == "ok":
            bad = o[0] != "ok" or o[1] != want[1] or (len(want) > 2 and (not o[2] or o[2][0][0] != want[2]))
        else:
            bad = o[0] != "error" or o[1] != want[0]
        if bad:
            problems.append(f"{shell}: expected {case['expect']}, got {describe(o)}")
    return problems


def listings(port, index, hl, py_index):
    """sites and treatments: the CLI's JSON, /v1/..., Python's to_dict(): all equal."""
    problems = []
    for what in ("sites", "treatments"):
        shown = {"cli": json.loads(run([ARGS.cli, "--index", index, what, "--format", "json"]).stdout),
                 "get": http("GET", port, f"/v1/{what}")[1]}
        if hl:
            shown["python"] = [x.to_dict() for x in getattr(py_index, what)()]
        ref = shown["get"]
        for shell, doc in shown.items():
            if doc == ref:
                continue
            detail = f"{len(doc)} items, /v1/{what} has {len(ref)}"
            for mine, theirs in zip(doc, ref):
                if mine != theirs:
                    detail = (f"first difference at {theirs.get('id', theirs.get('name'))!r}: "
                              f"lacks {sorted(set(theirs) - set(mine))}, adds {sorted(set(mine) - set(theirs))}, "
                              f"other values differ in {sorted(k for k in set(mine) & set(theirs) if mine[k] != theirs[k])}")
                    break
            problems.append(f"{what} on {os.path.basename(index)}: {shell} differs from /v1/{what} ({detail})")
    return problems


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="hospital-locator (batch runs through its dispatch)")
    ap.add_argument("--server", required=True, help="hospital-locator-serve")
    ap.add_argument("--gb-index", required=True)
    ap.add_argument("--tiny-index", required=True)
    ap.add_argument("--onspd-index", required=True, help="an index built from ONSPD (Northern Ireland, terminated)")
    ap.add_argument("--work", required=True, help="directory for batch files and server logs")
    ap.add_argument("--no-python", action="store_true", help="the module is not built: report python as n/a")
    ap.add_argument("--only", help="only the cases whose name contains this (no listings)")
    ARGS = ap.parse_args()
    os.makedirs(ARGS.work, exist_ok=True)
    cases = [c for c in CASES if not ARGS.only or ARGS.only in c["name"]]
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names), "case names must be unique"

    hl = None
    if not ARGS.no_python:
        try:
            import hospital_locator as hl
        except ImportError as e:
            raise SystemExit(f"cannot import hospital_locator ({e}): set PYTHONPATH, or pass --no-python")
    py_indexes = ({"gb": hl.Index(ARGS.gb_index), "tiny": hl.Index(ARGS.tiny_index),
                   "onspd": hl.Index(ARGS.onspd_index)} if hl else {})

    def can(case, shell):
        return shell not in case["na"] and not (shell == "python" and not hl)

    outcomes = {c["name"]: {} for c in cases}  # name -> shell -> outcome
    for c in cases:
        for shell, answer in (("cli", cli_shell), ("python", lambda c: python_shell(c, hl, py_indexes))):
            if can(c, shell):
                outcomes[c["name"]][shell] = answer(c)
    for name, o in batch_shell([c for c in cases if can(c, "batch")]).items():
        outcomes[name]["batch"] = o

    listing_problems = []
    for index_name, index in (("gb", ARGS.gb_index), ("tiny", ARGS.tiny_index), ("onspd", ARGS.onspd_index)):
        server = Server(index)  # one server at a time
        try:
            mine = [c for c in cases if c["index"] == index_name]
            for c in mine:
                if can(c, "get"):
                    outcomes[c["name"]]["get"] = get_shell(c, server.port)
            for name, o in bulk_shell([c for c in mine if can(c, "bulk")], server.port).items():
                outcomes[name]["bulk"] = o
            if not ARGS.only:
                listing_problems += listings(server.port, index, hl, py_indexes.get(index_name))
        finally:
            server.stop()

    failed = 0  # cases
    for c in cases:
        problems = judge(c, outcomes[c["name"]])
        failed += bool(problems)
        print(f"{'FAIL' if problems else 'ok  '} - {c['name']} [{c['index']}] {c['q']} -> {c['expect']}")
        for shell in SHELLS:
            if shell in c["na"] or (shell == "python" and not hl):
                print(f"       n/a {shell}: {c['na'].get(shell, 'the Python module is not built')}")
        if problems and c["why"]:
            print(f"       why: {c['why']}")
        for p in problems:
            print(f"    {p}")
    for p in listing_problems:
        print(f"FAIL - listing: {p}")
    print(f"\n{len(cases) - failed} of {len(cases)} cases pass in every shell; "
          f"{len(listing_problems)} listing differences")
    return 1 if failed or listing_problems else 0


if __name__ == "__main__":
    sys.exit(main())
