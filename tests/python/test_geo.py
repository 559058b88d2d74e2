"""GeoPandas: nearest_frame over a GeoDataFrame of points in any CRS, and Index.sites_frame().

Every answer is compared with the scalar call on the same WGS84 point, which comes from the
same pyproj transformation GeoPandas uses (to_crs), so the comparisons are exact."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely.geometry as sg

import hospital_locator as hl
from hospital_locator._core import _round_to


@pytest.fixture(scope="module")
def sample(gb, all_postcodes):
    """1,000 located postcodes over all of GB, with their index centroids and grid refs."""
    postcodes = all_postcodes[::1743]
    found = gb.lookup_many(postcodes)
    assert not found.failed
    return postcodes, found


def _assert_rows_are_the_scalar_answers(index, frame, lat, lon, k):
    for row in range(len(frame)):
        answer = index.nearest(lat=float(lat[row]), lon=float(lon[row]), k=k)
        got = frame.iloc[row]
        assert (got["status"], got["match"]) == ("ok", "point")
        assert (got["lat"], got["lon"]) == (_round_to(np.array([lat[row]]), 7)[0],
                                            _round_to(np.array([lon[row]]), 7)[0])
        for j, n in enumerate(answer, start=1):
            assert got[f"site_{j}_id"] == n.site.id
            assert got[f"site_{j}_phone"] == n.phone.display
            assert got[f"site_{j}_metres"] == _round_to(np.array([n.distance_m]), 1)[0]


def test_wgs84_points_give_the_scalar_answers_at_those_points(gb, sample):
    postcodes, found = sample
    points = gpd.GeoDataFrame({"postcode": postcodes},
                              geometry=gpd.points_from_xy(found.lon, found.lat), crs="EPSG:4326")
    frame = hl.nearest_frame(gb, points, k=2)
    assert isinstance(frame, gpd.GeoDataFrame) and frame.crs == points.crs
    _assert_rows_are_the_scalar_answers(gb, frame, found.lat, found.lon, 2)
    # The postcode's centroid is where the postcode answer is measured from: same sites.
    by_postcode = hl.nearest_frame(gb, pd.DataFrame({"postcode": postcodes}), k=2)
    for column in ("site_1_id", "site_2_id", "site_1_metres", "site_2_metres", "lat", "lon"):
        assert list(frame[column]) == list(by_postcode[column]), column


def test_british_national_grid_points_go_through_geopandas_to_wgs84(gb, sample):
    postcodes, found = sample
    points = gpd.GeoDataFrame({"ref": np.arange(len(postcodes))},
                              geometry=gpd.points_from_xy(found.eastings_m, found.northings_m),
                              crs="EPSG:27700", index=np.arange(len(postcodes)) * 10)
    frame = hl.nearest_frame(gb, points, k=3)
    assert isinstance(frame, gpd.GeoDataFrame) and frame.crs == "EPSG:27700"
    assert list(frame.columns[:2]) == ["ref", "geometry"] and frame.geometry.name == "geometry"
    assert frame.index.equals(points.index)
    assert frame.geometry.geom_equals(points.geometry).all()  # the input's own points, kept
    lon, lat = pyproj.Transformer.from_crs(27700, 4326, always_xy=True).transform(
        found.eastings_m, found.northings_m)
    _assert_rows_are_the_scalar_answers(gb, frame, lat, lon, 3)
    # And those are the postcodes' places: within the few metres by which PROJ's transformation
    # (OSTN15 when PROJ finds the grid, else a Helmert fit) and the index's OSTN15 agree.
    geod = pyproj.Geod(ellps="WGS84")
    _, _, metres = geod.inv(lon, lat, found.lon, found.lat)
    assert np.max(metres) < 10


def test_a_projected_crs_round_trips_to_the_same_points(gb, sample):
    _, found = sample
    mercator = gpd.GeoSeries(gpd.points_from_xy(found.lon, found.lat), crs=4326).to_crs(3857)
    frame = hl.nearest_frame(gb, gpd.GeoDataFrame(geometry=mercator), k=1)
    np.testing.assert_allclose(frame["lat"], found.lat, atol=1e-7)
    np.testing.assert_allclose(frame["lon"], found.lon, atol=1e-7)
    back = mercator.to_crs(4326)
    _assert_rows_are_the_scalar_answers(gb, frame, np.asarray(back.y), np.asarray(back.x), 1)


def test_rows_without_a_point_are_invalid_and_say_what_they_hold(gb):
    e, n = 340260.0, 364734.0  # CH4 7QP
    geometry = [sg.Point(e, n), sg.Point(), None, sg.LineString([(e, n), (e + 1, n)]),
                sg.Polygon([(e, n), (e + 1, n), (e, n + 1)]), sg.MultiPoint([(e, n)]),
                sg.Point(e, n + 1000)]
    points = gpd.GeoDataFrame({"ref": list("abcdefg")}, geometry=geometry, crs=27700)
    frame = hl.nearest_frame(gb, points, k=1)
    assert list(frame["status"]) == ["ok", "invalid", "invalid", "invalid", "invalid", "invalid", "ok"]
    assert list(frame["error_code"]) == ["", *["invalid_parameter"] * 5, ""]
    assert list(frame["error_message"]) == [
        "", "the geometry is empty; a Point is needed",
        "the row has no geometry; a Point is needed", "the geometry is a LineString, not a Point",
        "the geometry is a Polygon, not a Point", "the geometry is a MultiPoint, not a Point", ""]
    assert list(frame["site_1_id"]) == ["chester", "", "", "", "", "", "chester"]
    assert frame["site_1_metres"].iloc[1:6].isna().all() and frame["lat"].iloc[1:6].isna().all()
    assert frame.geometry.iloc[2] is None and frame.geometry.iloc[1].is_empty


def test_a_geodataframe_without_a_crs_is_refused(gb):
    points = gpd.GeoDataFrame(geometry=[sg.Point(340260, 364734)])
    with pytest.raises(hl.InvalidParameter, match=r"the GeoDataFrame has no CRS.*set_crs\('EPSG:27700'\)"):
        hl.nearest_frame(gb, points)


def test_keep_columns_false_keeps_the_geometry_and_a_postcode_column_can_be_chosen(gb):
    points = gpd.GeoDataFrame({"pc": ["G12 0PJ"], "lat": [0.0]}, geometry=[sg.Point(340260, 364734)],
                              crs=27700)
    only = hl.nearest_frame(gb, points, k=1, keep_columns=False)
    assert list(only.columns[:2]) == ["geometry", "status"] and only["site_1_id"].iloc[0] == "chester"
    by_postcode = hl.nearest_frame(gb, points, postcode_column="pc", k=1)
    assert isinstance(by_postcode, gpd.GeoDataFrame) and by_postcode.crs == "EPSG:27700"
    assert list(by_postcode.columns[:3]) == ["pc", "input_lat", "geometry"]
    assert (by_postcode["match"].iloc[0], by_postcode["site_1_id"].iloc[0]) == ("unit", "glasgow")


def test_sites_frame_is_every_site_in_wgs84_with_its_phones(gb):
    frame = gb.sites_frame()
    sites = gb.sites()
    assert isinstance(frame, gpd.GeoDataFrame) and frame.crs == "EPSG:4326"
    assert list(frame.index) == [s.index for s in sites] and frame.index.name == "site"
    assert list(frame.columns) == [
        "id", "name", "street", "locality", "town", "postcode", "located_by", "postcode_quality",
        "treatments", "phone_kyphoplasty", "phone_kyphoplasty_e164", "phone_kyphoplasty_uri",
        "phone_kyphoplasty_source", "geometry"]
    assert list(frame.geometry.x) == [s.lon for s in sites]
    assert list(frame.geometry.y) == [s.lat for s in sites]
    chester = frame.loc[gb.site("chester").index]
    assert (chester["name"], chester["town"], chester["postcode"]) == \
        ("Nuffield Health The Grosvenor Hospital Chester", "Chester", "CH4 7QP")
    assert (chester["phone_kyphoplasty"], chester["phone_kyphoplasty_e164"],
            chester["phone_kyphoplasty_uri"], chester["phone_kyphoplasty_source"]) == \
        ("01244 680444", "+441244680444", "tel:+44-1244-680444", "listing")
    glasgow = frame.loc[gb.site("glasgow").index]
    assert (glasgow["phone_kyphoplasty"], glasgow["phone_kyphoplasty_source"]) == \
        ("0345 602 8179", "provider")  # no number listed: the provider's, marked as such


def test_sites_frame_has_phones_for_each_treatment(tiny):
    frame = tiny.sites_frame().set_index("id")
    assert frame.loc["cardiff-bay", "treatments"] == "kyphoplasty,spinal-injection"
    assert (frame.loc["cardiff-bay", "phone_spinal-injection"],
            frame.loc["cardiff-bay", "phone_spinal-injection_source"]) == ("0345 602 8179", "provider")
    assert frame.loc["brentwood", "phone_spinal-injection"] == ""
    assert frame.loc["brentwood", "phone_kyphoplasty"] == "01277 695695"
    for site in tiny.sites():
        for treatment, phone in site.phones.items():
            assert frame.loc[site.id, f"phone_{treatment}_e164"] == phone.e164
