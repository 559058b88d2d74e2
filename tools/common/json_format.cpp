#include "json_format.hpp"

#include <cmath>

#include "hloc/geodesy.hpp"

namespace hloc::api {

double round_to(double value, int decimals) {
    // Exact powers of ten from a table: the same values std::pow gives, without its cost.
    static constexpr double kPowers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    const double scale = decimals >= 0 && decimals <= 9 ? kPowers[decimals] : std::pow(10.0, decimals);
    const double r = std::round(value * scale) / scale;
    return r == 0 ? 0.0 : r;  // never "-0.0"
}

namespace {

Json location_json(const Location& loc) {
    Json q;
    q["input"] = loc.input;
    if (loc.match != MatchLevel::point) q["postcode"] = loc.postcode;
    q["match"] = match_level_name(loc.match);
    q["lat"] = round_to(loc.position.lat_deg, 7);
    q["lon"] = round_to(loc.position.lon_deg, 7);
    if (!loc.note.empty()) q["note"] = loc.note;
    return q;
}

// Metres, kilometres and miles (UK users think in miles), and the initial bearing.
void add_distance_and_bearing(Json& out, double distance_m, double bearing_deg) {
    out["distance"] = {{"metres", round_to(distance_m, 3)},
                       {"km", round_to(distance_m / 1000.0, 3)},
                       {"miles", round_to(distance_m / kMetresPerMile, 3)}};
    out["bearing"] = {{"degrees", round_to(bearing_deg, 1)}, {"compass", compass_point(bearing_deg)}};
}

}  // namespace

Json phone_json(const PhoneView& phone) {
    return {{"display", phone.display}, {"e164", phone.e164}, {"uri", phone.uri}, {"source", phone.source}};
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

Json nearest_json(const Engine& engine, const NearestAnswer& answer) {
    Json out;
    out["query"] = location_json(answer.origin);
    out["treatment"] = answer.treatment;
    Json results = Json::array();
    for (const auto& n : answer.results) {
        Json r;
        r["rank"] = n.rank;
        r["site"] = site_json(engine.site(n.site_index));
        r["phone"] = phone_json(engine.phone(n.offer_index));
        add_distance_and_bearing(r, n.distance_m, n.bearing_deg);
        results.push_back(std::move(r));
    }
    out["results"] = std::move(results);
    return out;
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
    } else {
        out["lat"] = nullptr;
        out["lon"] = nullptr;
        out["eastings"] = nullptr;
        out["northings"] = nullptr;
    }
    if (r.match == MatchLevel::unit) out["quality"] = r.quality;
    else out["postcode_count"] = r.postcode_count;
    out["country"] = r.country;
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
                     {"sectors", info.sectors},
                     {"districts", info.districts},
                     {"sites", info.sites}};
    out["treatments"] = treatments_json(info.treatments);
    return out;
}

Json error_json(const Error& error) {
    return {{"error",
             {{"code", error_code_name(error.code())},
              {"message", error.message()},
              {"status", http_status(error.code())}}}};
}

}  // namespace hloc::api
