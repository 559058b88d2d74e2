#!/usr/bin/python3
"""The CLI as a user runs it: whole outputs, exit codes, and what build refuses.

Each case names what it proves. Whole-output cases compare with files in tests/data/cli/;
`--update` rewrites those files (then read the diff before committing it).
"""
import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ARGS = None
RESULTS = {"passed": 0, "failed": 0}


def run(*argv, ok_codes=None, env=None, timeout=120):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def check(name, condition, detail=""):
    if condition:
        RESULTS["passed"] += 1
        print(f"ok   - {name}")
    else:
        RESULTS["failed"] += 1
        print(f"FAIL - {name}\n{detail}")


def golden(name, actual):
    path = Path(ARGS.source) / "tests" / "data" / "cli" / name
    if ARGS.update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    expected = path.read_text() if path.exists() else "<missing golden file>"
    check(f"output of {name} is exactly as recorded", actual == expected,
          f"--- expected\n{expected}\n--- actual\n{actual}")


def cli(*argv, index=None):
    return run(ARGS.cli, "--index", index or ARGS.tiny_index, *argv)


def error_of(stderr):
    try:
        return json.loads(stderr)["error"]
    except (ValueError, KeyError):
        return {"code": None, "message": stderr}


def test_outputs():
    code, out, err = run(ARGS.cli, "--index", ARGS.gb_index, "nearest", "CH4", "7QP")
    check("GB: nearest CH4 7QP exits 0 and prints Chester first", code == 0 and
          out.splitlines()[2].split()[1] == "chester", out + err)
    golden("gb-nearest-CH4-7QP.txt", out)

    code, out, err = cli("nearest", "cm158eh", "--treatment", "kyphoplasty", "--format", "json")
    check("tiny: nearest --format json exits 0", code == 0, err)
    answer = json.loads(out)
    check("the JSON has the DESIGN.md shape",
          list(answer) == ["query", "treatment", "results"] and
          list(answer["results"][0]) == ["rank", "site", "phone", "distance", "bearing"] and
          answer["query"]["match"] == "unit" and answer["results"][0]["site"]["id"] == "brentwood",
          out)
    golden("tiny-nearest-cm158eh.json", out)

    code, out, err = cli("nearest", "CF11 0SN", "--treatment", "spinal-injection", "--format", "csv", "-k", "2")
    check("tiny: nearest --format csv exits 0", code == 0, err)
    golden("tiny-nearest-CF11-0SN-spinal.csv", out)

    code, out, err = cli("nearest", "--lat", "53.2", "--lon", "-2.9", "--treatment", "kyphoplasty",
                         "--max-miles", "50", "--format", "json")
    result = json.loads(out)
    check("a point query with --max-miles keeps only sites within it",
          code == 0 and result["query"]["match"] == "point" and
          [r["site"]["id"] for r in result["results"]] == ["chester"], out + err)

    code, out, err = cli("lookup", "CH1", "1ZZ", "--format", "json")
    golden("tiny-lookup-CH1-1ZZ.json", out)
    check("a quality-90 postcode is found, without coordinates", code == 0 and
          json.loads(out)["located"] is False, out + err)

    code, out, err = cli("lookup", "CM15 8ZZ")
    golden("tiny-lookup-CM15-8ZZ.txt", out)

    code, out, err = cli("reverse", "--lat", "53.18", "--lon", "-2.89", "-k", "2", "--format", "csv")
    golden("tiny-reverse.csv", out)

    code, out, err = cli("sites")
    golden("tiny-sites.txt", out)

    code, out, err = cli("info", "--verify", "--format", "json")
    info = json.loads(out)
    check("info --verify: counts, sources and checksum",
          code == 0 and info["counts"]["postcodes"] == 17 and info["counts"]["unlocated_quality_90"] == 1
          and [s["role"] for s in info["sources"]] ==
          ["listing:kyphoplasty", "listing:spinal-injection", "sites", "codepoint", "grid"]
          and len(info["checksum"]) == 16, out + err)


def test_errors():
    cases = [
        ("an invalid postcode", ["nearest", "SW1A 1A", "--treatment", "kyphoplasty"], 2, "invalid_postcode"),
        ("a typo is refused with a suggestion", ["nearest", "SWIA 1AA", "--treatment", "kyphoplasty"], 2,
         "invalid_postcode"),
        ("Northern Ireland", ["nearest", "BT1 1AA", "--treatment", "kyphoplasty"], 2, "not_covered"),
        ("a non-geographic code", ["lookup", "GIR 0AA"], 2, "non_geographic_postcode"),
        ("an unknown treatment", ["nearest", "CH4 7QP", "--treatment", "hips"], 2, "unknown_treatment"),
        ("two treatments and none named", ["nearest", "CH4 7QP"], 2, "invalid_parameter"),
        ("k of 0", ["nearest", "CH4 7QP", "--treatment", "kyphoplasty", "-k", "0"], 2, "invalid_parameter"),
        ("k of -1", ["nearest", "CH4 7QP", "--treatment", "kyphoplasty", "-k", "-1"], 2, "invalid_parameter"),
        ("swapped lat/lon", ["nearest", "--lat", "-3", "--lon", "53", "--treatment", "kyphoplasty"], 2,
         "invalid_parameter"),
        ("latitude out of range", ["reverse", "--lat", "95", "--lon", "0"], 2, "invalid_parameter"),
        ("a postcode not in the data", ["lookup", "TR98 1AA"], 2, "postcode_not_found"),
        # Numbers are read by the contract, as in every shell: its error, not a usage error.
        ("k not a number", ["nearest", "CH4 7QP", "--treatment", "kyphoplasty", "-k", "abc"], 2,
         "invalid_parameter"),
        ("k not whole", ["nearest", "CH4 7QP", "--treatment", "kyphoplasty", "-k", "2.5"], 2,
         "invalid_parameter"),
        ("neither a postcode nor a point", ["nearest", "--treatment", "kyphoplasty"], 2, "invalid_parameter"),
        ("a point far outside Great Britain", ["nearest", "--lat", "-33.9", "--lon", "151.2",
                                               "--treatment", "kyphoplasty"], 2, "not_covered"),
        # The treatment is checked before the postcode: batch must check it once, before any row.
        ("two treatments, none named, and a typo", ["nearest", "SWIA 1AA"], 2, "invalid_parameter"),
    ]
    for name, argv, want_code, want_error in cases:
        code, out, err = cli(*argv)
        check(f"error: {name} -> exit {want_code}, {want_error}",
              code == want_code and out == "" and error_of(err)["code"] == want_error,
              f"exit {code}\nstdout {out}\nstderr {err}")
    code, _, err = cli("nearest", "SWIA 1AA", "--treatment", "kyphoplasty")
    check("the typo message suggests the fix", "did you mean 'SW1A 1AA'?" in error_of(err)["message"]
          and error_of(err)["suggestion"] == "SW1A 1AA", err)

    for name, argv in [("an unknown option", ["nearest", "CH4 7QP", "--bogus"]),
                       ("no subcommand", []),
                       ("an unknown format", ["info", "--format", "xml"])]:
        code, out, err = cli(*argv)
        check(f"usage: {name} -> exit 1", code == 1, f"exit {code}\n{out}{err}")

    code, out, err = run(ARGS.cli, "--index", "/nonexistent.hlx", "info")
    check("a missing index -> exit 2, bad_index", code == 2 and error_of(err)["code"] == "bad_index", err)

    # Files that are not files: refused at once, saying what they are. A FIFO with no writer used
    # to block `info` forever in open(); 10 s bounds the run so a regression fails, not hangs.
    odd = Path(ARGS.work) / "not-files"
    shutil.rmtree(odd, ignore_errors=True)
    odd.mkdir(parents=True)
    fifo, directory = odd / "fifo.hlx", odd / "directory.hlx"
    os.mkfifo(fifo)
    directory.mkdir()
    for name, index, argv, what in [
            ("info --index FIFO", fifo, ["info"], "a FIFO (named pipe)"),
            ("nearest --index DIR", directory, ["nearest", "CH4 7QP", "--treatment", "kyphoplasty"],
             "a directory")]:
        try:
            code, out, err = run(ARGS.cli, "--index", index, *argv, timeout=10)
        except subprocess.TimeoutExpired:
            check(f"{name} -> refused at once", False, "still running after 10 s")
            continue
        check(f"{name} -> exit 2, bad_index, saying it is {what}",
              code == 2 and out == "" and error_of(err)["code"] == "bad_index" and
              error_of(err)["message"] == f"index '{index}' is {what}, not a regular file",
              f"exit {code}\n{out}{err}")
    shutil.rmtree(odd, ignore_errors=True)

    for sub in ["nearest", "lookup", "reverse", "info", "sites", "treatments", "build"]:
        code, out, err = run(ARGS.cli, sub, "--help")
        check(f"{sub} --help exits 0 and describes its options", code == 0 and "--" in out, out + err)


def build(data, out, *extra, listings=None):
    listings = listings or [f"kyphoplasty={ARGS.source}/data/listings/kyphoplasty.txt"]
    argv = [ARGS.cli, "build", "--quiet", "--data", data, "--sites", f"{ARGS.source}/data/sites.csv",
            "--out", out, *extra]
    for listing in listings:
        argv += ["--listing", listing]
    return run(*argv)


def test_build():
    work = Path(ARGS.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    a, b = work / "a.hlx", work / "b.hlx"
    code_a, out_a, err_a = build(ARGS.tiny_data, a)
    code_b, _, _ = build(ARGS.tiny_data, b)
    check("build reports what it located", code_a == 0 and "chester: Nuffield Health The Grosvenor "
          "Hospital Chester, CH4 7QP (located by directory, quality 10)" in out_a, out_a + err_a)
    check("the same inputs give the same bytes", code_a == 0 and code_b == 0 and
          filecmp.cmp(a, b, shallow=False))

    # No grid: refused before anything is written.
    no_grid = work / "no-grid"
    no_grid.mkdir()
    shutil.copy(Path(ARGS.tiny_data) / "codepo_gb.zip", no_grid)
    out_file = work / "no-grid.hlx"
    code, out, err = run(ARGS.cli, "build", "--quiet", "--data", no_grid, "--out", out_file)
    check("no data dir with the grid -> exit 2 naming the grid, no output",
          code == 2 and "uk_os_OSTN15_NTv2_OSGBtoETRS.tif" in error_of(err)["message"] and
          not out_file.exists(), err)
    code, out, err = run(ARGS.cli, "build", "--quiet", "--data", work / "nowhere", "--out", out_file)
    check("a data directory without the datasets -> exit 2 naming both files",
          code == 2 and error_of(err)["message"] == f"--data {work}/nowhere does not hold codepo_gb.zip and "
          "uk_os_OSTN15_NTv2_OSGBtoETRS.tif" and not out_file.exists(), err)
    fake_grid = work / "fake-grid"
    fake_grid.mkdir()
    shutil.copy(Path(ARGS.tiny_data) / "codepo_gb.zip", fake_grid)
    (fake_grid / "uk_os_OSTN15_NTv2_OSGBtoETRS.tif").write_bytes(b"II*\0 not really a grid")
    out_file = work / "fake-grid.hlx"
    code, out, err = build(fake_grid, out_file)
    check("a damaged grid -> exit 2, PROJ's reason, no output",
          code == 2 and "OSTN15" in error_of(err)["message"] and not out_file.exists(), err)

    def data_with(name, member, old, new):
        """A data directory whose Code-Point zip has `old` replaced by `new` in one member."""
        data_dir = work / name
        data_dir.mkdir()
        os.symlink(Path(ARGS.tiny_data) / "uk_os_OSTN15_NTv2_OSGBtoETRS.tif", data_dir / "uk_os_OSTN15_NTv2_OSGBtoETRS.tif")
        with zipfile.ZipFile(Path(ARGS.tiny_data) / "codepo_gb.zip") as src, \
                zipfile.ZipFile(data_dir / "codepo_gb.zip", "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == member:
                    assert old in data, (member, old)
                    data = data.replace(old, new)
                dst.writestr(item, data)
        return data_dir

    # A Code-Point row that is malformed: the member file and line are named.
    bad_data = data_with("bad-row", "Data/CSV/ch.csv", b'"CH1 1AB",10,', b'"CH1 1AB",1O,')
    out_file = work / "bad-row.hlx"
    code, out, err = build(bad_data, out_file)
    check("a malformed Code-Point row -> exit 2 naming file, line and field, no output",
          code == 2 and error_of(err)["message"] == "codepo_gb.zip: Data/CSV/ch.csv line 3: field PQ "
          "(positional quality) '1O' is not one of 10, 20, 30, 40, 50, 60, 90" and not out_file.exists(), err)

    # An admin district code that is not a GSS code is refused the same way.
    bad_dc = data_with("bad-dc", "Data/CSV/cm.csv", b'"CM15 8AB",20,561000,195000,"E92000001","","","","E07000068"',
                       b'"CM15 8AB",20,561000,195000,"E92000001","","","","Brentwood"')
    out_file = work / "bad-dc.hlx"
    code, out, err = build(bad_dc, out_file)
    check("an admin district code that is not a GSS code -> exit 2 naming file, line and field",
          code == 2 and error_of(err)["message"] == "codepo_gb.zip: Data/CSV/cm.csv line 2: field DC "
          "(admin district code) 'Brentwood' is not a GSS code (a capital letter and 8 digits, like E07000068)"
          and not out_file.exists(), err)

    # A block that matches nothing: the build stops naming it, or skips it when asked.
    listing = work / "extra.txt"
    text = (Path(ARGS.source) / "data/listings/kyphoplasty.txt").read_text()
    listing.write_text(text.replace("Get in touch", "Nowhere Lane\n\n01632 960123\n\nGet in touch"))
    out_file = work / "unmatched.hlx"
    code, out, err = build(ARGS.tiny_data, out_file, listings=[f"kyphoplasty={listing}"])
    message = error_of(err)["message"]
    check("an unmatched block without a postcode stops the build, naming the block",
          code == 2 and message.startswith("extra.txt block at line 86: Nowhere Lane / 01632 960123: has no "
                                           "postcode and matches no site") and not out_file.exists(), err)
    code, out, err = build(ARGS.tiny_data, out_file, "--skip-unmatched", listings=[f"kyphoplasty={listing}"])
    check("--skip-unmatched builds and reports the skipped block",
          code == 0 and "skipped: extra.txt block at line 86: Nowhere Lane" in out and out_file.exists(),
          out + err)

    code, out, err = build(ARGS.tiny_data, work / "missing-dir" / "x.hlx")
    check("an output directory that does not exist -> exit 2, io_error",
          code == 2 and error_of(err)["code"] == "io_error", err)
    code, out, err = build(ARGS.tiny_data, work / "x.hlx", listings=[f"kyphoplasty={work}/nope.txt"])
    check("a listing that cannot be read -> exit 2 naming it",
          code == 2 and f"{work}/nope.txt" in error_of(err)["message"], err)
    code, out, err = build(ARGS.tiny_data, work / "x.hlx", listings=["Bad Name=x.txt"])
    check("a treatment name that is not a slug -> exit 2", code == 2 and "Bad Name" in err, err)
    leftovers = [p.name for p in work.iterdir() if ".tmp." in p.name]
    check("no temporary file is left behind by any failed build", leftovers == [], str(leftovers))


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for name in ["cli", "builder", "data", "tiny-data", "tiny-index", "gb-index", "source", "work"]:
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--update", action="store_true")
    ARGS = parser.parse_args()
    test_outputs()
    test_errors()
    test_build()
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
