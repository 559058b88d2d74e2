#include "results.hpp"

#include <pybind11/stl.h>

#include <cstdio>

#include "hloc/geodesy.hpp"

namespace hloc::python {

namespace {

std::string str(std::string_view s) { return std::string(s); }

// "%.*f" for reprs: people read these, programs use the attributes.
std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

std::string quoted(std::string_view s) {
    return py::repr(py::str(std::string(s))).cast<std::string>();
}

py::object none_if_empty(const std::string& s) {
    if (s.empty()) return py::none();
    return py::str(s);
}

std::string distance_text(double distance_m) {
    return fixed(distance_m / kMetresPerMile, 1) + " mi";
}

// A text field of a site as a Python str.
template <auto Field>
std::string site_text(const PySite& s) {
    return str(s.view().*Field);
}

// Element i of a sequence, counting from the end when negative, as Python indexes.
std::size_t python_index(long long i, std::size_t size) {
    const auto n = static_cast<long long>(size);
    if (i < 0) i += n;
    if (i < 0 || i >= n) throw py::index_error("result index out of range");
    return static_cast<std::size_t>(i);
}

void bind_phone(py::module_& m) {
    py::class_<PyPhone>(m, "Phone", "A number to ring for a site and treatment.")
        .def_property_readonly(
            "display", [](const PyPhone& p) { return str(p.view.display); },
            "National format, '01277 695695'.")
        .def_property_readonly(
            "e164", [](const PyPhone& p) { return str(p.view.e164); }, "E.164, '+441277695695'.")
        .def_property_readonly(
            "uri", [](const PyPhone& p) { return str(p.view.uri); },
            "RFC 3966, 'tel:+44-1277-695695'.")
        .def_property_readonly(
            "source", [](const PyPhone& p) { return str(p.view.source); },
            "'listing' (the treatment's page) or 'provider' (the central number).")
        .def(
            "to_dict", [](const PyPhone& p) { return to_python(contract::phone_json(p.view)); },
            "The DESIGN.md JSON shape: {'display', 'e164', 'uri', 'source'}.")
        .def("__repr__", [](const PyPhone& p) {
            return "<Phone " + str(p.view.display) + " (" + str(p.view.source) + ")>";
        });
}

void bind_site(py::module_& m) {
    py::class_<PySite>(m, "Site", "A hospital site in the index. Positions are WGS84 degrees.")
        .def_property_readonly(
            "index", [](const PySite& s) { return s.site_index; },
            "Position in Index.sites() (sites sort by id); NearestBatch.site holds these.")
        .def_property_readonly("id", &site_text<&SiteView::id>)
        .def_property_readonly("name", &site_text<&SiteView::name>)
        .def_property_readonly(
            "address",
            [](const PySite& s) {
                std::vector<std::string> lines;
                for (auto l : s.view().address()) lines.emplace_back(l);
                return lines;
            },
            "Street, locality and town, blanks left out.")
        .def_property_readonly("street", &site_text<&SiteView::street>)
        .def_property_readonly("locality", &site_text<&SiteView::locality>)
        .def_property_readonly("town", &site_text<&SiteView::town>)
        .def_property_readonly("postcode", &site_text<&SiteView::postcode>)
        .def_property_readonly(
            "lat", [](const PySite& s) { return s.view().position.lat_deg; },
            "Latitude, WGS84 degrees.")
        .def_property_readonly(
            "lon", [](const PySite& s) { return s.view().position.lon_deg; },
            "Longitude, WGS84 degrees.")
        .def_property_readonly("located_by", &site_text<&SiteView::located_by>,
                               "'postcode' (its own listed postcode) or 'directory'.")
        .def_property_readonly(
            "postcode_quality", [](const PySite& s) { return s.view().quality; },
            "Code-Point positional quality of its postcode (10 best).")
        .def_property_readonly("treatments",
                               [](const PySite& s) {
                                   std::vector<std::string> names;
                                   for (auto t : s.view().treatments) names.emplace_back(t);
                                   return names;
                               })
        .def_property_readonly(
            "phones",
            [](const PySite& s) {
                py::dict out;  // treatment -> Phone, in treatment order
                const auto v = s.view();
                for (std::size_t i = 0; i < v.treatments.size(); ++i) {
                    out[py::str(str(v.treatments[i]))] = PyPhone{s.index, v.phones[i]};
                }
                return out;
            },
            "Treatment -> the Phone the treatment's listing gives for this site.")
        .def(
            "to_dict",
            [](const PySite& s) { return from_json_text(s.index->json().site(s.site_index)); },
            "The DESIGN.md JSON shape of a listed site, with 'phones' by treatment: an element "
            "of `sites --format json` and of GET /v1/sites.")
        .def("__eq__",
             [](const PySite& a, const PySite& b) {
                 return a.index == b.index && a.site_index == b.site_index;
             })
        .def("__hash__",
             [](const PySite& s) {
                 return py::hash(py::make_tuple(s.site_index, str(s.view().id)));
             })
        .def("__repr__", [](const PySite& s) {
            const auto v = s.view();
            return "<Site " + str(v.id) + " " + quoted(v.name) + " " + str(v.postcode) + ">";
        });
}

void bind_treatment(py::module_& m) {
    py::class_<PyTreatment>(m, "Treatment", "A treatment the index offers, and at how many sites.")
        .def_readonly("name", &PyTreatment::name)
        .def_readonly("site_count", &PyTreatment::site_count)
        .def(
            "to_dict",
            [](const PyTreatment& t) {
                // The contract writes treatments as a list; this one is its only element.
                return to_python(contract::treatments_json({{t.name, t.site_count}}).at(0));
            },
            "{'name': ..., 'sites': ...}, as `treatments --format json`.")
        .def("__repr__", [](const PyTreatment& t) {
            return "<Treatment " + t.name + ": " + std::to_string(t.site_count) + " sites>";
        });
}

void bind_query(py::module_& m) {
    py::class_<PyQuery>(m, "Query", "How a nearest query was resolved to a position.")
        .def_property_readonly(
            "input", [](const PyQuery& q) { return q.location.input; },
            "What the caller gave, as given ('' for a point).")
        .def_property_readonly(
            "postcode", [](const PyQuery& q) { return none_if_empty(q.location.postcode); },
            "Canonical unit, sector or district ('CM15 8EH'); None for a point.")
        .def_property_readonly(
            "match", [](const PyQuery& q) { return str(match_level_name(q.location.match)); },
            "'unit', 'sector', 'district' or 'point'.")
        .def_property_readonly("lat", [](const PyQuery& q) { return q.location.position.lat_deg; })
        .def_property_readonly("lon", [](const PyQuery& q) { return q.location.position.lon_deg; })
        .def_property_readonly(
            "note", [](const PyQuery& q) { return none_if_empty(q.location.note); },
            "Why a fallback (sector, district) was used, or None.")
        .def(
            "to_dict",
            [](const PyQuery& q) {
                return from_json_text(contract::JsonWriter::query(q.location));
            },
            "The 'query' object of the DESIGN.md JSON shape.")
        .def("__repr__", [](const PyQuery& q) {
            const auto& l = q.location;
            const std::string what = l.match == MatchLevel::point ? "point" : l.postcode;
            return "<Query " + what + " (" + str(match_level_name(l.match)) + ") " +
                   fixed(l.position.lat_deg, 6) + ", " + fixed(l.position.lon_deg, 6) + ">";
        });
}

void bind_neighbour(py::module_& m) {
    py::class_<PyNeighbour>(m, "Neighbour", "One ranked site of a nearest answer.")
        .def_property_readonly(
            "rank", [](const PyNeighbour& n) { return n.hit.rank; }, "1-based.")
        .def_property_readonly("site",
                               [](const PyNeighbour& n) {
                                   return PySite{n.index, n.hit.site_index};
                               })
        .def_property_readonly(
            "phone",
            [](const PyNeighbour& n) {
                return PyPhone{n.index, n.index->engine().phone(n.hit.offer_index)};
            },
            "The number to ring for this treatment at this site.")
        .def_property_readonly(
            "distance_m", [](const PyNeighbour& n) { return n.hit.distance_m; },
            "WGS84 geodesic distance, metres (full precision; to_dict() rounds to mm).")
        .def_property_readonly("distance_km",
                               [](const PyNeighbour& n) { return n.hit.distance_m / 1000.0; })
        .def_property_readonly(
            "distance_miles",
            [](const PyNeighbour& n) { return n.hit.distance_m / kMetresPerMile; })
        .def_property_readonly(
            "bearing_deg", [](const PyNeighbour& n) { return n.hit.bearing_deg; },
            "Initial azimuth from the query to the site, [0, 360), 0 = north.")
        .def_property_readonly(
            "compass", [](const PyNeighbour& n) { return str(compass_point(n.hit.bearing_deg)); })
        .def(
            "to_dict",
            [](const PyNeighbour& n) { return from_json_text(n.index->json().result(n.hit)); },
            "One entry of the 'results' list of the DESIGN.md JSON shape.")
        .def("__repr__", [](const PyNeighbour& n) {
            return "<Neighbour " + std::to_string(n.hit.rank) + " " +
                   str(n.index->engine().site(n.hit.site_index).id) + " " +
                   distance_text(n.hit.distance_m) + " " + str(compass_point(n.hit.bearing_deg)) +
                   ">";
        });
}

std::string nearest_repr(const PyNearest& r) {
    const auto& o = r.answer.origin;
    std::string s = "<Nearest " +
                    (o.match == MatchLevel::point
                         ? fixed(o.position.lat_deg, 6) + ", " + fixed(o.position.lon_deg, 6)
                         : o.postcode) +
                    " (" + str(match_level_name(o.match)) + ") " + r.answer.treatment + ":";
    // Appended piece by piece: `" " + std::to_string(...)` trips GCC 12's false -Wrestrict
    // (GCC bug 105651).
    const char* separator = " ";
    for (const auto& n : r.answer.results) {
        s.append(separator).append(std::to_string(n.rank)).append(" ");
        s.append(r.index->engine().site(n.site_index).id)
            .append(" ")
            .append(distance_text(n.distance_m));
        separator = "; ";
    }
    if (r.answer.results.empty()) s += " none";
    return s + ">";
}

void bind_nearest(py::module_& m) {
    py::class_<PyNearest>(
        m, "Nearest",
        "The nearest sites offering a treatment, ranked by WGS84 geodesic distance, "
        "ties by site id. Iterate it, index it, or call to_dict().")
        .def_property_readonly("query", [](const PyNearest& r) { return PyQuery{r.answer.origin}; })
        .def_property_readonly("treatment", [](const PyNearest& r) { return r.answer.treatment; })
        .def_property_readonly("results",
                               [](const PyNearest& r) {
                                   py::list out;
                                   for (const auto& n : r.answer.results)
                                       out.append(PyNeighbour{r.index, n});
                                   return out;
                               })
        .def("__len__", [](const PyNearest& r) { return r.answer.results.size(); })
        .def("__getitem__",
             [](const PyNearest& r, long long i) {
                 return PyNeighbour{r.index,
                                    r.answer.results[python_index(i, r.answer.results.size())]};
             })
        .def(
            "to_dict",
            [](const PyNearest& r) { return from_json_text(r.index->json().nearest(r.answer)); },
            "The DESIGN.md JSON shape: the same dict as json.loads of `hospital-locator nearest "
            "--format json`.")
        .def("__repr__", &nearest_repr);
}

// A coordinate or grid reference of a postcode record: None when it has no coordinates.
template <double PostcodeRecord::*Field>
py::object located_value(const PyPostcode& p) {
    if (!p.record.located) return py::none();
    return py::float_(p.record.*Field);
}

std::string postcode_repr(const PyPostcode& p) {
    const auto& r = p.record;
    std::string s = "<Postcode " + r.postcode + " (" + str(match_level_name(r.match)) + ") ";
    s += r.located ? fixed(r.position.lat_deg, 6) + ", " + fixed(r.position.lon_deg, 6)
                   : "no coordinates";
    if (r.match == MatchLevel::unit) s += " quality " + std::to_string(r.quality);
    return s + " " + r.country + ">";
}

void bind_postcode(py::module_& m) {
    py::class_<PyPostcode>(m, "Postcode",
                           "A postcode's centroid (WGS84), grid reference (OSGB36) and quality.")
        .def_readonly("input", &PyPostcode::input, "What the caller gave, as given.")
        .def_property_readonly(
            "postcode", [](const PyPostcode& p) { return p.record.postcode; },
            "Canonical text of what was found: unit, sector or district.")
        .def_property_readonly(
            "match", [](const PyPostcode& p) { return str(match_level_name(p.record.match)); })
        .def_property_readonly(
            "located", [](const PyPostcode& p) { return p.record.located; },
            "False for a Code-Point quality-90 postcode (no coordinates).")
        .def_property_readonly("lat",
                               [](const PyPostcode& p) -> py::object {
                                   if (!p.record.located) return py::none();
                                   return py::float_(p.record.position.lat_deg);
                               })
        .def_property_readonly("lon",
                               [](const PyPostcode& p) -> py::object {
                                   if (!p.record.located) return py::none();
                                   return py::float_(p.record.position.lon_deg);
                               })
        .def_property_readonly("eastings_m", &located_value<&PostcodeRecord::eastings_m>,
                               "Eastings, metres, on `grid`; means for sectors/districts.")
        .def_property_readonly("northings_m", &located_value<&PostcodeRecord::northings_m>)
        .def_property_readonly(
            "grid",
            [](const PyPostcode& p) -> py::object {
                if (!p.record.located) return py::none();
                return py::str(std::string(p.record.grid));
            },
            "The grid of eastings_m/northings_m: 'EPSG:27700' (British National Grid) or "
            "'EPSG:29903' (Irish Grid, Northern Ireland); None when not located.")
        .def_property_readonly(
            "terminated", [](const PyPostcode& p) { return none_if_empty(p.record.terminated); },
            "'YYYY-MM' when Royal Mail terminated the postcode (an index built from ONSPD), "
            "else None.")
        .def_property_readonly(
            "quality", [](const PyPostcode& p) { return p.record.quality; },
            "Code-Point positional quality (10 best .. 60; 90 unlocated; ONSPD's osgrdind "
            "times 10); 0 for sector and district centroids.")
        .def_property_readonly(
            "postcode_count", [](const PyPostcode& p) { return p.record.postcode_count; },
            "Located member postcodes of a sector or district (1 for a unit).")
        .def_property_readonly("country", [](const PyPostcode& p) { return p.record.country; })
        .def_property_readonly("note",
                               [](const PyPostcode& p) { return none_if_empty(p.record.note); })
        .def(
            "to_dict",
            [](const PyPostcode& p) { return to_python(contract::lookup_json(p.record, p.input)); },
            "The same dict as json.loads of `hospital-locator lookup --format json`.")
        .def("__repr__", &postcode_repr);
}

void bind_reverse_hit(py::module_& m) {
    py::class_<PyReverseHit>(m, "ReverseHit", "One postcode near a point.")
        .def_readonly("rank", &PyReverseHit::rank)
        .def_property_readonly("postcode", [](const PyReverseHit& h) { return h.hit.postcode; })
        .def_property_readonly("lat", [](const PyReverseHit& h) { return h.hit.position.lat_deg; })
        .def_property_readonly("lon", [](const PyReverseHit& h) { return h.hit.position.lon_deg; })
        .def_property_readonly("quality", [](const PyReverseHit& h) { return h.hit.quality; })
        .def_property_readonly(
            "distance_m", [](const PyReverseHit& h) { return h.hit.distance_m; },
            "WGS84 geodesic distance from the point, metres.")
        .def_property_readonly("distance_km",
                               [](const PyReverseHit& h) { return h.hit.distance_m / 1000.0; })
        .def_property_readonly(
            "distance_miles",
            [](const PyReverseHit& h) { return h.hit.distance_m / kMetresPerMile; })
        .def_property_readonly(
            "bearing_deg", [](const PyReverseHit& h) { return h.hit.bearing_deg; },
            "From the point to the postcode, [0, 360), 0 = north.")
        .def_property_readonly(
            "compass", [](const PyReverseHit& h) { return str(compass_point(h.hit.bearing_deg)); })
        .def(
            "to_dict",
            [](const PyReverseHit& h) {
                // The contract writes a reverse answer whole; this hit is the only result of
                // one, its rank put back.
                auto j = contract::reverse_json(h.point, {h.hit})["results"].at(0);
                j["rank"] = h.rank;
                return to_python(j);
            },
            "One entry of the 'results' list of `reverse --format json`.")
        .def("__repr__", [](const PyReverseHit& h) {
            return "<ReverseHit " + std::to_string(h.rank) + " " + h.hit.postcode + " " +
                   fixed(h.hit.distance_m, 1) + " m>";
        });
}

std::string reverse_repr(const PyReverse& r) {
    std::string s =
        "<Reverse " + fixed(r.point.lat_deg, 6) + ", " + fixed(r.point.lon_deg, 6) + ":";
    std::uint32_t rank = 0;
    const char* separator = " ";  // appended piece by piece: see nearest_repr
    for (const auto& h : r.hits) {
        s.append(separator).append(std::to_string(++rank)).append(" ").append(h.postcode);
        s.append(" ").append(fixed(h.distance_m, 1)).append(" m");
        separator = "; ";
    }
    return s + ">";
}

void bind_reverse(py::module_& m) {
    py::class_<PyReverse>(m, "Reverse", "The nearest postcodes to a point, nearest first.")
        .def_property_readonly("lat", [](const PyReverse& r) { return r.point.lat_deg; })
        .def_property_readonly("lon", [](const PyReverse& r) { return r.point.lon_deg; })
        .def_property_readonly("results",
                               [](const PyReverse& r) {
                                   py::list out;
                                   std::uint32_t rank = 0;
                                   for (const auto& h : r.hits)
                                       out.append(PyReverseHit{r.point, ++rank, h});
                                   return out;
                               })
        .def("__len__", [](const PyReverse& r) { return r.hits.size(); })
        .def("__getitem__",
             [](const PyReverse& r, long long i) {
                 const auto at = python_index(i, r.hits.size());
                 return PyReverseHit{r.point, static_cast<std::uint32_t>(at + 1), r.hits[at]};
             })
        .def(
            "to_dict",
            [](const PyReverse& r) { return to_python(contract::reverse_json(r.point, r.hits)); },
            "The same dict as json.loads of `hospital-locator reverse --format json`.")
        .def("__repr__", &reverse_repr);
}

template <auto Field>
auto info_field(const PyIndexInfo& i) {
    return i.info.*Field;
}

void bind_index_info(py::module_& m) {
    py::class_<PyIndexInfo>(m, "IndexInfo",
                            "What an index holds: sources, dates, counts, checksum.")
        .def_property_readonly("format_version", &info_field<&IndexInfo::format_version>)
        .def_property_readonly("checksum", &info_field<&IndexInfo::checksum>,
                               "Payload XXH3-64, 16 hex digits.")
        .def_property_readonly("file_bytes", &info_field<&IndexInfo::file_bytes>)
        .def_property_readonly("built_at", &info_field<&IndexInfo::built_at>)
        .def_property_readonly("builder", &info_field<&IndexInfo::builder>)
        .def_property_readonly("transform", &info_field<&IndexInfo::transform>,
                               "The PROJ pipeline used for EPSG:27700 -> WGS84.")
        .def_property_readonly("transform_irish_grid",
                               &info_field<&IndexInfo::transform_irish_grid>,
                               "The operation and pipeline used for Northern Ireland's Irish Grid "
                               "(EPSG:29903) -> WGS84; '' without Northern Ireland.")
        .def_property_readonly(
            "sources",
            [](const PyIndexInfo& i) { return to_python(contract::info_json(i.info)["sources"]); },
            "One dict per source file: role, file, bytes, modified, xxh3.")
        .def_property_readonly("postcodes", &info_field<&IndexInfo::postcodes>)
        .def_property_readonly("located", &info_field<&IndexInfo::located>)
        .def_property_readonly("unlocated", &info_field<&IndexInfo::unlocated>,
                               "Quality-90 postcodes: lookup only.")
        .def_property_readonly("terminated", &info_field<&IndexInfo::terminated>,
                               "Terminated postcodes (ONSPD): lookup and query origins only.")
        .def_property_readonly("sectors", &info_field<&IndexInfo::sectors>)
        .def_property_readonly("districts", &info_field<&IndexInfo::districts>)
        .def_property_readonly("sites", &info_field<&IndexInfo::sites>)
        .def_property_readonly("treatments",
                               [](const PyIndexInfo& i) {
                                   std::vector<PyTreatment> out;
                                   for (const auto& t : i.info.treatments)
                                       out.push_back({str(t.name), t.site_count});
                                   return out;
                               })
        .def_property_readonly(
            "metadata",
            [](const PyIndexInfo& i) {
                py::dict out;
                for (const auto& [k, v] : i.info.metadata) out[py::str(k)] = v;
                return out;
            },
            "Every key/value of the index's metadata, as stored.")
        .def(
            "to_dict", [](const PyIndexInfo& i) { return to_python(contract::info_json(i.info)); },
            "The same dict as json.loads of `hospital-locator info --format json`.")
        .def("__repr__", [](const PyIndexInfo& i) {
            return "<IndexInfo format " + std::to_string(i.info.format_version) + ", " +
                   std::to_string(i.info.located) + " located postcodes, " +
                   std::to_string(i.info.sites) + " sites, checksum " + i.info.checksum + ">";
        });
}

}  // namespace

void bind_results(py::module_& m) {
    bind_phone(m);
    bind_site(m);
    bind_treatment(m);
    bind_query(m);
    bind_neighbour(m);
    bind_nearest(m);
    bind_postcode(m);
    bind_reverse_hit(m);
    bind_reverse(m);
    bind_index_info(m);
}

}  // namespace hloc::python
