"""Exceptions mirror the engine's codes, with the CLI's messages; a refused index raises
BadIndex."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hospital_locator as hl
from hospital_locator import _core

# (query, exception class, code): each message is compared with the CLI's.
BAD_POSTCODES = [
    ("SW1A 1A", hl.InvalidPostcode, "invalid_postcode"),
    ("SWIA 1AA", hl.InvalidPostcode, "invalid_postcode"),  # with a suggestion: SW1A 1AA
    ("SO16 0Y", hl.InvalidPostcode, "invalid_postcode"),
    ("SW1A 1AA extra", hl.InvalidPostcode, "invalid_postcode"),
    ("W99 1AA", hl.PostcodeNotFound, "postcode_not_found"),
    ("BT1 1AA", hl.NotCovered, "not_covered"),
    ("JE2 3AB", hl.NotCovered, "not_covered"),
    ("GIR 0AA", hl.NonGeographicPostcode, "non_geographic_postcode"),
    ("ZZ99 9ZZ", hl.NonGeographicPostcode, "non_geographic_postcode"),
]


@pytest.mark.parametrize("query,cls,code", BAD_POSTCODES)
def test_a_bad_postcode_raises_its_class_with_the_cli_message(gb, cli, query, cls, code):
    with pytest.raises(cls) as e:
        gb.nearest(query)
    expected = cli.error("nearest", query)
    assert e.value.code == code == expected["code"]
    assert str(e.value) == e.value.message == expected["message"]
    assert e.value.status == expected["status"]
    assert e.value.to_dict() == {"error": expected}
    assert isinstance(e.value, hl.Error)
    with pytest.raises(cls) as e2:
        gb.lookup(query)
    assert e2.value.message == cli.error("lookup", query)["message"]


def test_builtin_bases_let_callers_catch_what_they_expect(gb):
    with pytest.raises(ValueError):
        gb.nearest("SW1A 1A")
    with pytest.raises(LookupError):
        gb.nearest("W99 1AA")
    with pytest.raises(ValueError):
        gb.nearest("CH4 7QP", k=0)
    with pytest.raises(LookupError):
        gb.site("nowhere")


@pytest.mark.parametrize("kwargs,argv,cls", [
    ({"postcode": "CH4 7QP", "k": 0}, ["CH4 7QP", "-k", "0"], hl.InvalidParameter),
    ({"postcode": "CH4 7QP", "k": 1001}, ["CH4 7QP", "-k", "1001"], hl.InvalidParameter),
    ({"postcode": "CH4 7QP", "k": -1}, ["CH4 7QP", "-k", "-1"], hl.InvalidParameter),
    ({"lat": 91.0, "lon": 0.0}, ["--lat", "91", "--lon", "0"], hl.InvalidParameter),
    ({"lat": -2.0, "lon": 53.0}, ["--lat", "-2", "--lon", "53"], hl.InvalidParameter),
    ({"postcode": "CH4 7QP", "max_km": -1.0}, ["CH4 7QP", "--max-km", "-1"], hl.InvalidParameter),
    ({"postcode": "CH4 7QP", "treatment": "hips"}, ["CH4 7QP", "--treatment", "hips"],
     hl.UnknownTreatment),
])
def test_a_bad_parameter_raises_with_the_cli_message(gb, cli, kwargs, argv, cls):
    with pytest.raises(cls) as e:
        gb.nearest(**kwargs)
    expected = cli.error("nearest", *argv)
    assert (e.value.code, e.value.message) == (expected["code"], expected["message"])


def test_reverse_and_unknown_site_raise(gb, cli):
    with pytest.raises(hl.InvalidParameter) as e:
        gb.reverse(52.0, 1.0, k=0)
    assert e.value.message == cli.error("reverse", "--lat", "52", "--lon", "1", "-k", "0")["message"]
    with pytest.raises(hl.InvalidParameter) as e:
        gb.reverse(float("nan"), 1.0)
    assert e.value.message == "lat and lon must be finite numbers"
    with pytest.raises(hl.UnknownSite) as e:
        gb.site("nowhere")
    assert e.value.code == "unknown_site"


@pytest.mark.parametrize("kwargs,argv", [
    ({"postcode": "CH4 7QP", "lat": 53.0, "lon": -2.0}, ["CH4 7QP", "--lat", "53", "--lon", "-2"]),
    ({"lat": 53.0}, ["--lat", "53"]),
    ({"lon": -2.0}, ["--lon", "-2"]),
    ({}, []),
    ({"postcode": "CH4 7QP", "max_miles": 1, "max_km": 1}, ["CH4 7QP", "--max-miles", "1", "--max-km", "1"]),
])
def test_postcode_and_point_together_or_neither_are_refused_as_the_cli_refuses_them(gb, cli, kwargs, argv):
    with pytest.raises(hl.InvalidParameter) as e:
        gb.nearest(**kwargs)
    assert e.value.message == cli.error("nearest", *argv)["message"]


def test_a_point_far_outside_great_britain_is_not_covered(gb, cli):
    with pytest.raises(hl.NotCovered) as e:
        gb.nearest(lat=-33.9, lon=151.2)
    assert e.value.message == cli.error("nearest", "--lat", "-33.9", "--lon", "151.2")["message"]
    with pytest.raises(hl.NotCovered):
        gb.reverse(-33.9, 151.2)


# Numbers of any Python kind go through the contract's validation: a wrong one is
# InvalidParameter with the CLI's message, never TypeError or OverflowError from the binding.
@pytest.mark.parametrize("kwargs,argv", [
    ({"postcode": "CH4 7QP", "k": 10**30}, ["CH4 7QP", "-k", str(10**30)]),
    ({"postcode": "CH4 7QP", "k": 1e30}, ["CH4 7QP", "-k", "1e30"]),
    ({"postcode": "CH4 7QP", "k": 2.5}, ["CH4 7QP", "-k", "2.5"]),
    ({"postcode": "CH4 7QP", "k": 2**32 + 1}, ["CH4 7QP", "-k", str(2**32 + 1)]),
    ({"postcode": "CH4 7QP", "k": float("nan")}, ["CH4 7QP", "-k", "nan"]),
    ({"postcode": "CH4 7QP", "max_miles": float("inf")}, ["CH4 7QP", "--max-miles", "inf"]),
    ({"lat": 1e300, "lon": 0}, ["--lat", "1e300", "--lon", "0"]),
])
def test_a_number_out_of_range_raises_the_cli_message(gb, cli, kwargs, argv):
    with pytest.raises(hl.InvalidParameter) as e:
        gb.nearest(**kwargs)
    assert e.value.message == cli.error("nearest", *argv)["message"]


@pytest.mark.parametrize("kwargs,message", [
    ({"postcode": "CH4 7QP", "k": True}, "k must be a number (got True)"),
    ({"lat": True, "lon": -2.0}, "lat must be a number (got True)"),
    ({"lat": 53.0, "lon": False}, "lon must be a number (got False)"),
    ({"postcode": "CH4 7QP", "max_km": True}, "max_km must be a number (got True)"),
    ({"postcode": "CH4 7QP", "k": "3"}, "k must be a number (got '3')"),
    ({"postcode": "CH4 7QP", "k": [3]}, "k must be a number (got [3])"),
    ({"postcode": "CH4 7QP", "k": 1j}, "k must be a number (got 1j)"),
])
def test_a_value_that_is_not_a_number_is_an_invalid_parameter(gb, kwargs, message):
    with pytest.raises(hl.InvalidParameter) as e:
        gb.nearest(**kwargs)
    assert e.value.message == message


def test_an_int_too_large_even_for_a_float_is_an_invalid_parameter(gb):
    with pytest.raises(hl.InvalidParameter) as e:
        gb.nearest("CH4 7QP", k=10**400)
    assert e.value.message == "k must be a number (got an integer too large for a float: 1329 bits)"
    with pytest.raises(hl.InvalidParameter, match="^lat must be a number"):
        gb.reverse(-10**400, 0.0)


def test_any_kind_of_python_number_is_accepted(gb):
    import fractions

    import numpy as np
    expected = [n.site.id for n in gb.nearest(lat=53.2, lon=-2.9, k=2)]
    for lat, lon, k in [(53.2, -2.9, 2.0), (np.float64(53.2), np.float64(-2.9), np.int64(2)),
                        (fractions.Fraction(532, 10), -2.9, np.uint8(2))]:
        assert [n.site.id for n in gb.nearest(lat=lat, lon=lon, k=k)] == expected
    with pytest.raises(hl.InvalidParameter, match=r"^k must be a number \(got "):
        gb.nearest(lat=53.2, lon=-2.9, k=np.bool_(True))
    assert len(gb.reverse(53.2, -2.9, k=np.int32(2))) == 2


def test_reverse_numbers_are_checked_as_the_cli_checks_them(gb, cli):
    for k, text in [(10**30, str(10**30)), (2.5, "2.5")]:
        with pytest.raises(hl.InvalidParameter) as e:
            gb.reverse(52.0, -1.0, k=k)
        assert e.value.message == cli.error("reverse", "--lat", "52", "--lon", "-1", "-k", text)["message"]
    with pytest.raises(hl.InvalidParameter) as e:
        gb.reverse(True, -1.0)
    assert e.value.message == "lat must be a number (got True)"


def test_python_codes_are_the_engines_codes():
    # _ERROR_CODES comes from engine error_code_name(); the Python classes must agree.
    assert _core._ERROR_CODES == {s.value: s.name.lower() for s in hl.Status if s.value}
    for number, name in _core._ERROR_CODES.items():
        cls = hl._errors._CLASSES[name]
        assert (cls.code, cls.number) == (name, number)


def _refused(path, **kwargs):
    with pytest.raises(hl.BadIndex) as e:
        hl.Index(path, **kwargs)
    assert e.value.code == "bad_index" and e.value.number == 7
    return e.value.message


def test_a_missing_file_is_a_bad_index(work):
    assert str(work / "nope.hlx") in _refused(work / "nope.hlx")


def test_a_truncated_index_is_refused(tiny_path, work):
    data = open(tiny_path, "rb").read()
    for size in [0, 10, len(data) // 2, len(data) - 1]:
        bad = work / f"cut-{size}.hlx"
        bad.write_bytes(data[:size])
        assert _refused(str(bad))


def test_a_file_that_is_not_an_index_is_refused(work):
    bad = work / "text.hlx"
    bad.write_text("postcode,lat,lon\n" * 1000)
    assert _refused(str(bad))


def test_a_corrupt_payload_is_refused_when_verified(tiny_path, work):
    data = bytearray(open(tiny_path, "rb").read())
    data[len(data) - 100] ^= 0xFF  # in the payload, past every header check
    bad = work / "flipped.hlx"
    bad.write_bytes(bytes(data))
    message = _refused(str(bad), verify=True)
    assert "checksum" in message
    # Opened without checking, verify() finds it too.
    try:
        index = hl.Index(str(bad))
    except hl.BadIndex:
        return  # the flip hit a structure the open checks: refused either way
    with pytest.raises(hl.BadIndex, match="checksum"):
        index.verify()


def test_a_good_index_verifies(tiny_path, work):
    copy = work / "copy.hlx"
    shutil.copyfile(tiny_path, copy)
    hl.Index(str(copy), verify=True).verify()
    hl.Index(copy)  # a pathlib.Path is accepted


def test_an_error_can_be_made_and_pickled_in_python():
    import pickle
    e = hl.InvalidPostcode("'X' is not a valid UK postcode")
    assert (e.code, e.number, e.status, e.suggestion) == ("invalid_postcode", 1, 400, None)
    # multiprocessing pickles exceptions raised in workers
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is hl.InvalidPostcode and back.message == e.message


def test_a_suggestion_travels_with_the_error(gb):
    with pytest.raises(hl.InvalidPostcode) as e:
        gb.nearest("SWIA 1AA")
    assert e.value.suggestion == "SW1A 1AA"
    assert e.value.message.endswith("; did you mean 'SW1A 1AA'?")
    assert e.value.to_dict()["error"]["suggestion"] == "SW1A 1AA"
    import pickle
    assert pickle.loads(pickle.dumps(e.value)).suggestion == "SW1A 1AA"


# ---- paths that are not text, files that are not files ---------------------------------------

def test_an_undecodable_path_raises_bad_index_with_the_path_escaped(work):
    # b"\xff" is not UTF-8: the message used to be decoded strictly, so UnicodeDecodeError
    # came out instead of the refusal.
    raw = os.fsencode(work) + b"/\xff.hlx"
    shown = f"cannot open index '{work}/\\xff.hlx': No such file or directory"
    for given in (raw, os.fsdecode(raw), Path(os.fsdecode(raw))):
        with pytest.raises(hl.BadIndex) as e:
            hl.Index(given)
        assert e.value.message == shown, given


def test_a_str_that_no_file_can_be_named_raises_bad_index(work):
    with pytest.raises(hl.BadIndex) as e:
        hl.Index(f"{work}/\ud800.hlx")
    assert e.value.message == (f"cannot open index '{work}/\\ud800.hlx': the path cannot be "
                               "encoded in the file-system encoding")
    with pytest.raises(hl.BadIndex, match="NUL byte"):
        hl.Index(f"{work}/a\0b.hlx")
    with pytest.raises(TypeError):
        hl.Index(7)


def test_an_index_at_an_undecodable_path_opens_and_keeps_its_path(tiny_path, work):
    raw = os.fsencode(work) + b"/\xff.hlx"
    shutil.copyfile(tiny_path, raw)
    for given in (raw, os.fsdecode(raw)):
        index = hl.Index(given)
        assert index.path == os.fsdecode(raw)
        assert os.fsencode(index.path) == raw
        assert "\\udcff.hlx" in repr(index)


def _open_in_a_child(path):
    """Index(path) in a fresh interpreter, bounded by 10 s: a FIFO used to block open() until a
    writer came, so a regression must fail here, not hang the test run."""
    code = ("import json, sys, hospital_locator as hl\n"
            "try:\n"
            "    hl.Index(sys.argv[1])\n"
            "    print(json.dumps(['opened', '']))\n"
            "except hl.Error as e:\n"
            "    print(json.dumps([type(e).__name__, e.message]))\n")
    try:
        p = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                           timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Index({path!r}) was still blocked after 10 s")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_a_fifo_or_a_directory_is_refused_at_once(work):
    fifo, directory = work / "fifo.hlx", work / "directory.hlx"
    os.mkfifo(fifo)
    directory.mkdir()
    assert _open_in_a_child(fifo) == [
        "BadIndex", f"index '{fifo}' is a FIFO (named pipe), not a regular file"]
    assert _open_in_a_child(directory) == [
        "BadIndex", f"index '{directory}' is a directory, not a regular file"]
