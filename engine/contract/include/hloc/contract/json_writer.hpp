// The one JSON shape of DESIGN.md, shared by every shell (CLI --format json, HTTP, batch JSON
// Lines and GeoJSON properties, Python to_dict()), so a caller can move between them. Field
// names are never renamed; fields may be added.
//
// Text is written with invalid UTF-8 replaced by U+FFFD, never an exception: a caller's bytes
// echoed in a message must not turn an answer into a crash.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "hloc/engine.hpp"

namespace hloc::contract {

using Json = nlohmann::ordered_json;

// Compact text, and indented text for people (the CLI's --format json).
std::string to_text(const Json& value);
std::string to_pretty_text(const Json& value);
// Compact JSON text re-indented.
std::string pretty(std::string_view compact_text);

// Rounding for output: 7 decimals of a degree is 1.1 cm; distances to the millimetre.
// round_to(v, d) = round(v * decimal_scale(d)) / decimal_scale(d), never -0.0.
double round_to(double value, int decimals);
double decimal_scale(int decimals);  // 10^decimals, exactly for 0..9
// round_to(value, decimals) appended as dump() writes that double (nlohmann's shortest form),
// byte for byte, mostly without its Grisu2: what nearest answers print their numbers with.
void append_rounded(std::string& out, double value, int decimals);

Json phone_json(const PhoneView& phone);
// A site as in a nearest result; site_listing_json adds "phones": {treatment: phone}.
Json site_json(const SiteView& site);
Json site_listing_json(const SiteView& site);
Json lookup_json(const PostcodeRecord& record, std::string_view input);
Json reverse_json(LatLon point, const std::vector<ReverseHit>& hits);
Json info_json(const IndexInfo& info);
Json treatments_json(const std::vector<TreatmentInfo>& treatments);
// {"error": {"code", "message", "status"}} (+ "suggestion" when the error has one).
Json error_json(const Error& error);
// The same shape for failures the engine has no code for (HTTP: not_found, payload_too_large).
Json error_json(unsigned status, std::string_view code, std::string_view message);

// Nearest answers and site listings of one index. Each site's and phone's object is rendered
// once, when the writer is made (building a JSON tree per answer was two thirds of the
// service's CPU per request); an answer is then those texts and its own numbers.
class JsonWriter {
  public:
    explicit JsonWriter(const Engine& engine);

    // {"query": ..., "treatment": ..., "results": [...]}
    std::string nearest(const NearestAnswer& answer) const;
    // The same, appended to `out` (bulk answers write every item into one buffer).
    void append_nearest(std::string& out, const NearestAnswer& answer) const;
    // The same members without the enclosing braces, appended to `out`.
    void append_nearest_members(std::string& out, const NearestAnswer& answer) const;
    // One element of "results", and the "query" object.
    std::string result(const Neighbour& neighbour) const;
    static std::string query(const Location& origin);

    // GET /v1/sites and `sites --format json`: every site with its phones.
    const std::string& sites() const { return sites_text_; }
    const std::string& site(std::uint32_t index) const { return site_listing_text_.at(index); }

  private:
    void append_result(std::string& out, const Neighbour& neighbour) const;

    std::vector<std::string> site_text_;          // by site index
    std::vector<std::string> phone_text_;         // by offer index
    std::vector<std::string> site_listing_text_;  // by site index, with phones
    std::string sites_text_;
};

}  // namespace hloc::contract
