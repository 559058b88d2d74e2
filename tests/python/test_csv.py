"""NearestBatch.to_csv: the batch tool's CSV, byte for byte, from the module's arrays; the key
columns; a file that appears whole or not at all."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hospital_locator as hl

# Every row status, quoting (a comma and a quote in what was asked), case and spacing.
MIXED = ["CH4 7QP", "nonsense", "BT1 1AA", "CM15 8ZZ", "W99 1AA", "g12 0pj", "CM15 8", "CM15",
         "SW1A1AA", 'A,B "C"', "GIR 0AA", "ZE1 0AA", "TR21 0HE"]


def batch_cli(cli, work, postcodes, *args):
    """`hospital-locator batch` over a one-column CSV of `postcodes`: its output's bytes."""
    inp, out = work / "in.csv", work / "cli.csv"
    with open(inp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["postcode"])
        w.writerows([p] for p in postcodes)
    code, _, err = cli.run("batch", "--in", str(inp), "--out", str(out), "--force", "--quiet", *args)
    assert code == 0, err
    return out.read_bytes()


def test_the_file_is_the_batch_tools_byte_for_byte(gb, cli, work, all_postcodes):
    rng = np.random.default_rng(20261128)
    postcodes = MIXED + list(rng.choice(all_postcodes, 3000))
    expected = batch_cli(cli, work, postcodes, "--k", "3")
    batch = gb.nearest_many(postcodes, k=3)
    assert batch.to_csv(work / "py.csv") == len(postcodes)
    assert (work / "py.csv").read_bytes() == expected
    lines = expected.decode().splitlines()
    assert len(lines) == len(postcodes) + 1
    assert lines[10].startswith('"A,B ""C""",invalid,,,,')  # quoted as the tool quotes
    statuses = {row["status"] for row in csv.DictReader(io.StringIO(expected.decode()))}
    assert statuses == {"ok", "approximate", "invalid", "not_found", "not_covered"}


@pytest.mark.parametrize("args, options", [
    (["--k", "12", "--max-miles", "95"], {"k": 12, "max_miles": 95}),  # empty site slots
    (["--k", "1"], {"k": 1}),
])
def test_other_k_and_limits_match_the_batch_tool(gb, cli, work, args, options):
    expected = batch_cli(cli, work, MIXED, *args)
    gb.nearest_many(MIXED, **options).to_csv(str(work / "py.csv"), threads=1)
    assert (work / "py.csv").read_bytes() == expected


def test_each_treatment_prints_its_own_phone_as_the_batch_tool_does(tiny, tiny_cli, work):
    # Each treatment's page gives its own numbers (Cardiff Bay's spinal injections: the provider's).
    postcodes = ["CH4 7QP", "CF10 4SR", "TS20 1PX", "GL51 6SY", "nonsense"]
    for treatment in ("kyphoplasty", "spinal-injection"):
        expected = batch_cli(tiny_cli, work, postcodes, "--k", "3", "--treatment", treatment)
        tiny.nearest_many(postcodes, k=3, treatment=treatment).to_csv(work / "py.csv")
        assert (work / "py.csv").read_bytes() == expected, treatment
    assert tiny.nearest_many(["CH4 7QP"], treatment="spinal-injection").ids()[0][0] == "chester"


def test_a_batch_of_points_has_no_key_column_unless_given(gb, work):
    batch = gb.nearest_many(lat=np.array([53.2, 95.0]), lon=np.array([-2.9, 0.0]), k=1)
    batch.to_csv(work / "points.csv")
    text = (work / "points.csv").read_text()
    assert text.splitlines()[0] == ("status,match,lat,lon,site_1_id,site_1_name,site_1_phone,"
                                    "site_1_metres,site_1_miles,error_code,error_message")
    assert text.splitlines()[1].startswith("ok,point,53.2000000,-2.9000000,chester,")
    assert text.splitlines()[2].startswith("invalid,,,,,,,,,invalid_parameter,")
    ids = {"id": ["a", "b,c"], "status": ["x", "y"]}  # "status" clashes: renamed as the tool does
    batch.to_csv(work / "points.csv", keys=ids)
    lines = (work / "points.csv").read_text().splitlines()
    assert lines[0].startswith("id,input_status,status,match,")
    assert lines[1].startswith("a,x,ok,point,") and lines[2].startswith('"b,c",y,invalid,')
    frame = pd.DataFrame(ids)
    batch.to_csv(work / "frame.csv", keys=frame)
    assert (work / "frame.csv").read_text().splitlines() == lines


@pytest.mark.parametrize("keys, error, message", [
    ({"id": ["a"]}, ValueError, r"keys\['id'\] has 1 rows, the batch 2"),
    ({7: ["a", "b"]}, TypeError, "keys: a column name must be a str, not int"),
    ({"id": [1, 2]}, TypeError, r"keys\['id'\]\[0\] is int, not str"),
    (["a", "b"], TypeError, "keys must be None, a dict or a pandas DataFrame of str columns, not list"),
])
def test_bad_keys_are_refused_before_anything_is_written(gb, work, keys, error, message):
    batch = gb.nearest_many(["CH4 7QP", "G12 0PJ"])
    with pytest.raises(error, match=message):
        batch.to_csv(work / "out.csv", keys=keys)
    assert os.listdir(work) == []


def test_a_changed_batch_is_refused(gb, tiny, work):
    batch = gb.nearest_many(["CH4 7QP", "G12 0PJ"])
    batch.site[1, 0] = 999
    with pytest.raises(ValueError, match="site holds 999, not a site offering kyphoplasty: was the batch changed"):
        batch.to_csv(work / "out.csv")
    batch = tiny.nearest_many(["CH4 7QP"], treatment="spinal-injection")
    batch.site[0, 0] = 0  # Brentwood offers kyphoplasty only
    with pytest.raises(ValueError, match="site holds 0, not a site offering spinal-injection"):
        batch.to_csv(work / "out.csv")
    assert os.listdir(work) == []


def test_an_unwritable_place_raises_and_leaves_nothing(gb, work):
    batch = gb.nearest_many(["CH4 7QP"])
    with pytest.raises(hl.IndexIOError, match=f"cannot write {work}/no/such/dir/out.csv: No such file"):
        batch.to_csv(work / "no" / "such" / "dir" / "out.csv")
    (work / "dir.csv").mkdir()
    with pytest.raises(hl.IndexIOError, match="Is a directory"):
        batch.to_csv(work / "dir.csv")
    assert sorted(os.listdir(work)) == ["dir.csv"] and os.listdir(work / "dir.csv") == []


def test_a_write_that_fails_part_way_keeps_the_old_file_and_leaves_no_other(gb_path, work):
    # A file-size limit makes write() fail with EFBIG after 64 KiB, as a full disk would.
    target = work / "report.csv"
    target.write_text("the previous report\n")
    script = f"""
import resource, signal
import hospital_locator as hl
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
batch = hl.Index({gb_path!r}).nearest_many(hl.Index({gb_path!r}).postcodes()[:5000])
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
try:
    batch.to_csv({str(target)!r})
except hl.IndexIOError as e:
    print(e)
"""
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"cannot write {target}: File too large\n"
    assert target.read_text() == "the previous report\n"
    assert os.listdir(work) == ["report.csv"]


def test_the_new_file_has_the_usual_permissions(gb, work):
    old = os.umask(0o027)
    try:
        gb.nearest_many(["CH4 7QP"]).to_csv(work / "out.csv")
    finally:
        os.umask(old)
    assert (work / "out.csv").stat().st_mode & 0o777 == 0o640
    assert Path(work / "out.csv").read_text().count("\n") == 2
