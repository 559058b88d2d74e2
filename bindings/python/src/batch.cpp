// The vectorised calls: nearest_many, lookup_many, reverse_many and postcodes().
//
// Each reads its input column with the GIL held (type and shape checks, and object arrays,
// need it), allocates its output arrays, then releases the GIL and answers the rows on the
// engine from worker threads, writing straight into the arrays: no Python object per row.
// A row's answer is the scalar call's answer (the same engine calls in the same order); a
// row that fails gets its error code in `status` and its message in `messages`, and never
// raises for the whole array. Parameters of the whole call (k, treatment, a distance limit)
// are checked once, up front, and raise as the scalar call would.
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <optional>

#include "bindings.hpp"
#include "columns.hpp"
#include "hloc/geodesy.hpp"
#include "results.hpp"

namespace hloc::python {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::uint8_t kNoMatch = 255;
constexpr std::size_t kPostcodeWidth = 8;  // "SW1A 1AA"
constexpr std::size_t kCountryWidth = 8;   // "Scotland"

std::uint8_t status_of(const Error& e) { return static_cast<std::uint8_t>(e.code()); }

// Where the whole call's parameters are tried before any row: a point the index surely
// answers (its first site, else the middle of Great Britain).
LatLon probe_point(const Engine& engine) {
    if (engine.site_count() > 0) return engine.site(0).position;
    return {53.0, -2.0};
}

unsigned checked_threads(long long threads) {
    if (threads < 0 || threads > 1024) {
        throw Error(
            ErrorCode::invalid_parameter,
            "threads must be between 0 (all cores) and 1024 (got " + std::to_string(threads) + ")");
    }
    return static_cast<unsigned>(threads);
}

// Either a column of postcodes or two columns of latitude/longitude.
struct Origins {
    std::optional<StringColumn> postcodes;
    std::optional<FloatColumn> lat, lon;

    Origins(const py::object& postcode_source, const py::object& lat_source,
            const py::object& lon_source) {
        if (!postcode_source.is_none()) {
            if (!lat_source.is_none() || !lon_source.is_none()) {
                throw Error(ErrorCode::invalid_parameter,
                            "give postcodes or lat/lon arrays, not both");
            }
            postcodes.emplace(postcode_source, "postcodes");
            return;
        }
        if (lat_source.is_none() || lon_source.is_none()) {
            throw Error(ErrorCode::invalid_parameter, "give postcodes, or both lat and lon arrays");
        }
        lat.emplace(lat_source, "lat");
        lon.emplace(lon_source, "lon");
        if (lat->size() != lon->size()) {
            throw py::value_error("lat and lon differ in length (" + std::to_string(lat->size()) +
                                  " and " + std::to_string(lon->size()) + ")");
        }
    }
    std::size_t size() const { return postcodes ? postcodes->size() : lat->size(); }
    Result<Location> locate(const Engine& engine, std::size_t i, std::string& scratch) const {
        if (postcodes) return engine.resolve(postcodes->row(i, scratch));
        return engine.locate_point({(*lat)[i], (*lon)[i]});
    }
};

// ---- nearest_many ------------------------------------------------------------------------

struct NearestBatch {
    EnginePtr engine;
    std::string treatment;
    std::uint32_t k = 0;
    std::size_t rows = 0, approximate = 0, failed = 0;
    py::object site, distance_m, bearing_deg, status, match, lat, lon;
    py::dict messages;
};

NearestBatch nearest_many(const Index& self, const py::object& postcodes, const py::object& lat,
                          const py::object& lon, long long k,
                          const std::optional<std::string>& treatment,
                          std::optional<double> max_miles, std::optional<double> max_km,
                          long long threads) {
    const Engine& engine = *self.engine;
    NearestQuery proto;
    proto.k = checked_k(k);
    if (treatment) proto.treatment = *treatment;
    proto.max_distance_m = max_distance_m(max_miles, max_km);
    const unsigned thread_count = checked_threads(threads);
    std::string treatment_name;
    {
        NearestQuery probe = proto;
        probe.origin.position = probe_point(engine);
        auto answer = engine.nearest(probe);
        if (!answer) throw answer.error();
        treatment_name = answer->treatment;
    }
    const Origins origins(postcodes, lat, lon);
    const std::size_t n = origins.size();
    const auto rows = static_cast<py::ssize_t>(n), cols = static_cast<py::ssize_t>(proto.k);

    auto site = new_array<std::int32_t>({rows, cols});
    auto distance = new_array<double>({rows, cols});
    auto bearing = new_array<double>({rows, cols});
    auto status = new_array<std::uint8_t>({rows});
    auto match = new_array<std::uint8_t>({rows});
    auto origin_lat = new_array<double>({rows});
    auto origin_lon = new_array<double>({rows});
    auto* site_out = site.mutable_data();
    auto* distance_out = distance.mutable_data();
    auto* bearing_out = bearing.mutable_data();
    auto* status_out = status.mutable_data();
    auto* match_out = match.mutable_data();
    auto* lat_out = origin_lat.mutable_data();
    auto* lon_out = origin_lon.mutable_data();

    RowErrors errors;
    std::atomic<std::size_t> approximate{0};
    {
        py::gil_scoped_release release;
        parallel_for(n, thread_count, [&](std::size_t begin, std::size_t end) {
            std::string scratch;
            std::vector<std::pair<std::size_t, Error>> failed;
            std::size_t approximate_here = 0;
            NearestQuery query = proto;
            for (std::size_t i = begin; i < end; ++i) {
                const std::size_t base = i * proto.k;
                std::size_t filled = 0;
                status_out[i] = 0;
                match_out[i] = kNoMatch;
                lat_out[i] = lon_out[i] = kNaN;
                try {
                    auto origin = origins.locate(engine, i, scratch);
                    if (!origin) throw origin.error();
                    query.origin = std::move(origin).value();
                    const auto answer = engine.nearest(query);
                    if (!answer) throw answer.error();
                    const auto& o = answer->origin;
                    match_out[i] = static_cast<std::uint8_t>(o.match);
                    lat_out[i] = o.position.lat_deg;
                    lon_out[i] = o.position.lon_deg;
                    if (o.match == MatchLevel::sector || o.match == MatchLevel::district)
                        ++approximate_here;
                    for (const auto& r : answer->results) {
                        site_out[base + filled] = static_cast<std::int32_t>(r.site_index);
                        distance_out[base + filled] = r.distance_m;
                        bearing_out[base + filled] = r.bearing_deg;
                        ++filled;
                    }
                } catch (const Error& e) {  // nothing escapes a worker: the row carries it
                    status_out[i] = status_of(e);
                    failed.emplace_back(i, e);
                } catch (const std::exception& e) {
                    status_out[i] = static_cast<std::uint8_t>(ErrorCode::internal);
                    failed.emplace_back(i, Error(ErrorCode::internal, e.what()));
                }
                for (std::size_t j = filled; j < proto.k; ++j) {
                    site_out[base + j] = -1;
                    distance_out[base + j] = kNaN;
                    bearing_out[base + j] = kNaN;
                }
            }
            errors.add(failed);
            approximate += approximate_here;
        });
    }
    NearestBatch out;
    out.engine = self.engine;
    out.treatment = treatment_name;
    out.k = proto.k;
    out.rows = n;
    out.approximate = approximate;
    out.failed = errors.size();
    out.site = std::move(site);
    out.distance_m = std::move(distance);
    out.bearing_deg = std::move(bearing);
    out.status = std::move(status);
    out.match = std::move(match);
    out.lat = std::move(origin_lat);
    out.lon = std::move(origin_lon);
    out.messages = errors.messages();
    return out;
}

// The sites' ids (or any per-site text) for site indices, '' for -1.
py::array site_text(const NearestBatch& b, std::string_view (*field)(const SiteView&)) {
    std::vector<std::string> table;
    std::size_t width = 1;
    for (std::uint32_t s = 0; s < b.engine->site_count(); ++s) {
        table.emplace_back(field(b.engine->site(s)));
        width = std::max(width, table.back().size());
    }
    for (const auto& t : table) {
        for (unsigned char c : t) {
            if (c >= 0x80) {  // not ASCII: let NumPy encode it
                py::list items;
                for (const auto& u : table) items.append(py::str(u));
                items.append(py::str(""));
                py::array lookup = numpy().attr("array")(items);
                py::array index = numpy().attr("where")(py::array(b.site).attr("__lt__")(0),
                                                        py::int_(table.size()), b.site);
                return lookup.attr("__getitem__")(index);
            }
        }
    }
    const py::array_t<std::int32_t> sites = b.site;
    const auto rows = sites.shape(0), cols = sites.shape(1);
    auto out = new_unicode_array({rows, cols}, width);
    const auto* in = sites.data();
    auto* slots = static_cast<std::uint32_t*>(out.mutable_data());
    for (py::ssize_t i = 0; i < rows * cols; ++i) {
        if (in[i] >= 0)
            put_ascii(slots + static_cast<std::size_t>(i) * width, width,
                      table[static_cast<std::size_t>(in[i])]);
    }
    return out;
}

// status codes -> names ("ok", "invalid_postcode", ...) as an object array, by table lookup.
py::object code_names(const py::object& codes,
                      const std::vector<std::pair<int, std::string>>& names,
                      bool none_for_missing) {
    py::list table(256);
    for (std::size_t i = 0; i < 256; ++i)
        table[i] = none_for_missing ? py::none() : py::object(py::str("unknown"));
    for (const auto& [code, name] : names) table[static_cast<std::size_t>(code)] = py::str(name);
    auto np = numpy();
    py::array lookup = np.attr("array")(table, py::arg("dtype") = "object");
    return lookup.attr("__getitem__")(codes);
}

std::vector<std::pair<int, std::string>> status_table() {
    std::vector<std::pair<int, std::string>> names = {{0, "ok"}};
    for (int c = 1; c <= static_cast<int>(ErrorCode::internal); ++c) {
        names.emplace_back(c, std::string(error_code_name(static_cast<ErrorCode>(c))));
    }
    return names;
}

std::vector<std::pair<int, std::string>> match_table() {
    std::vector<std::pair<int, std::string>> names;
    for (auto m : {MatchLevel::unit, MatchLevel::sector, MatchLevel::district, MatchLevel::point}) {
        names.emplace_back(static_cast<int>(m), std::string(match_level_name(m)));
    }
    return names;
}

// ---- lookup_many -------------------------------------------------------------------------

struct LookupBatch {
    std::size_t rows = 0, failed = 0;
    py::object postcode, match, located, lat, lon, eastings_m, northings_m, quality, postcode_count,
        country, status;
    py::dict messages;
};

LookupBatch lookup_many(const Index& self, const py::object& postcodes, long long threads) {
    const Engine& engine = *self.engine;
    const unsigned thread_count = checked_threads(threads);
    const StringColumn column(postcodes, "postcodes");
    const std::size_t n = column.size();
    const auto rows = static_cast<py::ssize_t>(n);
    auto postcode = new_unicode_array({rows}, kPostcodeWidth);
    auto country = new_unicode_array({rows}, kCountryWidth);
    auto match = new_array<std::uint8_t>({rows});
    auto located = new_array<bool>({rows});
    auto lat = new_array<double>({rows});
    auto lon = new_array<double>({rows});
    auto eastings = new_array<double>({rows});
    auto northings = new_array<double>({rows});
    auto quality = new_array<std::uint8_t>({rows});
    auto count = new_array<std::uint32_t>({rows});
    auto status = new_array<std::uint8_t>({rows});
    auto* postcode_out = static_cast<std::uint32_t*>(postcode.mutable_data());
    auto* country_out = static_cast<std::uint32_t*>(country.mutable_data());
    auto* match_out = match.mutable_data();
    auto* located_out = located.mutable_data();
    auto* lat_out = lat.mutable_data();
    auto* lon_out = lon.mutable_data();
    auto* eastings_out = eastings.mutable_data();
    auto* northings_out = northings.mutable_data();
    auto* quality_out = quality.mutable_data();
    auto* count_out = count.mutable_data();
    auto* status_out = status.mutable_data();

    RowErrors errors;
    {
        py::gil_scoped_release release;
        parallel_for(n, thread_count, [&](std::size_t begin, std::size_t end) {
            std::string scratch;
            std::vector<std::pair<std::size_t, Error>> failed;
            for (std::size_t i = begin; i < end; ++i) {
                status_out[i] = 0;
                match_out[i] = kNoMatch;
                located_out[i] = false;
                lat_out[i] = lon_out[i] = eastings_out[i] = northings_out[i] = kNaN;
                quality_out[i] = 0;
                count_out[i] = 0;
                try {
                    auto found = engine.lookup(column.row(i, scratch));
                    if (!found) throw found.error();
                    const auto& r = *found;
                    put_ascii(postcode_out + i * kPostcodeWidth, kPostcodeWidth, r.postcode);
                    put_ascii(country_out + i * kCountryWidth, kCountryWidth, r.country);
                    match_out[i] = static_cast<std::uint8_t>(r.match);
                    located_out[i] = r.located;
                    if (r.located) {
                        lat_out[i] = r.position.lat_deg;
                        lon_out[i] = r.position.lon_deg;
                        eastings_out[i] = r.eastings_m;
                        northings_out[i] = r.northings_m;
                    }
                    quality_out[i] = r.quality;
                    count_out[i] = r.postcode_count;
                } catch (const Error& e) {
                    status_out[i] = status_of(e);
                    failed.emplace_back(i, e);
                } catch (const std::exception& e) {
                    status_out[i] = static_cast<std::uint8_t>(ErrorCode::internal);
                    failed.emplace_back(i, Error(ErrorCode::internal, e.what()));
                }
            }
            errors.add(failed);
        });
    }
    LookupBatch out;
    out.rows = n;
    out.failed = errors.size();
    out.postcode = std::move(postcode);
    out.match = std::move(match);
    out.located = std::move(located);
    out.lat = std::move(lat);
    out.lon = std::move(lon);
    out.eastings_m = std::move(eastings);
    out.northings_m = std::move(northings);
    out.quality = std::move(quality);
    out.postcode_count = std::move(count);
    out.country = std::move(country);
    out.status = std::move(status);
    out.messages = errors.messages();
    return out;
}

// ---- reverse_many ------------------------------------------------------------------------

struct ReverseBatch {
    std::uint32_t k = 0;
    std::size_t rows = 0, failed = 0;
    py::object postcode, distance_m, bearing_deg, quality, status;
    py::dict messages;
};

ReverseBatch reverse_many(const Index& self, const py::object& lat_source,
                          const py::object& lon_source, long long k, long long threads) {
    const Engine& engine = *self.engine;
    const std::uint32_t kk = checked_k(k);
    const unsigned thread_count = checked_threads(threads);
    {
        // Loads the postcode tree once, here, and raises BadIndex for the call if it is damaged.
        py::gil_scoped_release release;
        auto probe = engine.reverse({probe_point(engine), kk});
        if (!probe) throw probe.error();
    }
    const Origins origins(py::none(), lat_source, lon_source);
    const std::size_t n = origins.size();
    const auto rows = static_cast<py::ssize_t>(n), cols = static_cast<py::ssize_t>(kk);
    auto postcode = new_unicode_array({rows, cols}, kPostcodeWidth);
    auto distance = new_array<double>({rows, cols});
    auto bearing = new_array<double>({rows, cols});
    auto quality = new_array<std::uint8_t>({rows, cols});
    auto status = new_array<std::uint8_t>({rows});
    auto* postcode_out = static_cast<std::uint32_t*>(postcode.mutable_data());
    auto* distance_out = distance.mutable_data();
    auto* bearing_out = bearing.mutable_data();
    auto* quality_out = quality.mutable_data();
    auto* status_out = status.mutable_data();

    RowErrors errors;
    {
        py::gil_scoped_release release;
        parallel_for(n, thread_count, [&](std::size_t begin, std::size_t end) {
            std::vector<std::pair<std::size_t, Error>> failed;
            for (std::size_t i = begin; i < end; ++i) {
                const std::size_t base = i * kk;
                std::size_t filled = 0;
                status_out[i] = 0;
                try {
                    auto hits = engine.reverse({{(*origins.lat)[i], (*origins.lon)[i]}, kk});
                    if (!hits) throw hits.error();
                    for (const auto& h : *hits) {
                        put_ascii(postcode_out + (base + filled) * kPostcodeWidth, kPostcodeWidth,
                                  h.postcode);
                        distance_out[base + filled] = h.distance_m;
                        bearing_out[base + filled] = h.bearing_deg;
                        quality_out[base + filled] = h.quality;
                        ++filled;
                    }
                } catch (const Error& e) {
                    status_out[i] = status_of(e);
                    failed.emplace_back(i, e);
                } catch (const std::exception& e) {
                    status_out[i] = static_cast<std::uint8_t>(ErrorCode::internal);
                    failed.emplace_back(i, Error(ErrorCode::internal, e.what()));
                }
                for (std::size_t j = filled; j < kk; ++j) {
                    distance_out[base + j] = kNaN;
                    bearing_out[base + j] = kNaN;
                    quality_out[base + j] = 0;
                }
            }
            errors.add(failed);
        });
    }
    ReverseBatch out;
    out.k = kk;
    out.rows = n;
    out.failed = errors.size();
    out.postcode = std::move(postcode);
    out.distance_m = std::move(distance);
    out.bearing_deg = std::move(bearing);
    out.quality = std::move(quality);
    out.status = std::move(status);
    out.messages = errors.messages();
    return out;
}

// ---- the whole table -----------------------------------------------------------------------

py::array postcodes(const Index& self, long long threads) {
    const Engine& engine = *self.engine;
    const unsigned thread_count = checked_threads(threads);
    const std::size_t n = engine.located_count();
    auto out = new_unicode_array({static_cast<py::ssize_t>(n)}, kPostcodeWidth);
    auto* slots = static_cast<std::uint32_t*>(out.mutable_data());
    {
        py::gil_scoped_release release;
        parallel_for(n, thread_count, [&](std::size_t begin, std::size_t end) {
            for (std::size_t i = begin; i < end; ++i) {
                const auto record = engine.located_postcode(static_cast<std::uint32_t>(i));
                put_ascii(slots + i * kPostcodeWidth, kPostcodeWidth, record.postcode);
            }
        });
    }
    return out;
}

// api::round_to over an array: the CLI's and the batch CSV's rounding, exactly.
py::array_t<double> round_to_array(
    const py::array_t<double, py::array::c_style | py::array::forcecast>& values, int decimals) {
    std::vector<py::ssize_t> shape(values.shape(), values.shape() + values.ndim());
    py::array_t<double> out(shape);
    const auto* in = values.data();
    auto* o = out.mutable_data();
    for (py::ssize_t i = 0; i < values.size(); ++i) o[i] = api::round_to(in[i], decimals);
    return out;
}

std::string counts_text(std::size_t rows, std::size_t failed) {
    return std::to_string(rows) + " rows: " + std::to_string(rows - failed) + " answered, " +
           std::to_string(failed) + " failed";
}

}  // namespace

void bind_batches(py::module_& m, py::class_<Index, std::shared_ptr<Index>>& index) {
    m.def("_round_to", &round_to_array, py::arg("values"), py::arg("decimals"));

    py::class_<NearestBatch>(
        m, "NearestBatch", R"doc(Answers of Index.nearest_many, one row per input, as NumPy arrays.

site         int32   [n, k]  index into Index.sites() (see site_ids, ids()), -1 where there is none
distance_m   float64 [n, k]  WGS84 geodesic distance, metres; NaN where there is no site
bearing_deg  float64 [n, k]  initial bearing from the origin, degrees; NaN where there is no site
status       uint8   [n]     0 ok, else the error code (hospital_locator.STATUS_NAMES)
match        uint8   [n]     0 unit, 1 sector, 2 district, 3 point (MATCH_NAMES); 255 failed
lat, lon     float64 [n]     the resolved origin, WGS84 degrees; NaN for a failed row
messages     dict            row -> the error message of every failed row)doc")
        .def_readonly("site", &NearestBatch::site)
        .def_readonly("distance_m", &NearestBatch::distance_m)
        .def_readonly("bearing_deg", &NearestBatch::bearing_deg)
        .def_readonly("status", &NearestBatch::status)
        .def_readonly("match", &NearestBatch::match)
        .def_readonly("lat", &NearestBatch::lat)
        .def_readonly("lon", &NearestBatch::lon)
        .def_readonly("messages", &NearestBatch::messages)
        .def_readonly("treatment", &NearestBatch::treatment)
        .def_readonly("k", &NearestBatch::k)
        .def_readonly("approximate", &NearestBatch::approximate,
                      "Rows answered from a sector or district centroid.")
        .def_readonly("failed", &NearestBatch::failed, "Rows with a non-zero status.")
        .def_property_readonly(
            "sites",
            [](const NearestBatch& b) {
                std::vector<PySite> out;
                for (std::uint32_t i = 0; i < b.engine->site_count(); ++i)
                    out.push_back({b.engine, i});
                return out;
            },
            "The site table: sites[i] is the Site that `site` value i stands for.")
        .def_property_readonly(
            "site_ids",
            [](const NearestBatch& b) {
                py::list ids;
                for (std::uint32_t i = 0; i < b.engine->site_count(); ++i)
                    ids.append(py::str(std::string(b.engine->site(i).id)));
                return numpy().attr("array")(ids, py::arg("dtype") = "str");
            },
            "Site ids by site index: site_ids[site] maps the site array to ids (mind the -1s).")
        .def_property_readonly(
            "phones",
            [](const NearestBatch& b) {
                py::list phones;  // the number this treatment's listing gives, per site
                for (std::uint32_t i = 0; i < b.engine->site_count(); ++i) {
                    const auto v = b.engine->site(i);
                    std::string display;
                    for (std::size_t t = 0; t < v.treatments.size(); ++t) {
                        if (v.treatments[t] == b.treatment)
                            display = std::string(v.phones[t].display);
                    }
                    phones.append(py::str(display));
                }
                return numpy().attr("array")(phones, py::arg("dtype") = "str");
            },
            "Phone (national display form) for this treatment by site index; '' for a site not "
            "offering it.")
        .def(
            "ids",
            [](const NearestBatch& b) {
                return site_text(b, [](const SiteView& s) { return s.id; });
            },
            "Site ids, str [n, k], '' where there is no site.")
        .def(
            "status_names",
            [](const NearestBatch& b) { return code_names(b.status, status_table(), false); },
            "status as names, object [n]: 'ok', 'invalid_postcode', ...")
        .def(
            "match_names",
            [](const NearestBatch& b) { return code_names(b.match, match_table(), true); },
            "match as names, object [n]: 'unit', 'sector', 'district', 'point', None for a failed "
            "row.")
        .def("__len__", [](const NearestBatch& b) { return b.rows; })
        .def("__repr__", [](const NearestBatch& b) {
            return "<NearestBatch " + b.treatment + ", k=" + std::to_string(b.k) + ", " +
                   counts_text(b.rows, b.failed) + ", " + std::to_string(b.approximate) +
                   " approximate>";
        });

    py::class_<LookupBatch>(m, "LookupBatch",
                            R"doc(Answers of Index.lookup_many, one row per input, as NumPy arrays.

postcode        str     [n]  canonical text of what was found (unit, sector or district); '' failed
match           uint8   [n]  0 unit, 1 sector, 2 district (MATCH_NAMES); 255 failed
located         bool    [n]  False for a quality-90 postcode (no coordinates) and failed rows
lat, lon        float64 [n]  WGS84 degrees; NaN when not located
eastings_m, northings_m float64 [n]  British National Grid (OSGB36); NaN when not located
quality         uint8   [n]  Code-Point positional quality; 0 for sectors, districts, failures
postcode_count  uint32  [n]  located members of a sector or district; 1 for a unit
country         str     [n]  'England', 'Scotland', 'Wales'
status          uint8   [n]  0 ok, else the error code (STATUS_NAMES)
messages        dict         row -> the error message of every failed row)doc")
        .def_readonly("postcode", &LookupBatch::postcode)
        .def_readonly("match", &LookupBatch::match)
        .def_readonly("located", &LookupBatch::located)
        .def_readonly("lat", &LookupBatch::lat)
        .def_readonly("lon", &LookupBatch::lon)
        .def_readonly("eastings_m", &LookupBatch::eastings_m)
        .def_readonly("northings_m", &LookupBatch::northings_m)
        .def_readonly("quality", &LookupBatch::quality)
        .def_readonly("postcode_count", &LookupBatch::postcode_count)
        .def_readonly("country", &LookupBatch::country)
        .def_readonly("status", &LookupBatch::status)
        .def_readonly("messages", &LookupBatch::messages)
        .def_readonly("failed", &LookupBatch::failed)
        .def("status_names",
             [](const LookupBatch& b) { return code_names(b.status, status_table(), false); })
        .def("match_names",
             [](const LookupBatch& b) { return code_names(b.match, match_table(), true); })
        .def("__len__", [](const LookupBatch& b) { return b.rows; })
        .def("__repr__", [](const LookupBatch& b) {
            return "<LookupBatch " + counts_text(b.rows, b.failed) + ">";
        });

    py::class_<ReverseBatch>(
        m, "ReverseBatch", R"doc(Answers of Index.reverse_many, one row per point, as NumPy arrays.

postcode     str     [n, k]  the nearest located postcodes, nearest first; '' where there is none
distance_m   float64 [n, k]  WGS84 geodesic distance from the point, metres; NaN where none
bearing_deg  float64 [n, k]  from the point to the postcode, degrees; NaN where none
quality      uint8   [n, k]  Code-Point positional quality; 0 where none
status       uint8   [n]     0 ok, else the error code (STATUS_NAMES)
messages     dict            row -> the error message of every failed row)doc")
        .def_readonly("postcode", &ReverseBatch::postcode)
        .def_readonly("distance_m", &ReverseBatch::distance_m)
        .def_readonly("bearing_deg", &ReverseBatch::bearing_deg)
        .def_readonly("quality", &ReverseBatch::quality)
        .def_readonly("status", &ReverseBatch::status)
        .def_readonly("messages", &ReverseBatch::messages)
        .def_readonly("k", &ReverseBatch::k)
        .def_readonly("failed", &ReverseBatch::failed)
        .def("status_names",
             [](const ReverseBatch& b) { return code_names(b.status, status_table(), false); })
        .def("__len__", [](const ReverseBatch& b) { return b.rows; })
        .def("__repr__", [](const ReverseBatch& b) {
            return "<ReverseBatch k=" + std::to_string(b.k) + ", " + counts_text(b.rows, b.failed) +
                   ">";
        });

    index
        .def(
            "nearest_many", &nearest_many, py::arg("postcodes") = py::none(), py::kw_only(),
            py::arg("lat") = py::none(), py::arg("lon") = py::none(), py::arg("k") = 3,
            py::arg("treatment") = py::none(), py::arg("max_miles") = py::none(),
            py::arg("max_km") = py::none(), py::arg("threads") = 0,
            R"doc(nearest() for many postcodes, or many points, at once: a NearestBatch of NumPy arrays.

postcodes: a 1-D NumPy array of str (fastest: no Python object per row), bytes or objects,
  a list, or a pandas Series; None, NaN and pd.NA count as missing. Or give lat and lon:
  1-D numeric arrays of WGS84 degrees, of one length.
k, treatment, max_miles, max_km: as for nearest(); checked once, raising as nearest() would.
threads: worker threads, 0 for all cores. The GIL is released while they work.

Each row's answer is exactly nearest()'s for that row. A row that fails (a bad postcode, a
point out of range) gets its error code in status and its message in messages; it never
raises for the whole array. Raises TypeError or ValueError for input of the wrong type,
dtype or shape.)doc")
        .def("lookup_many", &lookup_many, py::arg("postcodes"), py::kw_only(),
             py::arg("threads") = 0,
             "lookup() for many postcodes at once: a LookupBatch of NumPy arrays (see nearest_many "
             "for the accepted inputs and how failed rows are reported).")
        .def("reverse_many", &reverse_many, py::arg("lat"), py::arg("lon"), py::kw_only(),
             py::arg("k") = 1, py::arg("threads") = 0,
             "reverse() for many points at once (1-D numeric arrays of WGS84 degrees): a "
             "ReverseBatch "
             "of NumPy arrays. Loads the postcode KD-tree first if it is not loaded.")
        .def("postcodes", &postcodes, py::kw_only(), py::arg("threads") = 0,
             "Every located postcode, in index order (district, then inward code), as a NumPy str "
             "array ('<U8') of located_count() rows: row i is located_postcode(i). ~0.3 s for GB.");
}

}  // namespace hloc::python
