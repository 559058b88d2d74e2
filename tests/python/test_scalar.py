"""The scalar calls against the real GB index: answers, attributes, and to_dict() equal to
the CLI's --format json output (the one DESIGN.md shape)."""

import math

import pytest

import hospital_locator as hl


def test_nearest_ch4_7qp_is_chester_at_distance_zero(gb):
    answer = gb.nearest("CH4 7QP")
    assert len(answer) == 3
    first = answer[0]
    assert first.rank == 1
    assert first.site.id == "chester"
    assert first.site.name == "Nuffield Health The Grosvenor Hospital Chester"
    assert first.distance_m == 0.0
    assert first.distance_miles == 0.0
    assert first.phone.display == "01244 680444"
    assert first.phone.e164 == "+441244680444"
    assert first.phone.uri == "tel:+44-1244-680444"
    assert first.phone.source == "listing"
    assert answer.query.match == "unit"
    assert answer.query.postcode == "CH4 7QP"
    assert answer.treatment == "kyphoplasty"
    assert [n.rank for n in answer] == [1, 2, 3]
    distances = [n.distance_m for n in answer]
    assert distances == sorted(distances)


@pytest.mark.parametrize("args", [
    (["CH4 7QP"], {}),
    (["cm158eh"], {}),
    ([" SW1A  1AA "], {"k": 5}),
    (["CM15 8ZZ"], {}),            # a unit not in the data: its sector
    (["CM15 8"], {}),              # a sector
    (["G12"], {"k": 10}),          # a district
    (["TR19 7AA"], {"k": 2, "max_miles": 120}),
    (["EH1 1YZ"], {"k": 4, "max_km": 500}),
])
def test_nearest_to_dict_is_the_cli_json(gb, cli, args):
    words, kwargs = args
    argv = ["nearest", *words]
    if "k" in kwargs:
        argv += ["--k", str(kwargs["k"])]
    if "max_miles" in kwargs:
        argv += ["--max-miles", str(kwargs["max_miles"])]
    if "max_km" in kwargs:
        argv += ["--max-km", str(kwargs["max_km"])]
    assert gb.nearest(*words, **kwargs).to_dict() == cli.json(*argv)


def test_nearest_to_a_point_is_the_cli_json(gb, cli):
    answer = gb.nearest(lat=51.5, lon=-0.12, k=4)
    assert answer.to_dict() == cli.json("nearest", "--lat", "51.5", "--lon", "-0.12", "--k", "4")
    assert answer.query.match == "point"
    assert answer.query.postcode is None
    assert answer.query.input == ""


def test_a_distance_limit_leaves_out_farther_sites(gb):
    # Cheltenham is 94.5 miles from CH4 7QP, Tees 117.0.
    assert [n.site.id for n in gb.nearest("CH4 7QP", k=10, max_miles=90)] == ["chester"]
    assert [n.site.id for n in gb.nearest("CH4 7QP", k=10, max_miles=95)] == ["chester", "cheltenham"]
    assert len(gb.nearest("CH4 7QP", k=10, max_km=0)) == 1  # itself, at 0 m


def test_a_fallback_says_so(gb):
    answer = gb.nearest("CM15 8ZZ")
    assert answer.query.match == "sector"
    assert answer.query.postcode == "CM15 8"
    assert answer.query.note  # why: the unit is not in the data
    assert answer[0].site.id == "brentwood"


def test_results_list_and_neighbour_to_dict_match_the_whole(gb):
    answer = gb.nearest("PL6 8BG", k=3)
    whole = answer.to_dict()
    assert [n.to_dict() for n in answer.results] == whole["results"]
    assert answer.query.to_dict() == whole["query"]
    assert answer[-1].rank == 3
    with pytest.raises(IndexError):
        answer[3]


def test_neighbour_units_agree(gb):
    n = gb.nearest("TA2 6AN", k=2)[1]
    assert n.distance_km == n.distance_m / 1000
    assert n.distance_miles == n.distance_m / 1609.344
    assert 0 <= n.bearing_deg < 360
    assert n.compass in {"N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW",
                         "WSW", "W", "WNW", "NW", "NNW"}


def test_reprs_are_readable(gb):
    assert repr(gb.nearest("CH4 7QP", k=1)) == "<Nearest CH4 7QP (unit) kyphoplasty: 1 chester 0.0 mi>"
    assert repr(gb.nearest("CH4 7QP", k=1)[0]) == "<Neighbour 1 chester 0.0 mi N>"
    assert repr(gb.site("chester")) == \
        "<Site chester 'Nuffield Health The Grosvenor Hospital Chester' CH4 7QP>"
    assert repr(gb.site("chester").phones["kyphoplasty"]) == "<Phone 01244 680444 (listing)>"
    assert repr(gb.treatments()[0]) == "<Treatment kyphoplasty: 10 sites>"
    assert repr(gb) == f"<Index {gb.path!r}: 1743823 located postcodes, 10 sites; kyphoplasty>"
    assert repr(gb.nearest("CH4 7QP")) == \
        "<Nearest CH4 7QP (unit) kyphoplasty: 1 chester 0.0 mi; 2 cheltenham 94.5 mi; 3 tees 117.0 mi>"
    assert repr(gb.lookup("ch47qp")) == "<Postcode CH4 7QP (unit) 53.176358, -2.895263 quality 10 England>"
    assert repr(gb.reverse(53.17, -2.9, k=2)) == "<Reverse 53.170000, -2.900000: 1 CH4 7QQ 45.3 m; 2 CH4 7QY 112.7 m>"


def test_lookup_matches_the_cli(gb, cli):
    for text in ["CH4 7QP", "sw1a1aa", "CM15 8", "G12", "CM15 8ZZ"]:
        record = gb.lookup(text)
        assert record.to_dict() == cli.json("lookup", text), text
    r = gb.lookup("ch47qp")
    assert (r.input, r.postcode, r.match, r.located, r.country) == \
        ("ch47qp", "CH4 7QP", "unit", True, "England")
    assert r.quality == 10
    assert r.postcode_count == 1
    assert r.note is None
    assert 53 < r.lat < 54 and -3 < r.lon < -2
    assert r.eastings_m > 0 and r.northings_m > 0


def test_reverse_matches_the_cli(gb, cli):
    site = gb.site("chester")
    answer = gb.reverse(site.lat, site.lon, k=3)
    assert answer[0].postcode == "CH4 7QP"
    assert answer[0].distance_m == 0.0
    assert answer.to_dict() == cli.json("reverse", "--lat", repr(site.lat), "--lon", repr(site.lon),
                                        "--k", "3")
    assert [h.rank for h in answer] == [1, 2, 3]
    assert [h.to_dict() for h in answer.results] == answer.to_dict()["results"]


def test_info_sites_treatments_match_the_cli(gb, cli):
    info = gb.info()
    assert info.to_dict() == cli.json("info")
    assert (info.sites, info.postcodes, info.located, info.unlocated) == (10, 1744635, 1743823, 812)
    assert info.located + info.unlocated == info.postcodes
    assert info.located == gb.located_count()
    assert len(info.checksum) == 16
    assert [s.to_dict() for s in gb.sites()] == cli.json("sites")
    chester = gb.site("chester")
    assert chester.to_dict()["phones"] == {"kyphoplasty": chester.phones["kyphoplasty"].to_dict()}
    assert [t.to_dict() for t in gb.treatments()] == cli.json("treatments")
    assert [(t.name, t.site_count) for t in gb.treatments()] == [("kyphoplasty", 10)]


def test_sites_are_in_id_order_and_index_their_position(gb):
    sites = gb.sites()
    assert [s.id for s in sites] == ["brentwood", "cardiff-bay", "cheltenham", "chester", "glasgow",
                                     "haywards-heath", "plymouth", "taunton", "tees", "wessex"]
    assert [s.index for s in sites] == list(range(10))
    tees = gb.site("tees")
    assert tees.address == ["Junction Road", "Norton", "Stockton-on-Tees"]
    assert (tees.street, tees.locality, tees.town, tees.postcode) == \
        ("Junction Road", "Norton", "Stockton-on-Tees", "TS20 1PX")
    assert tees.treatments == ["kyphoplasty"]
    assert tees == sites[8] and hash(tees) == hash(sites[8])
    assert tees != sites[0]


def test_located_postcode_rows_are_the_postcodes_array(gb, all_postcodes):
    assert len(all_postcodes) == gb.located_count()
    assert all_postcodes.dtype == "<U8"
    for row in [0, 1, 12345, len(all_postcodes) - 1]:
        assert gb.located_postcode(row).postcode == all_postcodes[row]
    with pytest.raises(hl.InvalidParameter):
        gb.located_postcode(len(all_postcodes))


def test_two_treatments_need_one_named(tiny, tiny_cli):
    assert [t.name for t in tiny.treatments()] == ["kyphoplasty", "spinal-injection"]
    site = tiny.sites()[0]
    a = tiny.nearest(lat=site.lat, lon=site.lon, treatment=site.treatments[0], k=2)
    assert a.treatment == site.treatments[0]
    with pytest.raises(hl.InvalidParameter) as e:
        tiny.nearest(lat=site.lat, lon=site.lon)
    assert e.value.message == tiny_cli.error("nearest", "--lat", repr(site.lat), "--lon",
                                             repr(site.lon))["message"]


def test_signatures_and_docstrings_show_in_help(gb):
    doc = hl.Index.nearest.__doc__
    assert "nearest(self: hospital_locator._core.Index, postcode: Optional[str] = None, *, lat" in doc
    assert "ties by site id" in doc
    assert "nearest_many(self" in hl.Index.nearest_many.__doc__
    assert hl.nearest_frame.__doc__.strip().startswith("The k nearest sites")
    assert hl.Index.__doc__ and hl.NearestBatch.__doc__ and hl.Site.__doc__


def test_index_is_usable_without_the_path_object_alive(gb_path):
    # Objects keep the mapping alive: nothing points into an unmapped file.
    site = hl.Index(gb_path).site("glasgow")
    answer = hl.Index(gb_path).nearest("G12 0PJ")
    import gc
    gc.collect()
    assert site.name == "Nuffield Health Glasgow Hospital"
    assert answer[0].phone.display and answer[0].site.id == "glasgow"
    assert math.isfinite(answer[0].site.lat)


def test_the_type_stubs_list_what_the_module_has():
    import ast
    from pathlib import Path

    from hospital_locator import _core
    stub = ast.parse((Path(hl.__file__).parent / "_core.pyi").read_text())
    stubbed = {}
    for node in stub.body:
        if isinstance(node, ast.ClassDef):
            stubbed[node.name] = {n.name if isinstance(n, ast.FunctionDef) else n.target.id
                                  for n in node.body if isinstance(n, (ast.FunctionDef, ast.AnnAssign))}
    runtime = {name: obj for name, obj in vars(_core).items() if isinstance(obj, type)}
    assert set(stubbed) == set(runtime)
    for name, cls in runtime.items():
        public = {m for m in vars(cls) if not m.startswith("_") or m in ("__len__", "__getitem__")}
        missing = public - stubbed[name]
        assert not missing, (name, missing)
    assert "__init__" in stubbed["Index"]
