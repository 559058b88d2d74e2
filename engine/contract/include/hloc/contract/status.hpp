// The status of one row of a batch (CSV, JSON Lines, GeoPackage, Python status arrays),
// defined once.
#pragma once

#include <cstdint>
#include <string_view>

#include "hloc/error.hpp"
#include "hloc/query.hpp"

namespace hloc::contract {

enum class RowStatus : std::uint8_t { ok, approximate, invalid, not_found, not_covered };
inline constexpr int kRowStatusCount = 5;

std::string_view status_name(RowStatus status);
// An answered row: ok for a unit postcode or a point, approximate for a sector or district
// centroid (asked for, or a fallback) and for a terminated postcode's last position.
RowStatus status_of(MatchLevel match);
// A refused row: not_found for a well-formed postcode that is unknown or non-geographic,
// not_covered for a place outside the data, invalid for everything else.
RowStatus status_for(ErrorCode code);

}  // namespace hloc::contract
