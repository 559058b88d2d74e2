// Requests as the shells receive them, and the one validation of each into the engine's query.
//
// A shell (CLI, HTTP, batch, Python) only translates what its users send into one of these
// plain requests: text stays text, numbers it received as text go through parse_number(), and
// nothing is checked there. validate_*() then decides, once for every shell, what a valid query
// is, with one set of error codes and messages. (After OSRM's *Parameters + IsValid().)
//
// Order of checks, the same everywhere: the parameters that do not depend on the origin (k,
// distance limits, treatment), then the origin (postcode xor point), so that a request with
// several mistakes gets the same first message from every shell.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hloc/engine.hpp"

namespace hloc::contract {

// A number a shell received as text (a query-string value, a CSV cell, a command-line word).
// invalid_parameter "<name> must be a number (got '<text>')" when it is not one.
Result<double> parse_number(std::string_view name, std::string_view text);

// What a caller sent, for a message: at most 64 bytes of it, quoted ('abc', 'abcd...').
std::string shown(std::string_view text);
// The longest start of `text` of at most `max_bytes` bytes that does not end inside a UTF-8
// sequence, so that a message quoting a caller's text never turns its last character into
// U+FFFD. (Where `text` is not UTF-8, at most 3 bytes fewer than `max_bytes`.)
std::string_view clipped(std::string_view text, std::size_t max_bytes);

struct NearestRequest {
    std::optional<std::string> postcode;  // unit, sector ("CM15 8") or outward code ("CM15")
    std::optional<double> lat, lon;       // WGS84 degrees, instead of a postcode
    std::optional<double> k;              // whole number, 1..kMaxK; 3 when absent
    std::optional<double> max_miles;      // leave out sites farther away; at most one of the two
    std::optional<double> max_km;
    std::string treatment;  // "" = the index's only treatment
};

// What does not depend on the origin, checked: the same for every row of a batch.
struct NearestOptions {
    std::uint32_t k = 3;
    std::string treatment;  // the index's own name for it
    std::optional<double> max_distance_m;
};

// k, the distance limit and the treatment.
Result<NearestOptions> validate_options(const Engine& engine, const NearestRequest& request);
// The origin: a postcode, or lat and lon, never both.
Result<Location> resolve_origin(const Engine& engine, const NearestRequest& request);
// Both, options first.
Result<NearestQuery> validate(const Engine& engine, const NearestRequest& request);
NearestQuery make_query(const NearestOptions& options, Location origin);

struct ReverseRequest {
    std::optional<double> lat, lon;  // WGS84 degrees
    std::optional<double> limit;     // how many postcodes, 1..kMaxK; 1 when absent
};
Result<ReverseQuery> validate(const Engine& engine, const ReverseRequest& request);

}  // namespace hloc::contract
