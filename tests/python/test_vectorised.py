"""nearest_many, lookup_many, reverse_many: inputs of every accepted kind, bad rows as status
codes, and clear TypeError/ValueError for wrong dtypes and shapes."""

import math

import numpy as np
import pandas as pd
import pytest

import hospital_locator as hl

MIXED = ["CH4 7QP", "nonsense", None, "BT1 1AA", "CM15 8ZZ", "W99 1AA", "GIR 0AA", "g12 0pj",
         "CM15", "", float("nan")]
MIXED_STATUS = [hl.Status.OK, hl.Status.INVALID_POSTCODE, hl.Status.INVALID_POSTCODE,
                hl.Status.NOT_COVERED, hl.Status.OK, hl.Status.POSTCODE_NOT_FOUND,
                hl.Status.NON_GEOGRAPHIC_POSTCODE, hl.Status.OK, hl.Status.OK,
                hl.Status.INVALID_POSTCODE, hl.Status.INVALID_POSTCODE]


def scalar_or_error(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except hl.Error as e:
        return e


def test_bad_rows_are_status_codes_with_the_scalar_message(gb):
    batch = gb.nearest_many(MIXED, k=2)
    assert len(batch) == len(MIXED)
    assert batch.status.dtype == np.uint8 and batch.status.shape == (len(MIXED),)
    assert batch.site.dtype == np.int32 and batch.site.shape == (len(MIXED), 2)
    assert batch.distance_m.dtype == np.float64 and batch.distance_m.shape == (len(MIXED), 2)
    assert list(batch.status) == [int(s) for s in MIXED_STATUS]
    assert batch.failed == 7 and batch.approximate == 2
    assert list(batch.match_names()) == ["unit", None, None, None, "sector", None, None, "unit",
                                         "district", None, None]
    assert list(batch.status_names())[:4] == ["ok", "invalid_postcode", "invalid_postcode",
                                              "not_covered"]
    for row, text in enumerate(MIXED):
        if batch.status[row] == 0:
            assert row not in batch.messages
            continue
        assert (batch.site[row] == -1).all() and np.isnan(batch.distance_m[row]).all()
        assert math.isnan(batch.lat[row]) and batch.match[row] == 255
        if isinstance(text, str):
            e = scalar_or_error(gb.nearest, text)
            assert isinstance(e, hl.Error) and e.number == batch.status[row]
            assert batch.messages[row] == e.message
    assert batch.site_ids[batch.site[0, 0]] == "chester"
    assert list(batch.ids()[0]) == ["chester", "cheltenham"]
    assert list(batch.ids()[1]) == ["", ""]
    assert repr(batch) == "<NearestBatch kyphoplasty, k=2, 11 rows: 4 answered, 7 failed, 2 approximate>"


def same_batch(a, b):
    for name in ["site", "distance_m", "bearing_deg", "status", "match", "lat", "lon"]:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.messages == b.messages


def test_every_kind_of_string_column_gives_the_same_answers(gb, all_postcodes):
    texts = list(all_postcodes[::50000]) + ["sw1a1aa", " CH4  7QP ", "CM15 8", "nonsense", "Ω1 1AA"]
    reference = gb.nearest_many(np.array(texts))  # '<U' array: read in place
    assert reference.status[-1] == hl.Status.INVALID_POSTCODE
    same_batch(reference, gb.nearest_many(texts))
    same_batch(reference, gb.nearest_many(tuple(texts)))
    same_batch(reference, gb.nearest_many(np.array(texts, dtype=object)))
    same_batch(reference, gb.nearest_many(pd.Series(texts)))
    same_batch(reference, gb.nearest_many(pd.Series(texts, dtype="string")))
    ascii_texts = texts[:-1]
    same_batch(gb.nearest_many(ascii_texts), gb.nearest_many(np.array(ascii_texts, dtype="S")))
    same_batch(gb.nearest_many(ascii_texts), gb.nearest_many([t.encode() for t in ascii_texts]))
    # A strided view and a big-endian array are read as they are.
    doubled = np.array([t for t in texts for _ in range(2)])
    same_batch(reference, gb.nearest_many(doubled[::2]))
    same_batch(reference, gb.nearest_many(np.array(texts).astype(">U12")))


def test_missing_values_are_invalid_rows_not_errors(gb):
    batch = gb.nearest_many(pd.Series(["CH4 7QP", None, pd.NA, float("nan")], dtype=object))
    assert list(batch.status) == [0, 1, 1, 1]


def test_points_answer_as_the_scalar_call(gb):
    lat = np.array([51.5, 53.176358, 91.0, -2.0, 57.0, np.nan, -33.9])
    lon = np.array([-0.12, -2.895263, 0.0, 53.0, -4.0, 0.0, 151.2])
    batch = gb.nearest_many(lat=lat, lon=lon, k=4)
    assert list(batch.status[5:]) == [hl.Status.INVALID_PARAMETER, hl.Status.NOT_COVERED]
    for row in range(len(lat)):
        answer = scalar_or_error(gb.nearest, lat=float(lat[row]), lon=float(lon[row]), k=4)
        if isinstance(answer, hl.Error):
            assert batch.status[row] == answer.number
            assert batch.messages[row] == answer.message
        else:
            assert batch.status[row] == 0 and batch.match[row] == hl.Match.POINT
            assert list(batch.site[row]) == [n.site.index for n in answer]
            assert list(batch.distance_m[row]) == [n.distance_m for n in answer]
    # Integer and float32 degrees are accepted (converted to float64), lists too.
    same_batch(gb.nearest_many(lat=[52, 53], lon=[-1, -2]),
               gb.nearest_many(lat=np.array([52.0, 53.0]), lon=np.array([-1.0, -2.0])))


def test_k_beyond_the_sites_and_a_distance_limit_fill_with_minus_one_and_nan(gb):
    batch = gb.nearest_many(["CH4 7QP", "G12 0PJ"], k=12, max_miles=95)
    assert list(batch.site[0]) == [3, 2] + [-1] * 10  # chester, cheltenham (94.5 mi)
    assert np.isnan(batch.distance_m[0, 2:]).all()
    assert batch.site[1, 0] == 4 and (batch.site[1, 1:] == -1).all()  # glasgow alone


def test_a_row_with_no_site_within_the_limit_keeps_its_match_and_position(gb):
    batch = gb.nearest_many(["ZE1 0AA", "CM15 8"], k=2, max_miles=95)  # Lerwick; a sector
    answers = [gb.nearest(p, k=2, max_miles=95) for p in ["ZE1 0AA", "CM15 8"]]
    assert len(answers[0]) == 0 and len(answers[1]) == 2
    assert list(batch.status) == [0, 0] and list(batch.match_names()) == ["unit", "sector"]
    assert [(batch.lat[i], batch.lon[i]) for i in range(2)] == \
        [(a.query.lat, a.query.lon) for a in answers]
    assert (batch.site[0] == -1).all() and np.isnan(batch.distance_m[0]).all()


def test_empty_input_gives_empty_arrays(gb):
    batch = gb.nearest_many([], k=3)
    assert len(batch) == 0 and batch.site.shape == (0, 3) and batch.status.shape == (0,)
    assert gb.lookup_many(np.array([], dtype="<U8")).postcode.shape == (0,)
    assert gb.reverse_many(np.array([]), np.array([]), k=2).postcode.shape == (0, 2)


@pytest.mark.parametrize("value,error,message", [
    (np.array([1, 2, 3]), TypeError, "postcodes must be strings: got a NumPy array of dtype int64"),
    (np.array([1.5]), TypeError, "postcodes must be strings: got a NumPy array of dtype float64"),
    (np.array([["CH4 7QP"], ["G12 0PJ"]]), ValueError,
     "postcodes must be a one-dimensional array (got shape (2, 1))"),
    ("CH4 7QP", TypeError, "postcodes must be a sequence or array of postcodes, not a single str"),
    (["CH4 7QP", 7], TypeError, "postcodes[1] is int, not str"),
    (42, TypeError, "postcodes must be a sequence or NumPy array of str, not int"),
])
def test_wrong_postcode_columns_raise_clearly(gb, value, error, message):
    with pytest.raises(error) as e:
        gb.nearest_many(value)
    assert str(e.value).startswith(message)
    with pytest.raises(error):
        gb.lookup_many(value)


@pytest.mark.parametrize("lat,lon,error,message", [
    (np.array(["51.5"]), np.array([0.0]), TypeError, "lat must be numbers (WGS84 degrees): got dtype <U4"),
    (np.array([True]), np.array([0.0]), TypeError, "lat must be numbers (WGS84 degrees): got dtype bool"),
    (np.array([51.5]), np.array([[0.0]]), ValueError, "lon must be a one-dimensional array (got shape (1, 1))"),
    (np.array([51.5, 52.0]), np.array([0.0]), ValueError, "lat and lon differ in length (2 and 1)"),
])
def test_wrong_point_columns_raise_clearly(gb, lat, lon, error, message):
    with pytest.raises(error) as e:
        gb.nearest_many(lat=lat, lon=lon)
    assert str(e.value) == message
    with pytest.raises(error):
        gb.reverse_many(lat, lon)


def test_whole_call_parameters_raise_once_as_the_scalar_call(gb):
    with pytest.raises(hl.InvalidParameter, match=r"^k must be a whole number between 1 and 1000 \(got 0\)$"):
        gb.nearest_many(["CH4 7QP"], k=0)
    for k in (10**30, 2.5, True):
        with pytest.raises(hl.InvalidParameter) as batch_error:
            gb.nearest_many(["CH4 7QP"], k=k)
        with pytest.raises(hl.InvalidParameter) as scalar_error:
            gb.nearest("CH4 7QP", k=k)
        assert batch_error.value.message == scalar_error.value.message
    with pytest.raises(hl.InvalidParameter) as e:
        gb.reverse_many([52.0], [-1.0], k=2.5)
    assert e.value.message == "limit must be a whole number between 1 and 1000 (got 2.5)"
    with pytest.raises(hl.UnknownTreatment, match="no treatment 'hips'"):
        gb.nearest_many(["CH4 7QP"], treatment="hips")
    with pytest.raises(hl.InvalidParameter, match=r"^max_km must be a finite number of at least 0 \(got -1\)$"):
        gb.nearest_many(["CH4 7QP"], max_km=-1)
    with pytest.raises(hl.InvalidParameter, match="not both"):
        gb.nearest_many(["CH4 7QP"], lat=[1.0], lon=[1.0])
    with pytest.raises(hl.InvalidParameter, match="give postcodes, or both lat and lon"):
        gb.nearest_many(lat=[1.0])
    with pytest.raises(hl.InvalidParameter, match="threads"):
        gb.nearest_many(["CH4 7QP"], threads=-1)


def test_more_threads_than_the_most_are_refused_naming_the_most(gb):
    assert hl.MAX_THREADS == 256
    message = "threads must be a whole number between 0 (all cores) and 256 (got 257)"
    for call in [lambda: gb.nearest_many(["CH4 7QP"], threads=257),
                 lambda: gb.lookup_many(["CH4 7QP"], threads=257),
                 lambda: gb.reverse_many([52.0], [-1.0], threads=257),
                 lambda: gb.postcodes(threads=257)]:
        with pytest.raises(hl.InvalidParameter) as e:
            call()
        assert e.value.message == message
    with pytest.raises(hl.InvalidParameter, match=r"^threads must be a number \(got True\)$"):
        gb.nearest_many(["CH4 7QP"], threads=True)
    with pytest.raises(hl.InvalidParameter, match=r"\(got 1e\+30\)$"):
        gb.lookup_many(["CH4 7QP"], threads=10**30)
    assert list(gb.nearest_many(["CH4 7QP"], threads=256).site[0]) == [3, 2, 8]


def test_lookup_many_agrees_with_lookup(gb, all_postcodes):
    texts = list(all_postcodes[::40000]) + ["CM15 8", "G12", "CM15 8ZZ", "nonsense", "BT1 1AA"]
    batch = gb.lookup_many(texts)
    assert batch.failed == 2 and list(batch.status[-2:]) == [1, 3]
    for row, text in enumerate(texts):
        r = scalar_or_error(gb.lookup, text)
        if isinstance(r, hl.Error):
            assert batch.status[row] == r.number and batch.messages[row] == r.message
            assert batch.postcode[row] == "" and batch.match[row] == 255
            continue
        assert batch.status[row] == 0
        assert (batch.postcode[row], batch.match_names()[row], bool(batch.located[row])) == \
            (r.postcode, r.match, r.located)
        assert (batch.lat[row], batch.lon[row]) == (r.lat, r.lon)
        assert (batch.eastings_m[row], batch.northings_m[row]) == (r.eastings_m, r.northings_m)
        assert (batch.quality[row], batch.postcode_count[row], batch.country[row]) == \
            (r.quality, r.postcode_count, r.country)


def test_reverse_many_agrees_with_reverse(gb):
    lat = np.array([53.17, 51.5, 57.15, 50.4, 95.0])
    lon = np.array([-2.9, -0.12, -2.1, -4.1, 0.0])
    batch = gb.reverse_many(lat, lon, k=3)
    assert list(batch.status) == [0, 0, 0, 0, hl.Status.INVALID_PARAMETER]
    for row in range(4):
        r = gb.reverse(float(lat[row]), float(lon[row]), k=3)
        assert list(batch.postcode[row]) == [h.postcode for h in r]
        assert list(batch.distance_m[row]) == [h.distance_m for h in r]
        assert list(batch.bearing_deg[row]) == [h.bearing_deg for h in r]
        assert list(batch.quality[row]) == [h.quality for h in r]
    assert batch.messages[4] == "lat 95 is out of range (-90 to 90 degrees)"
    assert list(batch.postcode[4]) == ["", "", ""]
