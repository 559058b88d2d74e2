"""Vectorised answers equal the scalar ones, the CLI's, and a brute-force ellipsoidal ranking
(Karney's geodesics through pyproj, an independent oracle) over hundreds of thousands of real
postcodes."""

import csv
import io

import numpy as np
import pytest
from pyproj import Geod

import hospital_locator as hl


def area_postcodes(all_postcodes, area):
    """Every located postcode of a postcode area ("CH": CH1 ... CH66, not CHx letters)."""
    starts = np.char.startswith(all_postcodes, area)
    next_is_digit = np.char.isdigit(np.char.ljust(np.char.lstrip(all_postcodes, area), 1).astype("<U1"))
    return all_postcodes[starts & next_is_digit]


def test_scalar_and_vectorised_agree_on_the_whole_ch_area(gb, all_postcodes):
    units = area_postcodes(all_postcodes, "CH")
    assert len(units) > 10000
    sectors = sorted({u[:-2] for u in units})
    districts = sorted({u.split()[0] for u in units})
    queries = np.concatenate([units, np.array(sectors + districts + ["CH4 7ZZ", "W99 1AA"])])
    batch = gb.nearest_many(queries, k=5)
    assert batch.failed == 1  # W99 1AA: neither it nor its district exists
    for row, text in enumerate(queries):
        try:
            answer = gb.nearest(str(text), k=5)
        except hl.Error as e:
            assert (batch.status[row], batch.messages[row]) == (e.number, e.message)
            continue
        assert batch.status[row] == 0
        assert batch.match_names()[row] == answer.query.match
        assert (batch.lat[row], batch.lon[row]) == (answer.query.lat, answer.query.lon)
        assert list(batch.site[row]) == [n.site.index for n in answer]
        assert list(batch.distance_m[row]) == [n.distance_m for n in answer]  # bit for bit
        assert list(batch.bearing_deg[row]) == [n.bearing_deg for n in answer]


def test_nearest_many_top3_equals_brute_force_karney_over_290k_postcodes(gb, all_postcodes):
    queries = all_postcodes[::6]
    assert len(queries) > 290000
    batch = gb.nearest_many(queries, k=3)
    assert batch.failed == 0 and (batch.match == hl.Match.UNIT).all()
    sites = gb.sites()
    geod = Geod(ellps="WGS84")
    # Every (postcode, site) pair: Karney's algorithm, an oracle independent of the engine's
    # Vincenty. They agree to 0.1 mm; ranks closer than 1 mm count as ties.
    n = len(queries)
    karney = np.empty((n, len(sites)))
    for j, s in enumerate(sites):
        _, _, karney[:, j] = geod.inv(batch.lon, batch.lat, np.full(n, s.lon), np.full(n, s.lat))
    order = np.lexsort((np.broadcast_to(np.arange(len(sites)), karney.shape), karney), axis=1)[:, :3]
    brute_distance = np.take_along_axis(karney, order, axis=1)
    assert np.abs(batch.distance_m - brute_distance).max() < 1e-3
    differ = (order != batch.site).any(axis=1)
    for row in np.flatnonzero(differ):  # allowed only where Karney says it is a tie
        engine_d = karney[row, batch.site[row]]
        assert np.abs(engine_d - brute_distance[row]).max() < 1e-3, (queries[row], batch.site[row], order[row])
    assert differ.sum() <= 5


def cli_csv(cli, *argv):
    code, out, err = cli.run(*argv, "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) == 2
    return dict(zip(rows[0], rows[1]))


def test_nearest_frame_rows_equal_the_cli_csv(gb, cli, all_postcodes):
    queries = [str(p) for p in all_postcodes[::29000]] + ["CM15 8", "G12", "CM15 8ZZ", "sw1a1aa"]
    frame = hl.nearest_frame(gb, __import__("pandas").DataFrame({"postcode": queries}), k=3)
    for i, q in enumerate(queries):
        expected = cli_csv(cli, "nearest", q, "--k", "3")
        row = frame.iloc[i]
        for column, text in expected.items():
            value = row[column]
            if column.endswith(("_metres", "_miles")) or column in ("lat", "lon"):
                assert value == float(text), (q, column)
            else:
                assert value == text, (q, column)
