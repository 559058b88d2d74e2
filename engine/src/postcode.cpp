#include "hloc/postcode.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include "text.hpp"

namespace hloc {
namespace {

// The 120 postcode areas of Great Britain, as in Code-Point Open.
constexpr std::array<std::string_view, 120> kGreatBritainAreas = {
    "AB", "AL", "B",  "BA", "BB", "BD", "BH", "BL", "BN", "BR", "BS", "CA", "CB", "CF", "CH",
    "CM", "CO", "CR", "CT", "CV", "CW", "DA", "DD", "DE", "DG", "DH", "DL", "DN", "DT", "DY",
    "E",  "EC", "EH", "EN", "EX", "FK", "FY", "G",  "GL", "GU", "HA", "HD", "HG", "HP", "HR",
    "HS", "HU", "HX", "IG", "IP", "IV", "KA", "KT", "KW", "KY", "L",  "LA", "LD", "LE", "LL",
    "LN", "LS", "LU", "M",  "ME", "MK", "ML", "N",  "NE", "NG", "NN", "NP", "NR", "NW", "OL",
    "OX", "PA", "PE", "PH", "PL", "PO", "PR", "RG", "RH", "RM", "S",  "SA", "SE", "SG", "SK",
    "SL", "SM", "SN", "SO", "SP", "SR", "SS", "ST", "SW", "SY", "TA", "TD", "TF", "TN", "TQ",
    "TR", "TS", "TW", "UB", "W",  "WA", "WC", "WD", "WF", "WN", "WR", "WS", "WV", "YO", "ZE"};

struct NotCoveredArea {
    std::string_view area;
    std::string_view place;
};
// The Crown Dependencies: no source we read gives their postcodes a position (ONSPD lists
// them with osgrdind 9 and no grid reference). Northern Ireland's BT is a real area whose
// coverage depends on the index (ONSPD has it, Code-Point Open not): the Engine decides.
constexpr std::array<NotCoveredArea, 3> kNotCovered = {
    {{"JE", "Jersey"}, {"GY", "Guernsey"}, {"IM", "the Isle of Man"}}};

struct NonGeographic {
    std::string_view prefix;  // of the compact form
    std::string_view what;
};
// Codes with a postcode's shape that name no place in Great Britain.
constexpr std::array<NonGeographic, 14> kNonGeographic = {{
    {"GIR0AA", "the Girobank postcode GIR 0AA, which is non-geographic"},
    {"BFPO", "a British Forces Post Office (BFPO) address, which is non-geographic"},
    {"BF1", "a British Forces Post Office (BF1) postcode, which is non-geographic"},
    {"BX", "a non-geographic BX postcode (a mail-handling address, not a place)"},
    {"ZZ99", "a ZZ99 pseudo-postcode (an NHS placeholder such as 'no fixed abode')"},
    {"ASCN1ZZ", "the postcode of Ascension Island, an overseas territory"},
    {"STHL1ZZ", "the postcode of Saint Helena, an overseas territory"},
    {"TDCU1ZZ", "the postcode of Tristan da Cunha, an overseas territory"},
    {"BBND1ZZ", "the postcode of the British Indian Ocean Territory"},
    {"BIQQ1ZZ", "the postcode of the British Antarctic Territory"},
    {"FIQQ1ZZ", "the postcode of the Falkland Islands, an overseas territory"},
    {"PCRN1ZZ", "the postcode of the Pitcairn Islands, an overseas territory"},
    {"SIQQ1ZZ", "the postcode of South Georgia and the South Sandwich Islands"},
    {"TKCA1ZZ", "the postcode of the Turks and Caicos Islands, an overseas territory"},
}};

constexpr bool is_alpha(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Royal Mail never uses these letters in the inward code's last two places.
bool is_inward_letter(char c) {
    return is_alpha(c) && std::string_view("CIKMOV").find(c) == std::string_view::npos;
}

// Outward codes: A9, A99, AA9, AA99, A9A, AA9A.
bool is_outward(std::string_view s) {
    const auto n = s.size();
    if (n < 2 || n > 4 || !is_alpha(s[0])) return false;
    std::size_t i = 1;
    if (is_alpha(s[1])) ++i;
    if (i >= n || !is_digit(s[i])) return false;
    ++i;
    if (i == n) return true;
    if (i + 1 != n) return false;
    return is_digit(s[i]) || is_alpha(s[i]);
}

bool is_inward(std::string_view s) {
    return s.size() == 3 && is_digit(s[0]) && is_inward_letter(s[1]) && is_inward_letter(s[2]);
}

// One bit per possible area ("A".."ZZ"): a lookup is one index, not a scan of 120 names.
constexpr std::size_t area_slot(std::string_view area) {
    return static_cast<std::size_t>(area[0] - 'A') * 27 +
           (area.size() > 1 ? static_cast<std::size_t>(area[1] - 'A') + 1 : 0);
}
constexpr std::array<bool, 26 * 27> kAreaTable = [] {
    std::array<bool, 26 * 27> table{};
    for (auto area : kGreatBritainAreas) table[area_slot(area)] = true;
    return table;
}();

constexpr bool is_gb_area(std::string_view area) {
    return !area.empty() && area.size() <= 2 && is_alpha(area[0]) &&
           (area.size() == 1 || is_alpha(area[1])) && kAreaTable[area_slot(area)];
}

// The area of an outward code: its one or two leading letters.
constexpr std::string_view leading_area(std::string_view outward) {
    std::size_t n = 0;
    while (n < outward.size() && n < 2 && is_alpha(outward[n])) ++n;
    return outward.substr(0, n);
}

// Whether a compact text starting with `prefix` could be a unit postcode of a covered area
// (Great Britain's or BT): the area's letters must be followed by a digit.
constexpr bool could_start_covered_unit(std::string_view prefix) {
    const auto area = leading_area(prefix);
    if (!is_gb_area(area) && area != "BT") return false;
    return prefix.size() == area.size() || is_digit(prefix[area.size()]);
}

using detail::in_quotes;

Error invalid(std::string_view input, const std::string& why, std::string suggestion = {}) {
    return Error(ErrorCode::invalid_postcode,
                 in_quotes(input) + " is not a valid UK postcode: " + why, std::move(suggestion));
}

// The compact form (no blanks, upper case) and where the first blank was, or an error
// for characters no postcode contains. Kept in a fixed buffer: the hot path allocates nothing.
struct Compact {
    std::array<char, 16> buffer{};
    std::size_t length = 0;  // letters and digits seen (may exceed the buffer: then refused)
    std::size_t space_at = std::string::npos;  // index in the text where a blank separated parts
    std::string_view text() const { return {buffer.data(), std::min(length, buffer.size())}; }
};

// What each byte is to a postcode, looked up once per character.
enum class CharKind : unsigned char { lower, kept, blank, control, non_ascii, other };
constexpr auto kCharKinds = [] {
    std::array<CharKind, 256> kinds{};
    for (int c = 0; c < 256; ++c) {
        auto& k = kinds[static_cast<std::size_t>(c)];
        if (c == ' ' || c == '\t')
            k = CharKind::blank;
        else if (c < 0x20 || c == 0x7f)
            k = CharKind::control;
        else if (c >= 0x80)
            k = CharKind::non_ascii;
        else if (c >= 'a' && c <= 'z')
            k = CharKind::lower;
        else if (is_alpha(static_cast<char>(c)) || is_digit(static_cast<char>(c)))
            k = CharKind::kept;
        else
            k = CharKind::other;
    }
    return kinds;
}();

Result<Compact> compact(std::string_view input) {
    if (input.size() > kMaxPostcodeInput) {
        return Error(ErrorCode::invalid_postcode,
                     "postcode input is too long (" + std::to_string(input.size()) +
                         " bytes; a postcode has at most 8 characters)");
    }
    Compact out;
    bool seen_blank_after_text = false;
    for (std::size_t i = 0; i < input.size(); ++i) {
        const auto c = static_cast<unsigned char>(input[i]);
        const auto kind = kCharKinds[c];
        if (kind <= CharKind::kept) {  // a letter or a digit, the usual case
            if (seen_blank_after_text && out.space_at == std::string::npos) {
                out.space_at = out.length;
            }
            if (out.length < out.buffer.size()) {
                out.buffer[out.length] =
                    static_cast<char>(kind == CharKind::lower ? c - ('a' - 'A') : c);
            }
            ++out.length;
            continue;
        }
        if (kind == CharKind::blank) {
            if (out.length > 0) seen_blank_after_text = true;
            continue;
        }
        if (kind == CharKind::control) {
            return Error(ErrorCode::invalid_postcode,
                         "postcode input contains a control character (byte " + std::to_string(c) +
                             ") at position " + std::to_string(i + 1));
        }
        if (kind == CharKind::non_ascii) {
            return Error(
                ErrorCode::invalid_postcode,
                "postcode input contains a non-ASCII byte at position " + std::to_string(i + 1));
        }
        return invalid(input, "it contains " + in_quotes(std::string(1, static_cast<char>(c))) +
                                  "; a postcode has only letters, digits and one space");
    }
    if (out.length == 0) return Error(ErrorCode::invalid_postcode, "postcode is empty");
    return out;
}

// Why a compact string is no unit, sector or district; called only once those failed.
std::string explain(std::string_view s, std::size_t length) {
    if (length > 7) {
        return "it has " + std::to_string(length) +
               " letters and digits; a postcode has 5 to 7 (outward code and inward code)";
    }
    if (std::none_of(s.begin(), s.end(), is_digit)) return "it has no digits";
    if (!is_alpha(s[0])) return "it must start with a letter";
    if (s.size() >= 5) {
        const std::string_view inward = s.substr(s.size() - 3);
        const std::string_view outward = s.substr(0, s.size() - 3);
        if (!is_digit(inward[0]) || !is_alpha(inward[1]) || !is_alpha(inward[2])) {
            return "the inward code " + in_quotes(inward) + " must be a digit and two letters";
        }
        if (!is_inward_letter(inward[1]) || !is_inward_letter(inward[2])) {
            return "the inward code " + in_quotes(inward) +
                   " uses a letter never used there (C, I, K, M, O or V)";
        }
        if (!is_outward(outward)) {
            return "the outward code " + in_quotes(outward) +
                   " must be one or two letters, a digit, then optionally a digit or letter";
        }
    }
    return "it is neither a full postcode (such as 'SW1A 1AA'), a sector ('SW1A 1') nor an "
           "outward code ('SW1A')";
}

// Checks the area of a well-formed outward code: not covered or unknown.
std::optional<Error> check_area(std::string_view input, std::string_view outward) {
    const auto area = postcode_area(outward);
    for (const auto& nc : kNotCovered) {
        if (area == nc.area) {
            return Error(ErrorCode::not_covered,
                         in_quotes(input) + " is in " + std::string(nc.place) +
                             ", which the index does not cover (neither Code-Point Open nor "
                             "ONSPD gives its postcodes a position)");
        }
    }
    if (!is_gb_area(area) && area != kNorthernIrelandArea) {
        return invalid(input, "there is no postcode area " + in_quotes(area));
    }
    return std::nullopt;
}

std::optional<Error> check_non_geographic(std::string_view input, std::string_view s) {
    for (const auto& ng : kNonGeographic) {
        if (s.starts_with(ng.prefix)) {
            return Error(ErrorCode::non_geographic_postcode,
                         in_quotes(input) + " is " + std::string(ng.what) + " and has no location");
        }
    }
    return std::nullopt;
}

}  // namespace

// Built in one string (at most 8 characters: no allocation), not through operator+ temporaries.
std::string ParsedPostcode::text() const {
    std::string s = outward;
    if (level == PostcodeLevel::district) return s;
    s += ' ';
    s += sector_digit;
    if (level == PostcodeLevel::unit) s += unit_letters;
    return s;
}

std::string ParsedPostcode::sector_text() const {
    if (level == PostcodeLevel::district) return {};
    std::string s = outward;
    s += ' ';
    s += sector_digit;
    return s;
}

std::string_view postcode_area(std::string_view outward) { return leading_area(outward); }

std::vector<std::string> postcode_suggestions(std::string_view input) {
    std::vector<std::string> out;
    auto c = compact(input);
    if (!c) return out;
    const std::string s(c->text());
    if (c->length < 5 || c->length > 7) return out;
    // Every outward shape of the right length, each position read as what it must be.
    static constexpr std::array<std::string_view, 6> kShapes = {"A9",   "A99", "AA9",
                                                                "AA99", "A9A", "AA9A"};
    for (auto shape : kShapes) {
        const std::string full = std::string(shape) + "9AA";
        if (full.size() != s.size()) continue;
        std::string fixed = s;
        bool possible = true;
        for (std::size_t i = 0; i < s.size() && possible; ++i) {
            const bool want_digit = full[i] == '9';
            char& ch = fixed[i];
            if (want_digit && !is_digit(ch)) {
                if (ch == 'O')
                    ch = '0';
                else if (ch == 'I' || ch == 'L')
                    ch = '1';
                else
                    possible = false;
            } else if (!want_digit && !is_alpha(ch)) {
                if (ch == '0')
                    ch = 'O';
                else if (ch == '1')
                    ch = 'I';
                else
                    possible = false;
            }
        }
        if (!possible || fixed == s) continue;
        const std::string outward = fixed.substr(0, fixed.size() - 3);
        const std::string inward = fixed.substr(fixed.size() - 3);
        if (!is_outward(outward) || !is_inward(inward) || !is_gb_area(postcode_area(outward))) {
            continue;
        }
        std::string text = outward + ' ' + inward;
        if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(std::move(text));
    }
    return out;
}

// The fast path below skips check_non_geographic for units of a covered area: no
// non-geographic code can be one.
static_assert(std::none_of(kNonGeographic.begin(), kNonGeographic.end(),
                           [](const NonGeographic& ng) {
                               return could_start_covered_unit(ng.prefix);
                           }));

namespace {

// A compact text of unit shape ("SW1A1AA") as its parts.
ParsedPostcode unit_of(std::string_view s) {
    const auto n = s.size();
    ParsedPostcode p;
    p.level = PostcodeLevel::unit;
    p.outward = s.substr(0, n - 3);
    p.sector_digit = s[n - 3];
    p.unit_letters = s.substr(n - 2);
    return p;
}

}  // namespace

Result<ParsedPostcode> parse_postcode(std::string_view input) {
    auto c = compact(input);
    if (!c) return c.error();
    const std::string_view s = c->text();
    const auto n = c->length;
    const bool unit_shape = n >= 5 && n <= 7 && is_outward(s.substr(0, n - 3)) &&
                            is_inward(s.substr(n - 3)) &&
                            (c->space_at == std::string::npos || c->space_at == n - 3);
    // Nearly every input: a unit of Great Britain or Northern Ireland, which is neither
    // non-geographic (static_assert above) nor in an area check_area refuses.
    if (unit_shape && could_start_covered_unit(s.substr(0, n - 3))) return unit_of(s);
    if (auto e = check_non_geographic(input, s)) return *e;

    ParsedPostcode p;
    if (n > 7) return invalid(input, explain(s, n));
    if (unit_shape) {
        p = unit_of(s);
    } else if (c->space_at != std::string::npos && c->space_at == n - 1 && is_digit(s[n - 1]) &&
               is_outward(s.substr(0, n - 1))) {
        p.level = PostcodeLevel::sector;  // "SW1A 1"
        p.outward = s.substr(0, n - 1);
        p.sector_digit = s[n - 1];
    } else if (c->space_at == std::string::npos && is_outward(s)) {
        p.level = PostcodeLevel::district;  // "SW1A": an outward code wins over a sector
        p.outward = s;
    } else if (c->space_at == std::string::npos && n >= 3 && is_digit(s[n - 1]) &&
               is_outward(s.substr(0, n - 1))) {
        p.level = PostcodeLevel::sector;  // "CM158": no outward code ends in three digits
        p.outward = s.substr(0, n - 1);
        p.sector_digit = s[n - 1];
    } else {
        std::string why = explain(s, n);
        if (c->space_at != std::string::npos && n >= 5 && is_outward(s.substr(0, n - 3)) &&
            is_inward(s.substr(n - 3))) {
            why = "the space must stand before the last three characters";
        }
        const auto suggestions = postcode_suggestions(input);
        return invalid(input, why, suggestions.empty() ? std::string() : suggestions.front());
    }
    if (auto e = check_area(input, p.outward)) return *e;
    return p;
}

Result<std::string> normalise_postcode(std::string_view input) {
    auto parsed = parse_postcode(input);
    if (!parsed) return parsed.error();
    if (parsed->level != PostcodeLevel::unit) {
        return invalid(input,
                       "it is " +
                           std::string(parsed->level == PostcodeLevel::sector ? "a postcode sector"
                                                                              : "an outward code") +
                           ", not a full postcode");
    }
    return parsed->text();
}

}  // namespace hloc
