// The vectorised calls: nearest_many, lookup_many, reverse_many and postcodes().
//
// Each reads its input column with the GIL held (type and shape checks, and object arrays,
// need it), allocates its output arrays, then releases the GIL and answers the rows on the
// engine from worker threads, writing straight into the arrays: no Python object per row.
// A row's answer is the scalar call's answer (the same contract and engine calls in the same
// order); a row that fails gets its error code in `status` and its message in `messages`, and
// never raises for the whole array. Parameters of the whole call (k, treatment, a distance
// limit) are validated once by the contract, up front, and raise as the scalar call would.
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>

#include "bindings.hpp"
#include "columns.hpp"
#include "hloc/contract/request.hpp"
#include "hloc/contract/status.hpp"
#include "nearest_csv.hpp"
#include "requests.hpp"
#include "results.hpp"

namespace hloc::python {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::uint8_t kNoMatch = 255;
constexpr std::size_t kPostcodeWidth = 8;  // "SW1A 1AA"
constexpr std::size_t kCountryWidth = 16;  // "Northern Ireland"
constexpr std::size_t kMonthWidth = 7;     // "2001-05"

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
    // Row i's origin, resolved by the contract as the scalar call resolves its own.
    Result<Location> locate(const Engine& engine, std::size_t i, std::string& scratch) const {
        contract::NearestRequest request;
        if (postcodes) {
            request.postcode.emplace(postcodes->row(i, scratch));
        } else {
            request.lat = (*lat)[i];
            request.lon = (*lon)[i];
        }
        return contract::resolve_origin(engine, request);
    }
};

// ---- nearest_many ------------------------------------------------------------------------

// The arrays of a NearestBatch, written row by row from worker threads.
struct NearestColumns {
    NearestColumns(std::size_t rows, std::uint32_t k_) : k(k_) {
        const auto n = static_cast<py::ssize_t>(rows), cols = static_cast<py::ssize_t>(k);
        site = new_array<std::int32_t>({n, cols});
        distance_m = new_array<double>({n, cols});
        bearing_deg = new_array<double>({n, cols});
        status = new_array<std::uint8_t>({n});
        match = new_array<std::uint8_t>({n});
        lat = new_array<double>({n});
        lon = new_array<double>({n});
        site_out = site.mutable_data();
        distance_out = distance_m.mutable_data();
        bearing_out = bearing_deg.mutable_data();
        status_out = status.mutable_data();
        match_out = match.mutable_data();
        lat_out = lat.mutable_data();
        lon_out = lon.mutable_data();
    }

    // No answer: a failed row.
    void clear(std::size_t i) {
        match_out[i] = kNoMatch;
        lat_out[i] = lon_out[i] = kNaN;
        clear_sites(i, 0);
    }
    // The site slots an answer leaves empty, from `from` on (all of them when no site is
    // within the distance limit: the row keeps its match and position).
    void clear_sites(std::size_t i, std::size_t from) {
        for (std::size_t j = i * k + from; j < (i + 1) * k; ++j) {
            site_out[j] = -1;
            distance_out[j] = bearing_out[j] = kNaN;
        }
    }

    void put(std::size_t i, const NearestAnswer& answer) {
        const auto& o = answer.origin;
        match_out[i] = static_cast<std::uint8_t>(o.match);
        lat_out[i] = o.position.lat_deg;
        lon_out[i] = o.position.lon_deg;
        std::size_t j = i * k;
        for (const auto& r : answer.results) {
            site_out[j] = static_cast<std::int32_t>(r.site_index);
            distance_out[j] = r.distance_m;
            bearing_out[j] = r.bearing_deg;
            ++j;
        }
        clear_sites(i, answer.results.size());
    }

    // Answered rows from a sector or district centroid (the contract's "approximate").
    std::size_t approximate(std::size_t rows) const {
        std::size_t count = 0;
        for (std::size_t i = 0; i < rows; ++i) {
            count +=
                status_out[i] == 0 && contract::status_of(static_cast<MatchLevel>(match_out[i])) ==
                                          contract::RowStatus::approximate;
        }
        return count;
    }

    std::uint32_t k;
    py::array_t<std::int32_t> site;
    py::array_t<double> distance_m, bearing_deg, lat, lon;
    py::array_t<std::uint8_t> status, match;
    std::int32_t* site_out;
    double *distance_out, *bearing_out, *lat_out, *lon_out;
    std::uint8_t *status_out, *match_out;
};

struct NearestBatch {
    IndexPtr index;
    std::string treatment;
    std::uint32_t k = 0;
    std::size_t rows = 0, approximate = 0, failed = 0;
    py::object site, distance_m, bearing_deg, status, match, lat, lon;
    py::dict messages;
    py::object postcodes;  // what the batch was asked, None for points: to_csv's key column
};

NearestBatch nearest_many(const Index& self, const py::object& postcodes, const py::object& lat,
                          const py::object& lon, py::handle k,
                          const std::optional<std::string>& treatment, py::handle max_miles,
                          py::handle max_km, py::handle threads) {
    const Engine& engine = self.engine();
    const auto options = unwrap(
        contract::validate_options(engine, nearest_options(k, treatment, max_miles, max_km)));
    const unsigned workers = thread_count(threads);
    const Origins origins(postcodes, lat, lon);
    const std::size_t n = origins.size();
    NearestColumns columns(n, options.k);
    RowErrors errors;
    answer_rows(n, workers, columns.status_out, errors,
                [&](std::size_t i, std::string& scratch) -> std::optional<Error> {
                    columns.clear(i);
                    auto origin = origins.locate(engine, i, scratch);
                    if (!origin) return origin.error();
                    const auto answer =
                        engine.nearest(contract::make_query(options, std::move(origin).value()));
                    if (!answer) return answer.error();
                    columns.put(i, *answer);
                    return std::nullopt;
                });
    NearestBatch out;
    out.index = self.shared_from_this();
    out.treatment = options.treatment;
    out.k = options.k;
    out.rows = n;
    out.approximate = columns.approximate(n);
    out.failed = errors.size();
    out.site = std::move(columns.site);
    out.distance_m = std::move(columns.distance_m);
    out.bearing_deg = std::move(columns.bearing_deg);
    out.status = std::move(columns.status);
    out.match = std::move(columns.match);
    out.lat = std::move(columns.lat);
    out.lon = std::move(columns.lon);
    out.messages = errors.messages();
    out.postcodes = postcodes;
    return out;
}

// NearestBatch.to_csv: the key columns (None: the postcodes asked, as "postcode"; else a dict
// or a DataFrame of str columns), then the batch CSV of `hospital-locator batch`.
KeyColumns key_columns(const NearestBatch& b, const py::object& keys) {
    KeyColumns out;
    const auto add = [&](const py::handle name, const py::handle column) {
        if (!PyUnicode_Check(name.ptr())) {
            throw py::type_error(
                "keys: a column name must be a str, not " +
                py::str(py::type::handle_of(name).attr("__name__")).cast<std::string>());
        }
        out.names.push_back(name.cast<std::string>());
        const std::string what = "keys['" + out.names.back() + "']";
        out.columns.emplace_back(column, what.c_str());
        if (out.columns.back().size() != b.rows) {
            throw py::value_error(what + " has " + std::to_string(out.columns.back().size()) +
                                  " rows, the batch " + std::to_string(b.rows));
        }
    };
    if (keys.is_none()) {
        if (!b.postcodes.is_none()) add(py::str("postcode"), b.postcodes);
    } else if (py::isinstance<py::dict>(keys)) {
        for (const auto item : py::reinterpret_borrow<py::dict>(keys)) add(item.first, item.second);
    } else if (py::hasattr(keys, "columns") && py::hasattr(keys, "__getitem__")) {
        for (const auto name : keys.attr("columns")) add(name, keys[name]);  // a DataFrame
    } else {
        throw py::type_error(
            "keys must be None, a dict or a pandas DataFrame of str columns, not " +
            py::str(py::type::handle_of(keys).attr("__name__")).cast<std::string>());
    }
    return out;
}

std::size_t batch_to_csv(const NearestBatch& b, const py::object& path, const py::object& keys,
                         py::handle threads) {
    const auto os = py::module_::import("os");
    const auto target = os.attr("fsdecode")(os.attr("fspath")(path)).cast<std::string>();
    const unsigned workers = thread_count(threads);
    const auto key = key_columns(b, keys);
    std::unordered_map<std::size_t, std::string> messages;
    for (const auto item : b.messages)
        messages.emplace(item.first.cast<std::size_t>(), item.second.cast<std::string>());
    const py::array_t<std::int32_t> site = b.site;
    const py::array_t<double> distance = b.distance_m, lat = b.lat, lon = b.lon;
    const py::array_t<std::uint8_t> status = b.status, match = b.match;
    // Each site's offer of the batch's treatment: the phone its rows print.
    const Engine& engine = b.index->engine();
    const auto sites = static_cast<std::int32_t>(engine.site_count());
    constexpr auto kNone = std::numeric_limits<std::uint32_t>::max();
    std::vector<std::uint32_t> offer_of_site(engine.site_count(), kNone);
    for (std::uint32_t s = 0; s < engine.site_count(); ++s)
        offer_of_site[s] = engine.offer_index(b.treatment, s).value_or(kNone);
    // The arrays are the caller's to change: refuse what no answer holds rather than write it.
    for (py::ssize_t i = 0; i < site.size(); ++i) {
        const auto s = site.data()[i];
        if (s < -1 || s >= sites ||
            (s >= 0 && offer_of_site[static_cast<std::size_t>(s)] == kNone)) {
            throw py::value_error("site holds " + std::to_string(s) + ", not a site offering " +
                                  b.treatment + ": was the batch changed?");
        }
    }
    for (py::ssize_t i = 0; i < status.size(); ++i) {
        const auto s = status.data()[i], m = match.data()[i];
        if (s > static_cast<std::uint8_t>(ErrorCode::internal) ||
            (s == 0 && m > static_cast<std::uint8_t>(MatchLevel::terminated))) {
            throw py::value_error("row " + std::to_string(i) + " holds status " +
                                  std::to_string(s) + ", match " + std::to_string(m) +
                                  ", which no answer gives: was the batch changed?");
        }
    }
    NearestRows rows;
    rows.rows = b.rows;
    rows.k = b.k;
    rows.site = site.data();
    rows.offer_of_site = offer_of_site.data();
    rows.distance_m = distance.data();
    rows.status = status.data();
    rows.match = match.data();
    rows.lat = lat.data();
    rows.lon = lon.data();
    rows.messages = &messages;
    {
        py::gil_scoped_release release;
        write_nearest_csv(engine, target, key, rows, workers);
    }
    return b.rows;
}

// The sites' ids (or any per-site text) for site indices, '' for -1.
py::array site_text(const NearestBatch& b, std::string_view (*field)(const SiteView&)) {
    const Engine& engine = b.index->engine();
    std::vector<std::string> table;
    std::size_t width = 1;
    for (std::uint32_t s = 0; s < engine.site_count(); ++s) {
        table.emplace_back(field(engine.site(s)));
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

// Codes -> names as an object array, by table lookup.
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

// status values: 0 "ok", else the engine's error code names ("invalid_postcode", ...).
std::vector<std::pair<int, std::string>> status_table() {
    std::vector<std::pair<int, std::string>> names = {{0, "ok"}};
    for (int c = 1; c <= static_cast<int>(ErrorCode::internal); ++c) {
        names.emplace_back(c, std::string(error_code_name(static_cast<ErrorCode>(c))));
    }
    return names;
}

std::vector<std::pair<int, std::string>> match_table() {
    std::vector<std::pair<int, std::string>> names;
    for (auto m : {MatchLevel::unit, MatchLevel::sector, MatchLevel::district, MatchLevel::point,
                   MatchLevel::terminated}) {
        names.emplace_back(static_cast<int>(m), std::string(match_level_name(m)));
    }
    return names;
}

// The batch report's status of each row, from the contract: ok or approximate by how an
// answered row was matched, not_found, not_covered or invalid by a failed row's error code.
py::object row_status_names(const NearestBatch& b) {
    const py::array_t<std::uint8_t> status = b.status, match = b.match;
    const auto n = status.shape(0);
    auto row_status = new_array<std::uint8_t>({n});
    auto* out = row_status.mutable_data();
    for (py::ssize_t i = 0; i < n; ++i) {
        const auto s = status.data()[i];
        out[i] = static_cast<std::uint8_t>(
            s == 0 ? contract::status_of(static_cast<MatchLevel>(match.data()[i]))
                   : contract::status_for(static_cast<ErrorCode>(s)));
    }
    std::vector<std::pair<int, std::string>> names;
    for (int s = 0; s < contract::kRowStatusCount; ++s) {
        names.emplace_back(s,
                           std::string(contract::status_name(static_cast<contract::RowStatus>(s))));
    }
    return code_names(row_status, names, false);
}

// ---- lookup_many -------------------------------------------------------------------------

// The arrays of a LookupBatch, written row by row from worker threads.
struct LookupColumns {
    explicit LookupColumns(std::size_t rows) {
        const auto n = static_cast<py::ssize_t>(rows);
        postcode = new_unicode_array({n}, kPostcodeWidth);
        country = new_unicode_array({n}, kCountryWidth);
        terminated = new_unicode_array({n}, kMonthWidth);
        match = new_array<std::uint8_t>({n});
        located = new_array<bool>({n});
        lat = new_array<double>({n});
        lon = new_array<double>({n});
        eastings_m = new_array<double>({n});
        northings_m = new_array<double>({n});
        quality = new_array<std::uint8_t>({n});
        postcode_count = new_array<std::uint32_t>({n});
        status = new_array<std::uint8_t>({n});
        postcode_out = static_cast<std::uint32_t*>(postcode.mutable_data());
        country_out = static_cast<std::uint32_t*>(country.mutable_data());
        terminated_out = static_cast<std::uint32_t*>(terminated.mutable_data());
        match_out = match.mutable_data();
        located_out = located.mutable_data();
        lat_out = lat.mutable_data();
        lon_out = lon.mutable_data();
        eastings_out = eastings_m.mutable_data();
        northings_out = northings_m.mutable_data();
        quality_out = quality.mutable_data();
        count_out = postcode_count.mutable_data();
        status_out = status.mutable_data();
    }

    void clear(std::size_t i) {
        match_out[i] = kNoMatch;
        located_out[i] = false;
        lat_out[i] = lon_out[i] = eastings_out[i] = northings_out[i] = kNaN;
        quality_out[i] = 0;
        count_out[i] = 0;
    }

    void put(std::size_t i, const PostcodeRecord& r) {
        put_ascii(postcode_out + i * kPostcodeWidth, kPostcodeWidth, r.postcode);
        put_ascii(country_out + i * kCountryWidth, kCountryWidth, r.country);
        put_ascii(terminated_out + i * kMonthWidth, kMonthWidth, r.terminated);
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
    }

    py::array postcode, country, terminated;
    py::array_t<std::uint8_t> match, quality, status;
    py::array_t<bool> located;
    py::array_t<double> lat, lon, eastings_m, northings_m;
    py::array_t<std::uint32_t> postcode_count;
    std::uint32_t *postcode_out, *country_out, *terminated_out, *count_out;
    std::uint8_t *match_out, *quality_out, *status_out;
    bool* located_out;
    double *lat_out, *lon_out, *eastings_out, *northings_out;
};

struct LookupBatch {
    std::size_t rows = 0, failed = 0;
    py::object postcode, match, located, lat, lon, eastings_m, northings_m, quality, postcode_count,
        country, terminated, status;
    py::dict messages;
};

LookupBatch lookup_many(const Index& self, const py::object& postcodes, py::handle threads) {
    const Engine& engine = self.engine();
    const unsigned workers = thread_count(threads);
    const StringColumn column(postcodes, "postcodes");
    const std::size_t n = column.size();
    LookupColumns columns(n);
    RowErrors errors;
    answer_rows(n, workers, columns.status_out, errors,
                [&](std::size_t i, std::string& scratch) -> std::optional<Error> {
                    columns.clear(i);
                    const auto found = engine.lookup(column.row(i, scratch));
                    if (!found) return found.error();
                    columns.put(i, *found);
                    return std::nullopt;
                });
    LookupBatch out;
    out.rows = n;
    out.failed = errors.size();
    out.postcode = std::move(columns.postcode);
    out.match = std::move(columns.match);
    out.located = std::move(columns.located);
    out.lat = std::move(columns.lat);
    out.lon = std::move(columns.lon);
    out.eastings_m = std::move(columns.eastings_m);
    out.northings_m = std::move(columns.northings_m);
    out.quality = std::move(columns.quality);
    out.postcode_count = std::move(columns.postcode_count);
    out.country = std::move(columns.country);
    out.terminated = std::move(columns.terminated);
    out.status = std::move(columns.status);
    out.messages = errors.messages();
    return out;
}

// ---- reverse_many ------------------------------------------------------------------------

// The arrays of a ReverseBatch, written row by row from worker threads.
struct ReverseColumns {
    ReverseColumns(std::size_t rows, std::uint32_t k_) : k(k_) {
        const auto n = static_cast<py::ssize_t>(rows), cols = static_cast<py::ssize_t>(k);
        postcode = new_unicode_array({n, cols}, kPostcodeWidth);
        distance_m = new_array<double>({n, cols});
        bearing_deg = new_array<double>({n, cols});
        quality = new_array<std::uint8_t>({n, cols});
        status = new_array<std::uint8_t>({n});
        postcode_out = static_cast<std::uint32_t*>(postcode.mutable_data());
        distance_out = distance_m.mutable_data();
        bearing_out = bearing_deg.mutable_data();
        quality_out = quality.mutable_data();
        status_out = status.mutable_data();
    }

    // No postcode in row i's slots from `from` on ('' stays: the array starts zero-filled).
    void clear(std::size_t i, std::size_t from = 0) {
        for (std::size_t j = i * k + from; j < (i + 1) * k; ++j) {
            distance_out[j] = bearing_out[j] = kNaN;
            quality_out[j] = 0;
        }
    }

    void put(std::size_t i, const std::vector<ReverseHit>& hits) {
        std::size_t j = i * k;
        for (const auto& h : hits) {
            put_ascii(postcode_out + j * kPostcodeWidth, kPostcodeWidth, h.postcode);
            distance_out[j] = h.distance_m;
            bearing_out[j] = h.bearing_deg;
            quality_out[j] = h.quality;
            ++j;
        }
        clear(i, hits.size());
    }

    std::uint32_t k;
    py::array postcode;
    py::array_t<double> distance_m, bearing_deg;
    py::array_t<std::uint8_t> quality, status;
    std::uint32_t* postcode_out;
    double *distance_out, *bearing_out;
    std::uint8_t *quality_out, *status_out;
};

struct ReverseBatch {
    std::uint32_t k = 0;
    std::size_t rows = 0, failed = 0;
    py::object postcode, distance_m, bearing_deg, quality, status;
    py::dict messages;
};

// The call's limit (k), validated by the contract on a point the index surely covers (its
// first site, else the middle of Great Britain), where one reverse query also loads the
// postcode tree once, and raises BadIndex for the whole call if it is damaged.
std::uint32_t reverse_limit(const Engine& engine, py::handle k) {
    auto request = reverse_request(py::none(), py::none(), k);
    const LatLon probe = engine.site_count() > 0 ? engine.site(0).position : LatLon{53.0, -2.0};
    request.lat = probe.lat_deg;
    request.lon = probe.lon_deg;
    py::gil_scoped_release release;
    const auto query = unwrap(contract::validate(engine, request));
    unwrap(engine.reverse(query));
    return query.k;
}

ReverseBatch reverse_many(const Index& self, const py::object& lat_source,
                          const py::object& lon_source, py::handle k, py::handle threads) {
    const Engine& engine = self.engine();
    const std::uint32_t limit = reverse_limit(engine, k);
    const unsigned workers = thread_count(threads);
    const Origins origins(py::none(), lat_source, lon_source);
    const std::size_t n = origins.size();
    ReverseColumns columns(n, limit);
    RowErrors errors;
    answer_rows(n, workers, columns.status_out, errors,
                [&](std::size_t i, std::string&) -> std::optional<Error> {
                    columns.clear(i);
                    contract::ReverseRequest request;
                    request.lat = (*origins.lat)[i];
                    request.lon = (*origins.lon)[i];
                    request.limit = limit;
                    const auto query = contract::validate(engine, request);
                    if (!query) return query.error();
                    const auto hits = engine.reverse(*query);
                    if (!hits) return hits.error();
                    columns.put(i, *hits);
                    return std::nullopt;
                });
    ReverseBatch out;
    out.k = limit;
    out.rows = n;
    out.failed = errors.size();
    out.postcode = std::move(columns.postcode);
    out.distance_m = std::move(columns.distance_m);
    out.bearing_deg = std::move(columns.bearing_deg);
    out.quality = std::move(columns.quality);
    out.status = std::move(columns.status);
    out.messages = errors.messages();
    return out;
}

// ---- the whole table -----------------------------------------------------------------------

py::array postcodes(const Index& self, py::handle threads) {
    const Engine& engine = self.engine();
    const unsigned workers = thread_count(threads);
    const std::size_t n = engine.located_count();
    auto out = new_unicode_array({static_cast<py::ssize_t>(n)}, kPostcodeWidth);
    auto* slots = static_cast<std::uint32_t*>(out.mutable_data());
    {
        py::gil_scoped_release release;
        parallel_for(n, workers, kRowsPerChunk, [&](std::size_t begin, std::size_t end) {
            for (std::size_t i = begin; i < end; ++i) {
                const auto record = engine.located_postcode(static_cast<std::uint32_t>(i));
                put_ascii(slots + i * kPostcodeWidth, kPostcodeWidth, record.postcode);
            }
        });
    }
    return out;
}

// contract::round_to over an array: the CLI's and the batch CSV's rounding, exactly.
py::array_t<double> round_to_array(
    const py::array_t<double, py::array::c_style | py::array::forcecast>& values, int decimals) {
    std::vector<py::ssize_t> shape(values.shape(), values.shape() + values.ndim());
    py::array_t<double> out(shape);
    const auto* in = values.data();
    auto* o = out.mutable_data();
    for (py::ssize_t i = 0; i < values.size(); ++i) o[i] = contract::round_to(in[i], decimals);
    return out;
}

std::string counts_text(std::size_t rows, std::size_t failed) {
    return std::to_string(rows) + " rows: " + std::to_string(rows - failed) + " answered, " +
           std::to_string(failed) + " failed";
}

// ---- the Python classes ------------------------------------------------------------------

constexpr const char* kNearestBatchDoc =
    R"doc(Answers of Index.nearest_many, one row per input, as NumPy arrays.

site         int32   [n, k]  index into Index.sites() (see site_ids, ids()), -1 where there is none
distance_m   float64 [n, k]  WGS84 geodesic distance, metres; NaN where there is no site
bearing_deg  float64 [n, k]  initial bearing from the origin, degrees; NaN where there is no site
status       uint8   [n]     0 ok, else the error code (hospital_locator.STATUS_NAMES)
match        uint8   [n]     0 unit, 1 sector, 2 district, 3 point, 4 terminated (MATCH_NAMES);
                             255 failed
lat, lon     float64 [n]     the resolved origin, WGS84 degrees; NaN for a failed row
messages     dict            row -> the error message of every failed row)doc";

constexpr const char* kNearestBatchToCsvDoc =
    R"doc(Writes the batch as `hospital-locator batch` writes its CSV, byte for byte: the key columns,
then status, match, lat, lon, site_N_id, site_N_name, site_N_phone, site_N_metres, site_N_miles
for N = 1..k, error_code and error_message. Returns the number of rows written.

path: where to write; an existing file is replaced. The file appears complete or not at all:
  it is written beside, then renamed; on an error (a full disk) nothing is left and IndexIOError
  is raised.
keys: the columns written first, as the batch tool writes its input's. None (the default):
  the postcodes the batch was asked for, as "postcode" (nothing for a batch of points). Or a
  dict or a pandas DataFrame of str columns, each as long as the batch.
threads: worker threads formatting the rows, 0 for all cores. The GIL is released.)doc";

// Site ids by site index.
py::object site_ids(const NearestBatch& b) {
    py::list ids;
    for (std::uint32_t i = 0; i < b.index->engine().site_count(); ++i)
        ids.append(py::str(std::string(b.index->engine().site(i).id)));
    return numpy().attr("array")(ids, py::arg("dtype") = "str");
}

// The number this treatment's listing gives, by site index; '' for a site not offering it.
py::object site_phones(const NearestBatch& b) {
    py::list phones;
    for (std::uint32_t i = 0; i < b.index->engine().site_count(); ++i) {
        const auto v = b.index->engine().site(i);
        std::string display;
        for (std::size_t t = 0; t < v.treatments.size(); ++t) {
            if (v.treatments[t] == b.treatment) display = std::string(v.phones[t].display);
        }
        phones.append(py::str(display));
    }
    return numpy().attr("array")(phones, py::arg("dtype") = "str");
}

// The site table of a batch: what its `site` values stand for.
void bind_nearest_batch_sites(py::class_<NearestBatch>& batch) {
    batch
        .def_property_readonly(
            "sites",
            [](const NearestBatch& b) {
                std::vector<PySite> out;
                for (std::uint32_t i = 0; i < b.index->engine().site_count(); ++i)
                    out.push_back({b.index, i});
                return out;
            },
            "The site table: sites[i] is the Site that `site` value i stands for.")
        .def_property_readonly(
            "site_ids", &site_ids,
            "Site ids by site index: site_ids[site] maps the site array to ids (mind the -1s).")
        .def_property_readonly(
            "phones", &site_phones,
            "Phone (national display form) for this treatment by site index; '' for a site not "
            "offering it.")
        .def(
            "ids",
            [](const NearestBatch& b) {
                return site_text(b, [](const SiteView& s) { return s.id; });
            },
            "Site ids, str [n, k], '' where there is no site.");
}

void bind_nearest_batch(py::module_& m) {
    py::class_<NearestBatch> batch(m, "NearestBatch", kNearestBatchDoc);
    batch.def_readonly("site", &NearestBatch::site)
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
                      "Rows answered from a sector or district centroid, or from a terminated "
                      "postcode's last position.")
        .def_readonly("failed", &NearestBatch::failed, "Rows with a non-zero status.")
        .def(
            "status_names",
            [](const NearestBatch& b) { return code_names(b.status, status_table(), false); },
            "status as names, object [n]: 'ok', 'invalid_postcode', ...")
        .def(
            "match_names",
            [](const NearestBatch& b) { return code_names(b.match, match_table(), true); },
            "match as names, object [n]: 'unit', 'sector', 'district', 'point', 'terminated', None "
            "for a failed row.")
        .def("to_csv", &batch_to_csv, py::arg("path"), py::kw_only(), py::arg("keys") = py::none(),
             py::arg("threads") = 0, kNearestBatchToCsvDoc)
        .def("_row_status", &row_status_names,
             "The batch report's status column, object [n]: 'ok', 'approximate', 'invalid', "
             "'not_found', 'not_covered'.")
        .def("__len__", [](const NearestBatch& b) { return b.rows; })
        .def("__repr__", [](const NearestBatch& b) {
            return "<NearestBatch " + b.treatment + ", k=" + std::to_string(b.k) + ", " +
                   counts_text(b.rows, b.failed) + ", " + std::to_string(b.approximate) +
                   " approximate>";
        });
    bind_nearest_batch_sites(batch);
}

void bind_lookup_batch(py::module_& m) {
    py::class_<LookupBatch>(m, "LookupBatch",
                            R"doc(Answers of Index.lookup_many, one row per input, as NumPy arrays.

postcode        str     [n]  canonical text of what was found (unit, sector or district); '' failed
match           uint8   [n]  0 unit, 1 sector, 2 district, 4 terminated (MATCH_NAMES); 255 failed
located         bool    [n]  False for a quality-90 postcode (no coordinates) and failed rows
lat, lon        float64 [n]  WGS84 degrees; NaN when not located
eastings_m, northings_m float64 [n]  British National Grid (OSGB36), Irish Grid (TM75) in
                             Northern Ireland; NaN when not located
quality         uint8   [n]  Code-Point positional quality (ONSPD: 10 * osgrdind); 0 for sectors,
                             districts, failures
postcode_count  uint32  [n]  located members of a sector or district; 1 for a unit
country         str     [n]  'England', 'Scotland', 'Wales', 'Northern Ireland'
terminated      str     [n]  'YYYY-MM' when Royal Mail terminated the postcode (ONSPD), else ''
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
        .def_readonly("terminated", &LookupBatch::terminated)
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
}

void bind_reverse_batch(py::module_& m) {
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
}

// to_dict() of a batch class: the batch as plain data, what it pickles to. Every public
// read-only attribute of the class (arrays, counts, messages, the site table's ids and phones)
// by name, so an attribute added later is in it too; the arrays themselves, not copies.
// `leave_out`: attributes that are objects tied to the index (NearestBatch.sites).
void def_plain_to_dict(py::handle cls, const std::vector<std::string>& leave_out) {
    std::vector<std::string> names;
    const auto property = py::module_::import("builtins").attr("property");
    for (const auto item : cls.attr("__dict__").attr("items")()) {
        const auto pair = py::reinterpret_borrow<py::tuple>(item);
        const auto name = pair[0].cast<std::string>();
        if (name.starts_with("_") || !py::isinstance(pair[1], property) ||
            std::find(leave_out.begin(), leave_out.end(), name) != leave_out.end())
            continue;
        names.push_back(name);
    }
    std::string doc = "Plain data, what the batch pickles to: a dict of ";
    for (const auto& name : names) doc += "'" + name + (&name == &names.back() ? "'." : "', ");
    py::setattr(cls, "to_dict",
                py::cpp_function(
                    [names](const py::object& self) {
                        py::dict out;
                        for (const auto& name : names) out[py::str(name)] = self.attr(name.c_str());
                        return out;
                    },
                    py::name("to_dict"), py::is_method(cls), py::doc(doc.c_str())));
}

void bind_index_batches(py::class_<Index, std::shared_ptr<Index>>& index) {
    index
        .def(
            "nearest_many", &nearest_many, py::arg("postcodes") = py::none(), py::kw_only(),
            py::arg("lat") = py::none(), py::arg("lon") = py::none(), py::arg("k") = py::none(),
            py::arg("treatment") = py::none(), py::arg("max_miles") = py::none(),
            py::arg("max_km") = py::none(), py::arg("threads") = 0,
            R"doc(nearest() for many postcodes, or many points, at once: a NearestBatch of NumPy arrays.

postcodes: a 1-D NumPy array of str (fastest: no Python object per row), bytes or objects,
  a list, or a pandas Series; None, NaN and pd.NA count as missing. Or give lat and lon:
  1-D numeric arrays of WGS84 degrees, of one length.
k, treatment, max_miles, max_km: as for nearest(); checked once, raising as nearest() would.
threads: worker threads, 0 for all cores, at most 256. The GIL is released while they work.

Each row's answer is exactly nearest()'s for that row. A row that fails (a bad postcode, a
point out of range) gets its error code in status and its message in messages; it never
raises for the whole array. Raises TypeError or ValueError for input of the wrong type,
dtype or shape.)doc")
        .def("lookup_many", &lookup_many, py::arg("postcodes"), py::kw_only(),
             py::arg("threads") = 0,
             "lookup() for many postcodes at once: a LookupBatch of NumPy arrays (see nearest_many "
             "for the accepted inputs and how failed rows are reported).")
        .def("reverse_many", &reverse_many, py::arg("lat"), py::arg("lon"), py::kw_only(),
             py::arg("k") = py::none(), py::arg("threads") = 0,
             "reverse() for many points at once (1-D numeric arrays of WGS84 degrees): a "
             "ReverseBatch of NumPy arrays. k is checked once, as reverse() checks it. Loads the "
             "postcode KD-tree and grid first if they are not loaded.")
        .def("postcodes", &postcodes, py::kw_only(), py::arg("threads") = 0,
             "Every located postcode, in index order (district, then inward code), as a NumPy str "
             "array ('<U8') of located_count() rows: row i is located_postcode(i). ~0.3 s for GB.");
}

}  // namespace

void bind_batches(py::module_& m, py::class_<Index, std::shared_ptr<Index>>& index) {
    m.def("_round_to", &round_to_array, py::arg("values"), py::arg("decimals"));
    py::dict row_status;  // the batch report's status of each error code, from the contract
    row_status[py::int_(0)] = std::string(contract::status_name(contract::RowStatus::ok));
    for (int c = 1; c <= static_cast<int>(ErrorCode::internal); ++c) {
        row_status[py::int_(c)] =
            std::string(contract::status_name(contract::status_for(static_cast<ErrorCode>(c))));
    }
    m.attr("_ROW_STATUS") = row_status;
    bind_nearest_batch(m);
    bind_lookup_batch(m);
    bind_reverse_batch(m);
    def_plain_to_dict(m.attr("NearestBatch"), {"sites"});
    def_plain_to_dict(m.attr("LookupBatch"), {});
    def_plain_to_dict(m.attr("ReverseBatch"), {});
    bind_index_batches(index);
}

}  // namespace hloc::python
