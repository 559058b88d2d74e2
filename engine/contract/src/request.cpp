#include "hloc/contract/request.hpp"

#include <charconv>

#include "hloc/geodesy.hpp"

namespace hloc::contract {

namespace {

Error invalid(std::string message) {
    return Error(ErrorCode::invalid_parameter, std::move(message));
}

}  // namespace

std::string_view clipped(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    const auto continuation = [&text](std::size_t i) {
        return (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
    };
    // text[n] is the first byte left out: while it continues a sequence, leave out its lead too.
    std::size_t n = max_bytes;
    while (n > 0 && max_bytes - n < 3 && continuation(n)) --n;
    return text.substr(0, n);
}

std::string shown(std::string_view text) {
    std::string s = "'";
    s += clipped(text, 64);
    if (text.size() > 64) s += "...";
    s += "'";
    return s;
}

Result<double> parse_number(std::string_view name, std::string_view text) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    // Out of range ("1e400") parses as no number at all: the message echoes the text.
    if (text.empty() || ec != std::errc{} || ptr != end) {
        return invalid(std::string(name) + " must be a number (got " + shown(text) + ")");
    }
    return value;
}

Result<NearestOptions> validate_options(const Engine& engine, const NearestRequest& request) {
    NearestOptions options;
    if (request.k) {
        if (auto e = check_count("k", *request.k)) return *e;
        options.k = static_cast<std::uint32_t>(*request.k);
    }
    if (request.max_miles && request.max_km) return invalid("give max_miles or max_km, not both");
    if (request.max_miles) {
        if (auto e = check_distance_limit("max_miles", *request.max_miles)) return *e;
        options.max_distance_m = *request.max_miles * kMetresPerMile;
    }
    if (request.max_km) {
        if (auto e = check_distance_limit("max_km", *request.max_km)) return *e;
        options.max_distance_m = *request.max_km * 1000.0;
    }
    auto treatment = engine.treatment(request.treatment);
    if (!treatment) return treatment.error();
    options.treatment = std::string(treatment->name);
    return options;
}

Result<Location> resolve_origin(const Engine& engine, const NearestRequest& request) {
    if (request.postcode) {
        if (request.lat || request.lon) return invalid("give a postcode or lat and lon, not both");
        return engine.resolve(*request.postcode);
    }
    if (request.lat && request.lon) return engine.locate_point({*request.lat, *request.lon});
    if (request.lat) return invalid("lat is given without lon");
    if (request.lon) return invalid("lon is given without lat");
    return invalid("give a postcode, or lat and lon");
}

NearestQuery make_query(const NearestOptions& options, Location origin) {
    NearestQuery query;
    query.origin = std::move(origin);
    query.treatment = options.treatment;
    query.k = options.k;
    query.max_distance_m = options.max_distance_m;
    return query;
}

Result<NearestQuery> validate(const Engine& engine, const NearestRequest& request) {
    auto options = validate_options(engine, request);
    if (!options) return options.error();
    auto origin = resolve_origin(engine, request);
    if (!origin) return origin.error();
    return make_query(*options, std::move(origin).value());
}

Result<ReverseQuery> validate(const Engine& engine, const ReverseRequest& request) {
    ReverseQuery query;
    if (request.limit) {
        if (auto e = check_count("limit", *request.limit)) return *e;
        query.k = static_cast<std::uint32_t>(*request.limit);
    }
    if (!request.lat || !request.lon) return invalid("give lat and lon");
    auto origin = engine.locate_point({*request.lat, *request.lon});
    if (!origin) return origin.error();
    query.point = origin->position;
    return query;
}

}  // namespace hloc::contract
