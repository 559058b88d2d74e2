"""nearest_frame: a DataFrame with the batch CSV's columns, one row per input row."""

import math

import numpy as np
import pandas as pd
import pytest

import hospital_locator as hl


def test_columns_are_the_input_then_the_batch_csv_then_the_error(gb, cli):
    df = pd.DataFrame({"ref": [1, 2], "postcode": ["CH4 7QP", "nonsense"]})
    frame = hl.nearest_frame(gb, df, k=2)
    code, out, _ = cli.run("nearest", "CH4 7QP", "--k", "2", "--format", "csv")
    assert code == 0
    csv_columns = out.splitlines()[0].split(",")
    assert csv_columns[:4] == ["status", "match", "lat", "lon"]
    assert list(frame.columns) == ["ref", "postcode", *csv_columns, "error_code", "error_message"]
    assert list(hl.nearest_frame(gb, df, k=2, keep_columns=False).columns) == \
        [*csv_columns, "error_code", "error_message"]


def test_every_status_and_its_row(gb):
    texts = ["CH4 7QP", "CM15 8ZZ", "G12", "nonsense", "W99 1AA", "BT1 1AA", "GIR 0AA", None]
    df = pd.DataFrame({"pc": texts}, index=[10, 11, 12, 13, 14, 15, 16, 10])  # a repeated label
    frame = hl.nearest_frame(gb, df, postcode_column="pc", k=1)
    assert list(frame.index) == [10, 11, 12, 13, 14, 15, 16, 10]
    assert list(frame["pc"].iloc[:7]) == texts[:7]
    # As `hospital-locator batch` maps them: a non-geographic postcode is not_found.
    assert list(frame["status"]) == ["ok", "approximate", "approximate", "invalid", "not_found",
                                     "not_covered", "not_found", "invalid"]
    assert list(frame["match"]) == ["unit", "sector", "district", "", "", "", "", ""]
    assert list(frame["error_code"]) == ["", "", "", "invalid_postcode", "postcode_not_found",
                                         "not_covered", "non_geographic_postcode", "invalid_postcode"]
    for i in (3, 4, 5, 6):
        with pytest.raises(hl.Error) as e:
            gb.nearest(texts[i])
        assert frame["error_message"].iloc[i] == e.value.message
    first = frame.iloc[0]
    assert (first["site_1_id"], first["site_1_name"], first["site_1_phone"]) == \
        ("chester", "Nuffield Health The Grosvenor Hospital Chester", "01244 680444")
    assert (first["site_1_metres"], first["site_1_miles"]) == (0.0, 0.0)
    # As `nearest CH4 7QP --format csv` prints them.
    assert (first["lat"], first["lon"]) == (53.1763575, -2.8952629)
    failed = frame.iloc[3]
    assert failed["site_1_id"] == "" and math.isnan(failed["site_1_metres"]) and math.isnan(failed["lat"])


def test_distances_are_rounded_as_the_csv_prints_them(gb, all_postcodes):
    queries = all_postcodes[::100000]
    frame = hl.nearest_frame(gb, pd.DataFrame({"postcode": queries}), k=3)
    batch = gb.nearest_many(queries, k=3)
    for j in range(3):
        np.testing.assert_array_equal(frame[f"site_{j + 1}_metres"], np.round(batch.distance_m[:, j], 1))
        np.testing.assert_allclose(frame[f"site_{j + 1}_miles"], batch.distance_m[:, j] / 1609.344, atol=5e-4)
        assert list(frame[f"site_{j + 1}_id"]) == list(batch.ids()[:, j])


def test_input_columns_named_like_result_columns_are_renamed_as_the_batch_csv_does(gb):
    df = pd.DataFrame({"Status": ["mine"], "postcode": ["CH4 7QP"], "lat": [1.0]})
    frame = hl.nearest_frame(gb, df, k=1)
    assert list(frame.columns[:3]) == ["input_Status", "postcode", "input_lat"]
    assert (frame["input_Status"].iloc[0], frame["status"].iloc[0]) == ("mine", "ok")
    assert frame["input_lat"].iloc[0] == 1.0 and frame["lat"].iloc[0] == 53.1763575


def test_a_missing_column_names_the_columns_there_are(gb):
    with pytest.raises(KeyError, match="no column 'postcode' in the DataFrame; its columns are 'pcd', 'n'"):
        hl.nearest_frame(gb, pd.DataFrame({"pcd": ["CH4 7QP"], "n": [1]}))
