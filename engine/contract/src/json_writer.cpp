#include "hloc/contract/json_writer.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>

#include "hloc/geodesy.hpp"

namespace hloc::contract {

std::string to_text(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string to_pretty_text(const Json& value) {
    return value.dump(2, ' ', false, Json::error_handler_t::replace);
}

std::string pretty(std::string_view compact_text) {
    return to_pretty_text(Json::parse(compact_text));
}

double decimal_scale(int decimals) {
    // Exact powers of ten from a table: the same values std::pow gives, without its cost.
    static constexpr double kPowers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    return decimals >= 0 && decimals <= 9 ? kPowers[decimals] : std::pow(10.0, decimals);
}

double round_to(double value, int decimals) {
    const double scale = decimal_scale(decimals);
    const double r = std::round(value * scale) / scale;
    return r == 0 ? 0.0 : r;  // never "-0.0"
}

namespace {

// Metres, kilometres and miles (UK users think in miles), and the initial bearing.
void add_distance_and_bearing(Json& out, double distance_m, double bearing_deg) {
    out["distance"] = {{"metres", round_to(distance_m, 3)},
                       {"km", round_to(distance_m / 1000.0, 3)},
                       {"miles", round_to(distance_m / kMetresPerMile, 3)}};
    out["bearing"] = {{"degrees", round_to(bearing_deg, 1)},
                      {"compass", compass_point(bearing_deg)}};
}

// A number as nlohmann's own formatter writes it (shortest round-trip form), without a tree:
// dump() writes every double through this very function, so the bytes are the same, without a
// json value, a serializer and a string per number (a fifth of a bulk POST's CPU).
void append_number(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";  // as nlohmann writes NaN and infinities
        return;
    }
    std::array<char, 64> digits;
    const char* end =
        nlohmann::detail::to_chars(digits.data(), digits.data() + digits.size(), value);
    out.append(digits.data(), static_cast<std::size_t>(end - digits.data()));
}

// A JSON string as to_text writes it. Printable ASCII without quotes or backslashes, which is
// what postcodes, matches and notes are, needs no escaping and is appended as it is; anything
// else (control characters, non-ASCII, invalid UTF-8) goes through nlohmann.
void append_string(std::string& out, std::string_view text) {
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
    });
    if (!plain) {
        out += to_text(Json(std::string(text)));
        return;
    }
    out += '"';
    out += text;
    out += '"';
}

// {"input", "postcode" (not for a point), "match", "lat", "lon", "note" (when there is one)}.
void append_location(std::string& out, const Location& loc) {
    out += "{\"input\":";
    append_string(out, loc.input);
    if (loc.match != MatchLevel::point) {
        out += ",\"postcode\":";
        append_string(out, loc.postcode);
    }
    out += ",\"match\":\"";
    out += match_level_name(loc.match);
    out += "\",\"lat\":";
    append_rounded(out, loc.position.lat_deg, 7);
    out += ",\"lon\":";
    append_rounded(out, loc.position.lon_deg, 7);
    if (!loc.note.empty()) {
        out += ",\"note\":";
        append_string(out, loc.note);
    }
    out += '}';
}

void append_count(std::string& out, std::uint32_t value) {
    char digits[16];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, end);
}

}  // namespace

// round_to(value, decimals) as append_number writes it, mostly without Grisu2 (6.8 % of the
// server's CPU under wrk, 11.5 % of a bulk POST's). round_to's double r is the one nearest
// s = n / 10^d, n = round(value * 10^d); while |n| < 10^15, s has at most 15 significant
// digits, and an interval one ulp wide (the reals that round to r) holds at most one such
// decimal, since they are at least 10^-15 of their size apart and an ulp is at most 2.2e-16 of
// it. Grisu2 writes the shortest digits in that interval narrowed by a few units of its 64-bit
// arithmetic at each end (nlohmann's to_chars.hpp: M- = w- + 1, M+ = w+ - 1, each within a unit
// or two of the exact boundary, out of at least 2^9 units per half ulp), so when s is inside
// the narrowed interval Grisu2's digits are s's. Here s is taken only when it is at most
// (1/2 - 1/64) ulp from r, measured exactly in integers, and r's lower neighbour is as far as
// its upper one (not a power of two); everything else goes to nlohmann. The digits are then
// placed by nlohmann's own format_buffer, as to_chars does. tests/unit/test_contract.cpp checks
// the bytes against to_chars on millions of values.
__extension__ using Int128 = __int128;  // GCC's and clang's; ISO C++ has no 128-bit integer

void append_rounded(std::string& out, double value, int decimals) {
    const double scale = decimal_scale(decimals);
    const double n = std::round(value * scale);
    const double r = n / scale;  // round_to, expression for expression
    const double magnitude = std::abs(n);
    if (!(magnitude >= 1.0 && magnitude < 1e15) || decimals < 1 || decimals > 9) {
        append_number(out, r == 0 ? 0.0 : r);
        return;
    }
    // |r| = mantissa * 2^e with a 53-bit mantissa (r is normal: |r| >= 10^-9), so an ulp of r
    // is 2^e; a power of two has a nearer lower neighbour and goes to nlohmann.
    const auto bits = std::bit_cast<std::uint64_t>(std::abs(r));
    const auto fraction_bits = bits & ((std::uint64_t{1} << 52) - 1);
    const auto mantissa = static_cast<std::int64_t>(fraction_bits | (std::uint64_t{1} << 52));
    const int e = static_cast<int>(bits >> 52) - 1075;
    if (fraction_bits == 0 || e >= 0 || e < -70) {
        append_number(out, r);
        return;
    }
    // |s - r| in ulps is |D| / 10^d, D = |n| 2^-e - mantissa 10^d, exactly (|n| < 2^50, so
    // |n| 2^-e < 2^120, and mantissa 10^d < 2^83).
    const auto whole = static_cast<std::int64_t>(magnitude);
    const auto power = static_cast<std::int64_t>(scale);
    const Int128 d = (static_cast<Int128>(whole) << -e) - static_cast<Int128>(mantissa) * power;
    if ((d < 0 ? -d : d) * 64 > static_cast<Int128>(power) * 31) {
        append_number(out, r);
        return;
    }
    std::array<char, 64> buffer;
    char* first = buffer.data();
    if (r < 0) *first++ = '-';
    auto [end, ec] = std::to_chars(first, first + 24, whole);
    int decimal_exponent = -decimals;
    while (end - first > 1 && end[-1] == '0') {  // Grisu2's digits have no trailing zeros
        --end;
        ++decimal_exponent;
    }
    // As nlohmann's to_chars: printf("%g")-like, decimal from 10^-4 to 10^15.
    end = nlohmann::detail::dtoa_impl::format_buffer(first, static_cast<int>(end - first),
                                                     decimal_exponent, -4, 15);
    out.append(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
}

Json phone_json(const PhoneView& phone) {
    return {{"display", phone.display},
            {"e164", phone.e164},
            {"uri", phone.uri},
            {"source", phone.source}};
}

Json site_json(const SiteView& site) {
    Json s;
    s["id"] = site.id;
    s["name"] = site.name;
    s["address"] = site.address();
    s["postcode"] = site.postcode;
    s["lat"] = round_to(site.position.lat_deg, 7);
    s["lon"] = round_to(site.position.lon_deg, 7);
    s["located_by"] = site.located_by;
    s["postcode_quality"] = site.quality;
    s["treatments"] = site.treatments;
    return s;
}

Json site_listing_json(const SiteView& site) {
    Json s = site_json(site);
    Json phones = Json::object();
    for (std::size_t i = 0; i < site.treatments.size() && i < site.phones.size(); ++i) {
        phones[std::string(site.treatments[i])] = phone_json(site.phones[i]);
    }
    s["phones"] = std::move(phones);
    return s;
}

Json lookup_json(const PostcodeRecord& r, std::string_view input) {
    Json out;
    out["input"] = input;
    out["postcode"] = r.postcode;
    out["match"] = match_level_name(r.match);
    out["located"] = r.located;
    if (r.located) {
        out["lat"] = round_to(r.position.lat_deg, 7);
        out["lon"] = round_to(r.position.lon_deg, 7);
        out["eastings"] = round_to(r.eastings_m, 1);
        out["northings"] = round_to(r.northings_m, 1);
        out["grid"] = r.grid;
    } else {
        out["lat"] = nullptr;
        out["lon"] = nullptr;
        out["eastings"] = nullptr;
        out["northings"] = nullptr;
        out["grid"] = nullptr;
    }
    if (r.match == MatchLevel::unit || r.match == MatchLevel::terminated)
        out["quality"] = r.quality;
    else
        out["postcode_count"] = r.postcode_count;
    out["country"] = r.country;
    if (!r.terminated.empty()) out["terminated"] = r.terminated;
    if (!r.note.empty()) out["note"] = r.note;
    return out;
}

Json reverse_json(LatLon point, const std::vector<ReverseHit>& hits) {
    Json out;
    out["query"] = {{"match", "point"}, {"lat", point.lat_deg}, {"lon", point.lon_deg}};
    Json results = Json::array();
    std::uint32_t rank = 0;
    for (const auto& h : hits) {
        Json r;
        r["rank"] = ++rank;
        r["postcode"] = h.postcode;
        r["lat"] = round_to(h.position.lat_deg, 7);
        r["lon"] = round_to(h.position.lon_deg, 7);
        r["quality"] = h.quality;
        add_distance_and_bearing(r, h.distance_m, h.bearing_deg);
        results.push_back(std::move(r));
    }
    out["results"] = std::move(results);
    return out;
}

Json treatments_json(const std::vector<TreatmentInfo>& treatments) {
    Json out = Json::array();
    for (const auto& t : treatments) out.push_back({{"name", t.name}, {"sites", t.site_count}});
    return out;
}

Json info_json(const IndexInfo& info) {
    Json out;
    out["format_version"] = info.format_version;
    out["checksum"] = info.checksum;
    out["file_bytes"] = info.file_bytes;
    out["built_at"] = info.built_at;
    out["builder"] = info.builder;
    out["transform"] = info.transform;
    if (!info.transform_irish_grid.empty()) out["transform_irish_grid"] = info.transform_irish_grid;
    Json sources = Json::array();
    for (const auto& s : info.sources) {
        Json j = {{"role", s.role}, {"file", s.file}, {"bytes", s.bytes}};
        if (!s.modified.empty()) j["modified"] = s.modified;
        if (!s.xxh3.empty()) j["xxh3"] = s.xxh3;
        sources.push_back(std::move(j));
    }
    out["sources"] = std::move(sources);
    out["counts"] = {{"postcodes", info.postcodes},
                     {"located", info.located},
                     {"unlocated_quality_90", info.unlocated},
                     {"terminated", info.terminated},
                     {"sectors", info.sectors},
                     {"districts", info.districts},
                     {"sites", info.sites}};
    out["treatments"] = treatments_json(info.treatments);
    return out;
}

Json error_json(unsigned status, std::string_view code, std::string_view message) {
    return {{"error", {{"code", code}, {"message", message}, {"status", status}}}};
}

Json error_json(const Error& error) {
    auto out = error_json(static_cast<unsigned>(http_status(error.code())),
                          error_code_name(error.code()), error.message());
    if (!error.suggestion().empty()) out["error"]["suggestion"] = error.suggestion();
    return out;
}

JsonWriter::JsonWriter(const Engine& engine) {
    Json listing = Json::array();
    for (std::uint32_t i = 0; i < engine.site_count(); ++i) {
        const auto site = engine.site(i);
        site_text_.push_back(to_text(site_json(site)));
        auto one = site_listing_json(site);
        site_listing_text_.push_back(to_text(one));
        listing.push_back(std::move(one));
    }
    sites_text_ = to_text(listing);
    // Offers (a site's phone for one treatment) are numbered treatment by treatment.
    std::uint32_t offers = 0;
    for (const auto& t : engine.treatments()) offers += t.site_count;
    for (std::uint32_t o = 0; o < offers; ++o)
        phone_text_.push_back(to_text(phone_json(engine.phone(o))));
}

std::string JsonWriter::query(const Location& origin) {
    std::string out;
    append_location(out, origin);
    return out;
}

void JsonWriter::append_result(std::string& out, const Neighbour& n) const {
    out += "{\"rank\":";
    append_count(out, n.rank);
    out += ",\"site\":";
    out += site_text_.at(n.site_index);
    out += ",\"phone\":";
    out += phone_text_.at(n.offer_index);
    // As add_distance_and_bearing: metres, km and miles to the millimetre; bearing to 0.1 degree.
    out += ",\"distance\":{\"metres\":";
    append_rounded(out, n.distance_m, 3);
    out += ",\"km\":";
    append_rounded(out, n.distance_m / 1000.0, 3);
    out += ",\"miles\":";
    append_rounded(out, n.distance_m / kMetresPerMile, 3);
    out += "},\"bearing\":{\"degrees\":";
    append_rounded(out, n.bearing_deg, 1);
    out += ",\"compass\":\"";
    out += compass_point(n.bearing_deg);  // "N" .. "NNW": nothing to escape
    out += "\"}}";
}

std::string JsonWriter::result(const Neighbour& neighbour) const {
    std::string out;
    append_result(out, neighbour);
    return out;
}

void JsonWriter::append_nearest_members(std::string& out, const NearestAnswer& answer) const {
    out += "\"query\":";
    append_location(out, answer.origin);
    out += ",\"treatment\":";
    append_string(out, answer.treatment);
    out += ",\"results\":[";
    for (std::size_t i = 0; i < answer.results.size(); ++i) {
        if (i > 0) out += ',';
        append_result(out, answer.results[i]);
    }
    out += ']';
}

std::string JsonWriter::nearest(const NearestAnswer& answer) const {
    std::string out;
    out.reserve(256 + answer.results.size() * 720);
    append_nearest(out, answer);
    return out;
}

void JsonWriter::append_nearest(std::string& out, const NearestAnswer& answer) const {
    out += '{';
    append_nearest_members(out, answer);
    out += '}';
}

}  // namespace hloc::contract
