// What goes into and comes out of the Engine. Plain values: no pointers into the index, so an
// answer outlives the Engine that gave it, and one query type serves every shell.
//
// Units ride in the names: *_deg are degrees (WGS84 latitude -90..90, longitude -180..180),
// *_m are metres. Distances are geodesics on the WGS84 ellipsoid.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hloc/error.hpp"

namespace hloc {

struct LatLon {
    double lat_deg = 0;
    double lon_deg = 0;
};

// How a query was resolved to a position.
enum class MatchLevel : std::uint8_t {
    unit,      // the full postcode's own centroid
    sector,    // the sector's centroid ("CM15 8"): asked for, or the unit was not in the data
    district,  // the district's centroid ("CM15")
    point,     // a latitude/longitude given by the caller
    // a postcode Royal Mail has terminated, at its last position (an index built from ONSPD);
    // a live postcode never matches so
    terminated,
};
std::string_view match_level_name(MatchLevel level);

// A resolved query origin.
struct Location {
    std::string input;     // what the caller gave, as given ("cm158eh", or "" for a point)
    std::string postcode;  // canonical unit, sector or district text ("CM15 8EH"); "" for a point
    MatchLevel match = MatchLevel::point;
    LatLon position;
    std::string note;  // why a fallback was used, if one was ("CM15 8ZZ is not in ...")
};

struct NearestQuery {
    Location origin;
    std::string treatment;  // "" = the index's only treatment (an error if it has several)
    std::uint32_t k = 3;    // 1..kMaxK
    std::optional<double> max_distance_m;  // > 0; sites farther away are left out
    // Whether the answer's bearings are wanted: an output that prints none (the batch CSV)
    // saves an atan2 per site. Without them, Neighbour::bearing_deg is NaN.
    bool bearings = true;
};
inline constexpr std::uint32_t kMaxK = 1000;

// The one rule for a count of results (nearest's k, reverse's limit): a whole number from 1
// to kMaxK. Every shell applies it through the contract; the engine applies it again as a
// guard. The message names the parameter and echoes the value ("k must be a whole number
// between 1 and 1000 (got 4294967297)").
std::optional<Error> check_count(std::string_view name, double value);
// The one rule for a distance limit (max_miles, max_km, or metres): finite and at least 0.
std::optional<Error> check_distance_limit(std::string_view name, double value);

struct Neighbour {
    std::uint32_t rank = 0;         // 1-based
    std::uint32_t site_index = 0;   // into Engine::sites()
    std::uint32_t offer_index = 0;  // Engine::phone(offer_index): the number to ring
    double distance_m = 0;          // WGS84 geodesic, Vincenty's inverse formula
    double bearing_deg = 0;  // initial azimuth from the origin, [0, 360), 0 = north; NaN when
                             // the query asked for no bearings
};

struct NearestAnswer {
    Location origin;
    std::string treatment;
    std::vector<Neighbour> results;  // ranked: distance, then site id
};

struct PostcodeRecord {
    std::string postcode;  // canonical text of what was found (unit, sector or district)
    MatchLevel match = MatchLevel::unit;
    bool located = false;  // false: Code-Point quality 90, no coordinates
    LatLon position;
    // British National Grid (OSGB36) metres, or Irish Grid (TM75) in Northern Ireland (see
    // grid); means for sectors and districts.
    double eastings_m = 0;
    double northings_m = 0;
    std::string_view grid = "EPSG:27700";  // or "EPSG:29903", the Irish Grid
    std::uint8_t quality = 0;  // Code-Point positional quality (10 best .. 60; 90 unlocated;
                               // ONSPD's osgrdind times 10); 0 for sector and district centroids
    std::string country;       // "England", "Scotland", "Wales", "Northern Ireland"
    std::string terminated;    // "YYYY-MM" when Royal Mail terminated the postcode, else ""
    // The unit's local authority district, as Code-Point's Admin_district_code (a GSS code,
    // "E07000068"); "" for sectors, districts and unlocated units, where Code-Point leaves it
    // empty, and in an index built before it was stored. Not part of the lookup answer's JSON.
    std::string admin_district;
    std::uint32_t postcode_count = 1;  // located members, for sectors and districts
    std::string note;                  // why a fallback was used
};

struct ReverseHit {
    std::string postcode;
    LatLon position;
    double distance_m = 0;
    double bearing_deg = 0;  // from the query point to the postcode
    std::uint8_t quality = 0;
};

struct ReverseQuery {
    LatLon point;
    std::uint32_t k = 1;  // 1..kMaxK
};

// Views into the index: valid while the Engine that gave them lives.
struct PhoneView {
    std::string_view display;  // national format, "01277 695695"
    std::string_view e164;     // "+441277695695"
    std::string_view uri;      // RFC 3966, "tel:+44-1277-695695"
    std::string_view source;  // "listing" (the treatment's page) or "provider" (its central number)
};

struct SiteView {
    std::uint32_t index = 0;
    std::string_view id, name, street, locality, town, postcode;
    std::string_view located_by;  // "postcode" (its own listed postcode) or "directory"
    std::uint8_t quality = 0;     // Code-Point positional quality of its postcode
    LatLon position;
    std::vector<std::string_view> treatments;       // sorted
    std::vector<PhoneView> phones;                  // parallel to treatments
    std::vector<std::string_view> address() const;  // street, locality, town; blanks left out
};

struct TreatmentInfo {
    std::string_view name;
    std::uint32_t site_count = 0;
};

struct SourceInfo {
    std::string role;  // "listing:kyphoplasty", "sites", "codepoint", "grid"
    std::string file;  // file name as given to build
    std::uint64_t bytes = 0;
    std::string modified;  // UTC, ISO 8601, where the source carries a date
    std::string xxh3;      // content checksum, 16 hex digits
};

struct IndexInfo {
    std::uint32_t format_version = 0;
    std::string checksum;  // payload XXH3-64, 16 hex digits
    std::uint64_t file_bytes = 0;
    std::string built_at;   // taken from the newest source, so rebuilding changes no byte
    std::string builder;    // tool and version
    std::string transform;  // PROJ pipeline used for EPSG:27700 -> WGS84
    // The one used for Northern Ireland's Irish Grid (EPSG:29903) -> WGS84, named by PROJ's
    // operation; "" for an index with no Northern Ireland postcodes.
    std::string transform_irish_grid;
    std::vector<SourceInfo> sources;
    std::uint64_t postcodes = 0;   // all postcodes in the source (live and terminated)
    std::uint64_t located = 0;     // in the spatial index
    std::uint64_t unlocated = 0;   // quality 90: lookup only
    std::uint64_t terminated = 0;  // terminated postcodes (ONSPD): lookup and origins only
    std::uint64_t sectors = 0;
    std::uint64_t districts = 0;
    std::uint64_t sites = 0;
    std::vector<TreatmentInfo> treatments;
    std::vector<std::pair<std::string, std::string>> metadata;  // every key/value, as stored
};

}  // namespace hloc
