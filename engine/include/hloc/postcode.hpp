// UK postcode text: forgiving in form, strict in substance.
//
// Accepted forms, any case and any spacing: a unit ("SW1A 1AA", "sw1a1aa"), a sector
// ("SW1A 1", written with its space, or "CM158" where the outward code cannot absorb the
// digit), and a district / outward code ("SW1A"). Everything is checked against the shape
// of Royal Mail postcodes and the list of postcode areas; these checks need no data.
// Whether a well-formed postcode exists is for the Engine to say.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hloc/error.hpp"

namespace hloc {

enum class PostcodeLevel : std::uint8_t { unit, sector, district };

struct ParsedPostcode {
    PostcodeLevel level = PostcodeLevel::unit;
    std::string outward;       // "SW1A": the district (outward code)
    char sector_digit = 0;     // '1' for units and sectors, 0 for a district
    std::string unit_letters;  // "AA" for a unit, empty otherwise

    // Canonical text: "SW1A 1AA", "SW1A 1" or "SW1A".
    std::string text() const;
    // "SW1A 1": the sector this unit or sector belongs to (empty for a district).
    std::string sector_text() const;
};

// Longest input looked at; anything longer is refused before any other work.
inline constexpr std::size_t kMaxPostcodeInput = 64;

// Parses a unit, sector or district. Errors: invalid_postcode (the message says why and,
// for a likely O/0 or I/1 slip, suggests the corrected form), non_geographic_postcode
// (GIR 0AA, BFPO, overseas territories, ZZ99 pseudo-codes), not_covered (the Channel
// Islands and the Isle of Man: real places no source positions). Northern Ireland (BT)
// parses: whether an index covers it is for the Engine to say.
Result<ParsedPostcode> parse_postcode(std::string_view input);

// Only a full unit postcode, in canonical form ("SW1A 1AA").
Result<std::string> normalise_postcode(std::string_view input);

// Corrections of O/0 and I/1 slips that turn `input` into a well-formed unit postcode,
// best first. Empty when there is none. Used by the Engine to prefer a suggestion that exists.
std::vector<std::string> postcode_suggestions(std::string_view input);

// Northern Ireland's one postcode area.
inline constexpr std::string_view kNorthernIrelandArea = "BT";

// The area ("SW", "B") of a well-formed outward code.
std::string_view postcode_area(std::string_view outward);

// A GSS code as ONS issues them for areas (countries, districts, wards): a capital letter and
// 8 digits ("E07000068"). Code-Point Open names a postcode's areas by these.
constexpr bool is_gss_code(std::string_view text) {
    if (text.size() != 9 || text[0] < 'A' || text[0] > 'Z') return false;
    for (char c : text.substr(1)) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

}  // namespace hloc
