#include "hloc/engine.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <numbers>
#include <optional>
#include <thread>

#include "hloc/checksum.hpp"
#include "hloc/chord_tree.hpp"
#include "hloc/geodesy.hpp"
#include "hloc/index_format.hpp"
#include "hloc/metadata.hpp"
#include "hloc/unit_vector.hpp"
#include "mapped_file.hpp"
#include "text.hpp"

namespace hloc {

namespace fmt = format;

std::string_view match_level_name(MatchLevel level) {
    switch (level) {
        case MatchLevel::unit: return "unit";
        case MatchLevel::sector: return "sector";
        case MatchLevel::district: return "district";
        case MatchLevel::point: return "point";
    }
    return "point";
}

std::vector<std::string_view> SiteView::address() const {
    std::vector<std::string_view> lines;
    for (auto part : {street, locality, town}) {
        if (!part.empty()) lines.push_back(part);
    }
    return lines;
}

namespace {

using detail::in_quotes;

// A number as a person would write it: 53, -2.5, 1e+300.
std::string num(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", v);
    return text;
}

std::string_view country_name(std::uint8_t country) {
    switch (static_cast<fmt::Country>(country)) {
        case fmt::Country::england: return "England";
        case fmt::Country::scotland: return "Scotland";
        case fmt::Country::wales: return "Wales";
        case fmt::Country::unknown: break;
    }
    return "";
}

std::string outward_text(const fmt::DistrictRecord& d) {
    return std::string(d.outward.data(), strnlen(d.outward.data(), d.outward.size()));
}

std::string inward_text(std::uint32_t code) {
    std::string s(3, ' ');
    s[0] = static_cast<char>('0' + code / 676);
    s[1] = static_cast<char>('A' + (code / 26) % 26);
    s[2] = static_cast<char>('A' + code % 26);
    return s;
}

// Latitude/longitude box of Great Britain and its islands, with a margin. Used only to tell
// a swapped latitude/longitude from a point that is merely far away.
constexpr double kGbMinLat = 49.0, kGbMaxLat = 61.5, kGbMinLon = -9.0, kGbMaxLon = 2.5;
bool in_gb_box(double lat, double lon) {
    return lat >= kGbMinLat && lat <= kGbMaxLat && lon >= kGbMinLon && lon <= kGbMaxLon;
}

// The squared chord (UnitVector units) within which every point lies whose geodesic distance
// from the query is at most `distance_m`. Proof: along any path, ellipsoidal length >=
// kMinRadiusOfCurvatureM x the path's length on the unit sphere (latitude read as geodetic),
// so the spherical angle is at most distance_m / kMinRadiusOfCurvatureM. Widened by 1e-9
// relative and 8 units absolute (~2.4 cm): quantised points sit within 0.87 units of their
// exact unit vectors, and the chord is computed in doubles.
double candidate_radius_sq(double distance_m) {
    const double angle = distance_m / kMinRadiusOfCurvatureM;
    if (angle >= std::numbers::pi) return std::numeric_limits<double>::infinity();
    const double chord = 2.0 * std::sin(angle / 2.0) * fmt::kUnitScale * (1.0 + 1e-9) + 8.0;
    return chord * chord;
}

struct Candidate {
    std::uint32_t local;     // index into the tree's cloud
    std::uint32_t tiebreak;  // site index (sites sort by id) or postcode row
    Geodesic geodesic;
};

struct Scratch {
    std::vector<std::uint32_t> knn_index;
    std::vector<double> knn_dist;
    std::vector<std::pair<std::uint32_t, double>> radius_hits;
    std::vector<Candidate> candidates;
};
Scratch& scratch() {
    thread_local Scratch s;  // reused: a query allocates nothing once warm
    return s;
}

// The exact k nearest points of a chord tree by WGS84 geodesic distance, ties by `tiebreak`.
// `position(local)` gives a point's latitude/longitude, `tiebreak(local)` its order key.
template <class PositionFn, class TiebreakFn>
void exact_nearest(const ChordTree& tree, std::size_t point_count, LatLon origin, std::uint32_t k,
                   std::optional<double> max_distance_m, PositionFn position, TiebreakFn tiebreak,
                   std::vector<Candidate>& out) {
    out.clear();
    if (point_count == 0 || k == 0) return;
    auto& s = scratch();
    const auto q = exact_unit_vector(origin);
    const std::size_t want = std::min<std::size_t>(k, point_count);

    // 1. The k nearest by chord; their geodesic distances bound the true k-th distance.
    s.knn_index.resize(want);
    s.knn_dist.resize(want);
    const auto found = tree.knnSearch(q.data(), want, s.knn_index.data(), s.knn_dist.data());
    auto& cands = s.candidates;
    cands.clear();
    double kth_m = 0;
    for (std::size_t i = 0; i < found; ++i) {
        const auto local = s.knn_index[i];
        cands.push_back({local, tiebreak(local), geodesic_inverse(origin, position(local))});
        kth_m = std::max(kth_m, cands.back().geodesic.distance_m);
    }
    double bound_m = kth_m;
    if (max_distance_m) bound_m = std::min(bound_m, *max_distance_m);

    // 2. Every point that could beat the k-th candidate lies within candidate_radius_sq.
    const double radius_sq = candidate_radius_sq(bound_m);
    if (std::isinf(radius_sq)) {
        s.radius_hits.clear();
        for (std::uint32_t i = 0; i < point_count; ++i) s.radius_hits.emplace_back(i, 0.0);
    } else {
        nanoflann::SearchParams params;
        params.sorted = false;
        tree.radiusSearch(q.data(), radius_sq, s.radius_hits, params);
    }
    for (const auto& hit : s.radius_hits) {
        const std::uint32_t local = hit.first;  // (clang 14 cannot capture a structured binding)
        const bool seen = std::any_of(cands.begin(), cands.begin() + static_cast<long>(found),
                                      [&](const Candidate& c) { return c.local == local; });
        if (!seen) cands.push_back({local, tiebreak(local), geodesic_inverse(origin, position(local))});
    }

    // 3. Exact order: geodesic distance, then the tie-break key.
    auto by_distance = [](const Candidate& a, const Candidate& b) {
        if (a.geodesic.distance_m != b.geodesic.distance_m) {
            return a.geodesic.distance_m < b.geodesic.distance_m;
        }
        return a.tiebreak < b.tiebreak;
    };
    std::sort(cands.begin(), cands.end(), by_distance);
    for (const auto& c : cands) {
        if (out.size() == want) break;
        if (max_distance_m && c.geodesic.distance_m > *max_distance_m) break;
        out.push_back(c);
    }
}

}  // namespace

struct Engine::Impl {
    detail::MappedFile file;
    std::string path;
    fmt::FileHeader header{};

    std::string_view metadata;
    std::span<const std::byte> strings;
    std::span<const fmt::DistrictRecord> districts;
    std::span<const fmt::SectorRecord> sectors;
    std::span<const std::uint64_t> rows;
    std::span<const std::uint16_t> row_samples;
    std::span<const fmt::UnitVector> vectors;
    std::span<const fmt::UnlocatedRecord> unlocated;
    std::span<const fmt::SiteRecord> site_records;
    std::span<const fmt::TreatmentRecord> treatment_records;
    std::span<const fmt::OfferRecord> offers;
    std::span<const fmt::UnitVector> site_vectors;
    std::span<const std::byte> site_tree_bytes;
    std::span<const std::byte> postcode_tree_bytes;

    struct Treatment {
        std::string_view name;
        std::uint32_t first_offer = 0;
        std::span<const fmt::OfferRecord> offers;  // ascending site index (= site id order)
        UnitVectorCloud cloud;
        std::unique_ptr<ChordTree> tree;
    };
    std::vector<Treatment> treatments;
    // Per site, its offer indices: site_offer_index[site_offer_begin[s] .. site_offer_begin[s+1]).
    std::vector<std::uint32_t> site_offer_begin, site_offer_index;
    // District outward codes as big-endian integers (11 KB for GB): the binary search stays
    // in cache instead of striding through 64-byte records.
    std::vector<std::uint32_t> district_keys;
    std::vector<std::uint32_t> district_rows;  // first row of each district, then the row count

    // The postcode tree is loaded on the first reverse query (or at open, when asked): a
    // process that only answers nearest never pays for it. Loading copies ~7 MB of point
    // order and rebuilds ~145,000 nodes: ~4 ms when memory is warm, ~70 ms on a VM where
    // every fresh page faults slowly.
    UnitVectorCloud postcode_cloud;
    mutable std::once_flag postcode_tree_once;
    mutable std::unique_ptr<ChordTree> postcode_tree;
    mutable std::optional<Error> postcode_tree_error;

    Impl(const std::filesystem::path& p, bool resident) : file(p, resident), path(p.string()) {}

    Error corrupt(const std::string& why) const {
        return Error(ErrorCode::bad_index, "index '" + path + "' is refused: " + why);
    }

    void check_header() {
        const auto bytes = file.bytes();
        if (bytes.size() < sizeof(fmt::FileHeader)) {
            throw corrupt("it is " + std::to_string(bytes.size()) +
                          " bytes, shorter than an index header (" +
                          std::to_string(sizeof(fmt::FileHeader)) + " bytes)");
        }
        std::memcpy(&header, bytes.data(), sizeof header);
        if (header.magic != fmt::kMagic) throw corrupt("it is not a hospital-locator index (bad magic)");
        if (header.endian_tag != fmt::kEndianTag) {
            throw corrupt("it was written with the other byte order");
        }
        if (header.format_version != fmt::kFormatVersion) {
            throw corrupt("it is format version " + std::to_string(header.format_version) +
                          ", this program reads version " + std::to_string(fmt::kFormatVersion) +
                          "; rebuild it with this version's 'hospital-locator build'");
        }
        auto copy = header;
        copy.header_checksum = 0;
        if (checksum(std::as_bytes(std::span(&copy, 1))) != header.header_checksum) {
            throw corrupt("its header checksum does not match (the header is corrupt)");
        }
        if (header.file_size != bytes.size()) {
            throw corrupt("it is " + std::to_string(bytes.size()) + " bytes but its header says " +
                          std::to_string(header.file_size) + " (truncated or appended to)");
        }
        if (header.header_bytes != fmt::kHeaderBytes || header.section_count > fmt::kMaxSections) {
            throw corrupt("its header has an impossible size or section count");
        }
    }

    const fmt::SectionEntry* find_section(fmt::SectionId id) const {
        for (std::uint32_t i = 0; i < header.section_count; ++i) {
            if (header.sections[i].id == static_cast<std::uint32_t>(id)) return &header.sections[i];
        }
        return nullptr;
    }

    std::span<const std::byte> section_bytes(fmt::SectionId id, std::string_view name) const {
        const auto* s = find_section(id);
        if (s == nullptr) throw corrupt("section '" + std::string(name) + "' is missing");
        if (s->offset < header.header_bytes || s->offset > header.file_size ||
            s->size > header.file_size - s->offset || s->offset % fmt::kSectionAlignment != 0) {
            throw corrupt("section '" + std::string(name) + "' lies outside the file");
        }
        return file.bytes().subspan(s->offset, s->size);
    }

    template <class T>
    std::span<const T> section_array(fmt::SectionId id, std::string_view name) const {
        const auto bytes = section_bytes(id, name);
        const auto* s = find_section(id);
        if (bytes.size() % sizeof(T) != 0 || bytes.size() / sizeof(T) != s->count) {
            throw corrupt("section '" + std::string(name) + "' has " + std::to_string(bytes.size()) +
                          " bytes, not " + std::to_string(s->count) + " records of " +
                          std::to_string(sizeof(T)));
        }
        return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
    }

    std::string_view str(const fmt::StringRef& r) const {
        return {reinterpret_cast<const char*>(strings.data()) + r.offset, r.length};
    }
    bool str_ok(const fmt::StringRef& r) const {
        return r.offset <= strings.size() && r.length <= strings.size() - r.offset;
    }
    void check_str(const fmt::StringRef& r, const char* what, std::size_t index) const {
        if (!str_ok(r)) {
            throw corrupt(std::string(what) + " " + std::to_string(index) +
                          " points outside the string table");
        }
    }

    void map_sections() {
        using S = fmt::SectionId;
        const auto meta = section_bytes(S::metadata, "metadata");
        metadata = {reinterpret_cast<const char*>(meta.data()), meta.size()};
        strings = section_bytes(S::strings, "strings");
        districts = section_array<fmt::DistrictRecord>(S::districts, "districts");
        sectors = section_array<fmt::SectorRecord>(S::sectors, "sectors");
        rows = section_array<std::uint64_t>(S::postcodes, "postcodes");
        row_samples = section_array<std::uint16_t>(S::row_samples, "row_samples");
        vectors = section_array<fmt::UnitVector>(S::unit_vectors, "unit_vectors");
        unlocated = section_array<fmt::UnlocatedRecord>(S::unlocated, "unlocated");
        site_records = section_array<fmt::SiteRecord>(S::sites, "sites");
        treatment_records = section_array<fmt::TreatmentRecord>(S::treatments, "treatments");
        offers = section_array<fmt::OfferRecord>(S::treatment_sites, "treatment_sites");
        site_vectors = section_array<fmt::UnitVector>(S::site_vectors, "site_vectors");
        site_tree_bytes = section_bytes(S::site_trees, "site_trees");
        postcode_tree_bytes = section_bytes(S::postcode_tree, "postcode_tree");
    }

    // Every reference that a query follows is checked here, so no query can read out of bounds
    // whatever the bytes. (Row contents cannot send a read anywhere; the checksum covers them.)
    void check_references() {
        if (vectors.size() != rows.size()) throw corrupt("unit_vectors and postcodes differ in length");
        if (row_samples.size() != (rows.size() + fmt::kRowSampleStride - 1) / fmt::kRowSampleStride) {
            throw corrupt("row_samples does not match postcodes");
        }
        if (site_vectors.size() != offers.size()) {
            throw corrupt("site_vectors and treatment_sites differ in length");
        }
        std::uint64_t next_row = 0;
        district_keys.reserve(districts.size());
        for (std::size_t i = 0; i < districts.size(); ++i) {
            const auto& d = districts[i];
            district_keys.push_back(district_key(d.outward));
            district_rows.push_back(d.first_row);
            if (i > 0 && !(districts[i - 1].outward < d.outward)) {
                throw corrupt("districts are not in order at record " + std::to_string(i));
            }
            if (d.first_row != next_row || d.row_count > rows.size() - next_row) {
                throw corrupt("district " + std::to_string(i) + " has a bad row range");
            }
            next_row += d.row_count;
            if (d.first_sector > sectors.size() || d.sector_count > sectors.size() - d.first_sector) {
                throw corrupt("district " + std::to_string(i) + " has a bad sector range");
            }
            for (std::uint32_t s = d.first_sector; s < d.first_sector + d.sector_count; ++s) {
                if (sectors[s].district != i) throw corrupt("sector " + std::to_string(s) + " is misfiled");
            }
        }
        if (next_row != rows.size()) throw corrupt("districts do not cover every postcode row");
        district_rows.push_back(static_cast<std::uint32_t>(rows.size()));
        for (std::size_t i = 0; i < site_records.size(); ++i) {
            const auto& s = site_records[i];
            for (const auto* r : {&s.id, &s.name, &s.street, &s.locality, &s.town, &s.postcode}) {
                check_str(*r, "site", i);
            }
            if (i > 0 && !(str(site_records[i - 1].id) < str(s.id))) {
                throw corrupt("sites are not in id order at record " + std::to_string(i));
            }
        }
        for (std::size_t i = 0; i < treatment_records.size(); ++i) {
            const auto& t = treatment_records[i];
            check_str(t.name, "treatment", i);
            if (t.first_site > offers.size() || t.site_count > offers.size() - t.first_site) {
                throw corrupt("treatment " + std::to_string(i) + " has a bad site range");
            }
            if (t.tree_offset > site_tree_bytes.size() ||
                t.tree_size > site_tree_bytes.size() - t.tree_offset) {
                throw corrupt("treatment " + std::to_string(i) + " has a bad tree range");
            }
        }
        for (std::size_t i = 0; i < offers.size(); ++i) {
            const auto& o = offers[i];
            if (o.site >= site_records.size()) throw corrupt("a treatment lists a site that does not exist");
            for (const auto* r : {&o.phone_display, &o.phone_e164, &o.phone_uri}) {
                check_str(*r, "offer", i);
            }
        }
    }

    void load_site_trees() {
        for (const auto& t : treatment_records) {
            Treatment tr;
            tr.name = str(t.name);
            tr.first_offer = t.first_site;
            tr.offers = offers.subspan(t.first_site, t.site_count);
            tr.cloud.points = site_vectors.subspan(t.first_site, t.site_count);
            treatments.push_back(std::move(tr));
        }
        // Trees point at their cloud, so load them once the vector no longer moves.
        for (std::size_t i = 0; i < treatments.size(); ++i) {
            const auto& t = treatment_records[i];
            treatments[i].tree = load_chord_tree(
                treatments[i].cloud, site_tree_bytes.subspan(t.tree_offset, t.tree_size),
                "sites offering " + std::string(treatments[i].name));
        }
        // Offers grouped by site (counting sort), in treatment order within a site.
        site_offer_begin.assign(site_records.size() + 1, 0);
        for (const auto& o : offers) ++site_offer_begin[o.site + 1];
        for (std::size_t s = 0; s < site_records.size(); ++s) site_offer_begin[s + 1] += site_offer_begin[s];
        site_offer_index.resize(offers.size());
        std::vector<std::uint32_t> fill(site_offer_begin.begin(), site_offer_begin.end() - 1);
        for (std::uint32_t o = 0; o < offers.size(); ++o) site_offer_index[fill[offers[o].site]++] = o;
        postcode_cloud.points = vectors;
    }

    const ChordTree& reverse_tree() const {
        std::call_once(postcode_tree_once, [&] {
            try {
                postcode_tree = load_chord_tree(postcode_cloud, postcode_tree_bytes, "postcodes");
            } catch (const Error& e) {
                postcode_tree_error = e;
            }
        });
        if (postcode_tree_error) throw *postcode_tree_error;
        return *postcode_tree;
    }

    // ---- postcode tables -------------------------------------------------------------

    static std::uint32_t district_key(const std::array<char, 4>& outward) {
        return (std::uint32_t{static_cast<std::uint8_t>(outward[0])} << 24) |
               (std::uint32_t{static_cast<std::uint8_t>(outward[1])} << 16) |
               (std::uint32_t{static_cast<std::uint8_t>(outward[2])} << 8) |
               std::uint32_t{static_cast<std::uint8_t>(outward[3])};
    }

    const fmt::DistrictRecord* find_district(std::string_view outward) const {
        std::array<char, 4> text{};
        if (outward.size() > text.size()) return nullptr;
        std::memcpy(text.data(), outward.data(), outward.size());
        const auto key = district_key(text);
        auto it = std::lower_bound(district_keys.begin(), district_keys.end(), key);
        if (it == district_keys.end() || *it != key) return nullptr;
        return &districts[static_cast<std::size_t>(it - district_keys.begin())];
    }

    std::optional<std::uint32_t> find_row(const fmt::DistrictRecord& d, std::uint32_t inward) const {
        // The last sampled row at or before the answer, among the district's samples (in
        // cache), then one block of kRowSampleStride rows: one or two cache misses, not ten.
        const std::size_t first = d.first_row, end = first + d.row_count;
        constexpr std::size_t stride = fmt::kRowSampleStride;
        // Samples of rows inside the district: rows s*stride for s in [s_lo, s_hi).
        const std::size_t s_lo = (first + stride - 1) / stride, s_hi = (end + stride - 1) / stride;
        std::size_t lo = first, hi = std::min(end, s_lo * stride);  // the rows before its first sample
        if (s_lo < s_hi) {
            const auto begin = row_samples.begin() + static_cast<long>(s_lo);
            const auto it = std::upper_bound(begin, row_samples.begin() + static_cast<long>(s_hi), inward);
            if (it != begin) {  // the last sample <= inward starts the block that holds it
                lo = static_cast<std::size_t>(it - row_samples.begin() - 1) * stride;
                hi = std::min(end, lo + stride);
            }
        }
        // The caller will read the row's unit vector next: fetch its block now, so that the
        // two cache misses overlap instead of following one another.
        __builtin_prefetch(&vectors[lo]);
        __builtin_prefetch(&vectors[std::min(hi, lo + 8)]);
        for (std::size_t i = lo; i < hi; ++i) {
            const auto c = fmt::PackedRow::inward_code(rows[i]);
            if (c == inward) return static_cast<std::uint32_t>(i);
            if (c > inward) return std::nullopt;
        }
        return std::nullopt;
    }

    const fmt::SectorRecord* find_sector(const fmt::DistrictRecord& d, char digit) const {
        for (std::uint32_t s = d.first_sector; s < d.first_sector + d.sector_count; ++s) {
            if (sectors[s].digit == static_cast<std::uint8_t>(digit)) return &sectors[s];
        }
        return nullptr;
    }

    const fmt::UnlocatedRecord* find_unlocated(std::string_view text) const {
        std::array<char, 8> key{};
        if (text.size() > key.size()) return nullptr;
        std::memcpy(key.data(), text.data(), text.size());
        auto it = std::lower_bound(
            unlocated.begin(), unlocated.end(), key,
            [](const fmt::UnlocatedRecord& r, const std::array<char, 8>& k) { return r.text < k; });
        if (it == unlocated.end() || it->text != key) return nullptr;
        return &*it;
    }

    std::string row_postcode(std::uint32_t row) const {
        auto it = std::upper_bound(districts.begin(), districts.end(), row,
                                   [](std::uint32_t r, const fmt::DistrictRecord& d) {
                                       return r < d.first_row;
                                   });
        const auto& d = *(it - 1);  // districts cover every row (checked at open)
        return outward_text(d) + ' ' + inward_text(fmt::PackedRow::inward_code(rows[row]));
    }

    LatLon row_position(std::uint32_t row) const { return from_unit_vector(vectors[row]); }

    PostcodeRecord unit_record(std::uint32_t row, std::string text) const {
        const auto packed = rows[row];
        PostcodeRecord r;
        r.postcode = std::move(text);
        r.match = MatchLevel::unit;
        r.located = true;
        r.position = row_position(row);
        r.eastings_m = fmt::PackedRow::eastings_m(packed);
        r.northings_m = fmt::PackedRow::northings_m(packed);
        r.quality = fmt::kQualityCodes[fmt::PackedRow::quality_index(packed)];
        r.country = country_name(static_cast<std::uint8_t>(fmt::PackedRow::country(packed)));
        return r;
    }

    static PostcodeRecord centroid_record(std::string text, MatchLevel level, const fmt::Centroid& c,
                                          std::uint8_t country) {
        PostcodeRecord r;
        r.postcode = std::move(text);
        r.match = level;
        r.located = c.located_count > 0;
        r.position = {c.lat_deg, c.lon_deg};
        r.eastings_m = c.eastings_m;
        r.northings_m = c.northings_m;
        r.quality = 0;
        r.country = country_name(country);
        r.postcode_count = c.located_count;
        return r;
    }

    // Unit -> sector -> district, as far as needed to reach a located record. With
    // `need_position` false, a unit with no coordinates (quality 90) is itself the answer.
    Result<PostcodeRecord> find(std::string_view input, bool need_position) const {
        auto parsed = parse_postcode(input);
        if (!parsed) return better_suggestion(input, parsed.error());
        const auto& p = *parsed;
        const auto* district = find_district(p.outward);
        std::string note;
        if (p.level == PostcodeLevel::unit) {
            const std::string text = p.text();
            if (district != nullptr) {
                if (auto row = find_row(*district, fmt::inward_code(p.sector_digit, p.unit_letters[0],
                                                                    p.unit_letters[1]))) {
                    return unit_record(*row, text);
                }
            }
            if (const auto* u = find_unlocated(text)) {
                if (!need_position) {
                    PostcodeRecord r;
                    r.postcode = text;
                    r.match = MatchLevel::unit;
                    r.located = false;
                    r.quality = u->quality;
                    r.country = country_name(u->country);
                    r.postcode_count = 0;
                    r.note = in_quotes(text) + " has no coordinates in Code-Point Open (positional "
                             "quality 90)";
                    return r;
                }
                note = in_quotes(text) + " has no coordinates in Code-Point Open (positional quality 90)";
            } else {
                note = in_quotes(text) + " is not in Code-Point Open";
            }
        }
        if (p.level != PostcodeLevel::district && district != nullptr) {
            if (const auto* s = find_sector(*district, p.sector_digit);
                s != nullptr && s->centroid.located_count > 0) {
                auto r = centroid_record(p.sector_text(), MatchLevel::sector, s->centroid, s->country);
                if (!note.empty()) r.note = note + "; the centroid of its sector " + in_quotes(r.postcode) + " is used";
                return r;
            }
            if (note.empty()) note = "sector " + in_quotes(p.sector_text()) + " is not in Code-Point Open";
        }
        if (district != nullptr && district->centroid.located_count > 0) {
            auto r = centroid_record(p.outward, MatchLevel::district, district->centroid,
                                     district->country);
            if (!note.empty()) {
                r.note = note + "; the centroid of its district " + in_quotes(p.outward) + " is used";
            }
            return r;
        }
        if (p.level == PostcodeLevel::district) {
            return Error(ErrorCode::postcode_not_found,
                         district == nullptr
                             ? "postcode district " + in_quotes(p.outward) + " is not in Code-Point Open"
                             : "postcode district " + in_quotes(p.outward) + " has no located postcode");
        }
        if (district == nullptr) {
            return Error(ErrorCode::postcode_not_found,
                         in_quotes(p.text()) + " is not in Code-Point Open, and neither is its district " +
                             in_quotes(p.outward));
        }
        return Error(ErrorCode::postcode_not_found,
                     note + ", and neither its sector nor its district " + in_quotes(p.outward) +
                         " has a located postcode");
    }

    // For an O/0 or I/1 slip, suggest a correction that exists in the data if there is one.
    Error better_suggestion(std::string_view input, const Error& e) const {
        if (e.code() != ErrorCode::invalid_postcode) return e;
        const auto suggestions = postcode_suggestions(input);
        if (suggestions.size() < 2) return e;
        for (const auto& s : suggestions) {
            auto p = parse_postcode(s);
            if (!p) continue;
            const auto* d = find_district(p->outward);
            if (d != nullptr &&
                find_row(*d, fmt::inward_code(p->sector_digit, p->unit_letters[0], p->unit_letters[1]))) {
                std::string message = e.message();
                const auto at = message.find("; did you mean ");
                if (at != std::string::npos) message.resize(at);
                return Error(e.code(), message + "; did you mean " + in_quotes(s) + "?");
            }
        }
        return e;
    }

    Result<const Treatment*> treatment(std::string_view name) const {
        std::string names;  // for the messages
        for (const auto& t : treatments) {
            if (!names.empty()) names += ", ";
            names += t.name;
        }
        if (name.empty()) {
            if (treatments.size() == 1) return &treatments.front();
            return Error(ErrorCode::invalid_parameter,
                         "this index offers several treatments (" + names + "): name one with treatment");
        }
        for (const auto& t : treatments) {
            if (t.name == name) return &t;
        }
        return Error(ErrorCode::unknown_treatment,
                     "no treatment " + in_quotes(name) + " in this index; it has: " + names);
    }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

Engine Engine::open(const std::filesystem::path& index_file, OpenOptions options) {
    auto impl = std::make_unique<Impl>(index_file, options.resident);
    impl->check_header();
    impl->map_sections();
    impl->check_references();
    impl->load_site_trees();
    Engine engine(std::move(impl));
    if (options.verify_checksum) engine.verify();
    if (options.preload_reverse) (void)engine.impl_->reverse_tree();  // throws bad_index if damaged
    return engine;
}

void Engine::verify() const {
    const auto payload = impl_->file.bytes().subspan(impl_->header.header_bytes);
    const auto actual = checksum(payload);
    if (actual != impl_->header.payload_checksum) {
        throw impl_->corrupt("its payload checksum is " + checksum_hex(actual) + ", the header says " +
                             checksum_hex(impl_->header.payload_checksum) + " (the file is corrupt)");
    }
}

Result<Location> Engine::resolve(std::string_view postcode_text) const {
    auto found = impl_->find(postcode_text, true);
    if (!found) return found.error();
    Location loc;
    loc.input = std::string(postcode_text);
    loc.postcode = found->postcode;
    loc.match = found->match;
    loc.position = found->position;
    loc.note = found->note;
    return loc;
}

Result<Location> Engine::locate_point(LatLon point) const {
    const double lat = point.lat_deg, lon = point.lon_deg;
    if (!std::isfinite(lat) || !std::isfinite(lon)) {
        return Error(ErrorCode::invalid_parameter, "lat and lon must be finite numbers");
    }
    if (lat < -90 || lat > 90) {
        return Error(ErrorCode::invalid_parameter,
                     "lat " + num(lat) + " is out of range (-90 to 90 degrees)");
    }
    if (lon < -180 || lon > 180) {
        return Error(ErrorCode::invalid_parameter,
                     "lon " + num(lon) + " is out of range (-180 to 180 degrees)");
    }
    if (!in_gb_box(lat, lon) && in_gb_box(lon, lat)) {
        return Error(ErrorCode::invalid_parameter,
                     "lat " + num(lat) + ", lon " + num(lon) + " looks swapped: lat " + num(lon) +
                         ", lon " + num(lat) + " is in Great Britain");
    }
    Location loc;
    loc.match = MatchLevel::point;
    loc.position = point;
    return loc;
}

Result<PostcodeRecord> Engine::lookup(std::string_view postcode_text) const {
    return impl_->find(postcode_text, false);
}

Result<NearestAnswer> Engine::nearest(const NearestQuery& query) const {
    if (query.k < 1 || query.k > kMaxK) {
        return Error(ErrorCode::invalid_parameter, "k must be between 1 and " + std::to_string(kMaxK) +
                                                       " (got " + std::to_string(query.k) + ")");
    }
    if (query.max_distance_m && !(*query.max_distance_m >= 0 && std::isfinite(*query.max_distance_m))) {
        return Error(ErrorCode::invalid_parameter,
                     "the maximum distance must be a finite number of at least 0");
    }
    const auto& pos = query.origin.position;
    if (!std::isfinite(pos.lat_deg) || !std::isfinite(pos.lon_deg) || std::abs(pos.lat_deg) > 90 ||
        std::abs(pos.lon_deg) > 180) {
        return Error(ErrorCode::invalid_parameter, "the query origin is not a valid latitude/longitude");
    }
    auto t = impl_->treatment(query.treatment);
    if (!t) return t.error();
    const auto* tr = *t;

    NearestAnswer answer;
    answer.origin = query.origin;
    answer.treatment = std::string(tr->name);
    std::vector<Candidate> ranked;
    exact_nearest(
        *tr->tree, tr->offers.size(), pos, query.k, query.max_distance_m,
        [&](std::uint32_t local) {
            const auto& s = impl_->site_records[tr->offers[local].site];
            return LatLon{s.lat_deg, s.lon_deg};
        },
        [&](std::uint32_t local) { return tr->offers[local].site; }, ranked);
    answer.results.reserve(ranked.size());
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        answer.results.push_back({static_cast<std::uint32_t>(i + 1), tr->offers[ranked[i].local].site,
                                  tr->first_offer + ranked[i].local, ranked[i].geodesic.distance_m,
                                  ranked[i].geodesic.bearing_deg});
    }
    return answer;
}

Result<std::vector<ReverseHit>> Engine::reverse(const ReverseQuery& query) const {
    if (query.k < 1 || query.k > kMaxK) {
        return Error(ErrorCode::invalid_parameter, "k must be between 1 and " + std::to_string(kMaxK) +
                                                       " (got " + std::to_string(query.k) + ")");
    }
    auto loc = locate_point(query.point);
    if (!loc) return loc.error();
    const ChordTree* tree_ptr = nullptr;
    try {
        tree_ptr = &impl_->reverse_tree();
    } catch (const Error& e) {
        return e;
    }
    const auto& tree = *tree_ptr;
    std::vector<Candidate> ranked;
    exact_nearest(
        tree, impl_->rows.size(), query.point, query.k, std::nullopt,
        [&](std::uint32_t row) { return impl_->row_position(row); },
        [](std::uint32_t row) { return row; }, ranked);
    std::vector<ReverseHit> hits;
    hits.reserve(ranked.size());
    for (const auto& c : ranked) {
        ReverseHit h;
        h.postcode = impl_->row_postcode(c.local);
        h.position = impl_->row_position(c.local);
        h.distance_m = c.geodesic.distance_m;
        h.bearing_deg = c.geodesic.bearing_deg;
        h.quality = fmt::kQualityCodes[fmt::PackedRow::quality_index(impl_->rows[c.local])];
        hits.push_back(std::move(h));
    }
    return hits;
}

std::uint32_t Engine::located_count() const { return static_cast<std::uint32_t>(impl_->rows.size()); }

PostcodeRecord Engine::located_postcode(std::uint32_t row) const {
    if (row >= impl_->rows.size()) {
        throw Error(ErrorCode::invalid_parameter, "postcode row " + std::to_string(row) + " is out of range");
    }
    return impl_->unit_record(row, impl_->row_postcode(row));
}

void Engine::nearest_batch(std::span<const NearestQuery> in, std::span<Result<NearestAnswer>> out,
                           unsigned threads) const {
    if (in.size() != out.size()) {
        throw Error(ErrorCode::internal, "nearest_batch: input and output sizes differ");
    }
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    std::atomic<std::size_t> next{0};
    constexpr std::size_t kChunk = 1024;
    auto work = [&] {
        for (;;) {
            const std::size_t begin = next.fetch_add(kChunk);
            if (begin >= in.size()) return;
            const std::size_t end = std::min(in.size(), begin + kChunk);
            for (std::size_t i = begin; i < end; ++i) {
                try {
                    out[i] = nearest(in[i]);
                } catch (const Error& e) {  // nothing escapes a worker thread
                    out[i] = e;
                } catch (const std::exception& e) {
                    out[i] = Error(ErrorCode::internal, e.what());
                }
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
}

std::uint32_t Engine::site_count() const {
    return static_cast<std::uint32_t>(impl_->site_records.size());
}

SiteView Engine::site(std::uint32_t index) const {
    const auto& r = impl_->site_records[index];
    SiteView v;
    v.index = index;
    v.id = impl_->str(r.id);
    v.name = impl_->str(r.name);
    v.street = impl_->str(r.street);
    v.locality = impl_->str(r.locality);
    v.town = impl_->str(r.town);
    v.postcode = impl_->str(r.postcode);
    v.located_by = r.located_by == static_cast<std::uint8_t>(fmt::LocatedBy::directory) ? "directory"
                                                                                      : "postcode";
    v.quality = r.quality;
    v.position = {r.lat_deg, r.lon_deg};
    for (auto i = impl_->site_offer_begin[index]; i < impl_->site_offer_begin[index + 1]; ++i) {
        const auto offer = impl_->site_offer_index[i];
        v.phones.push_back(phone(offer));
        for (const auto& t : impl_->treatment_records) {
            if (offer >= t.first_site && offer < t.first_site + t.site_count) {
                v.treatments.push_back(impl_->str(t.name));
            }
        }
    }
    return v;
}

PhoneView Engine::phone(std::uint32_t offer_index) const {
    const auto& o = impl_->offers[offer_index];
    return {impl_->str(o.phone_display), impl_->str(o.phone_e164), impl_->str(o.phone_uri),
            o.phone_source == static_cast<std::uint8_t>(fmt::PhoneSource::provider) ? "provider"
                                                                                   : "listing"};
}

Result<SiteView> Engine::find_site(std::string_view id) const {
    const auto& recs = impl_->site_records;
    auto it = std::lower_bound(recs.begin(), recs.end(), id,
                               [&](const fmt::SiteRecord& r, std::string_view key) {
                                   return impl_->str(r.id) < key;
                               });
    if (it == recs.end() || impl_->str(it->id) != id) {
        return Error(ErrorCode::unknown_site, "no site " + in_quotes(id) + " in this index");
    }
    return site(static_cast<std::uint32_t>(it - recs.begin()));
}

std::vector<SiteView> Engine::sites() const {
    std::vector<SiteView> out;
    for (std::uint32_t i = 0; i < site_count(); ++i) out.push_back(site(i));
    return out;
}

std::vector<TreatmentInfo> Engine::treatments() const {
    std::vector<TreatmentInfo> out;
    for (const auto& t : impl_->treatments) {
        out.push_back({t.name, static_cast<std::uint32_t>(t.offers.size())});
    }
    return out;
}

IndexInfo Engine::info() const {
    IndexInfo info;
    info.format_version = impl_->header.format_version;
    info.checksum = checksum_hex(impl_->header.payload_checksum);
    info.file_bytes = impl_->header.file_size;
    info.located = impl_->rows.size();
    info.unlocated = impl_->unlocated.size();
    info.postcodes = info.located + info.unlocated;
    info.sectors = impl_->sectors.size();
    info.districts = impl_->districts.size();
    info.sites = impl_->site_records.size();
    info.treatments = treatments();
    metadata::read_provenance(metadata::decode(impl_->metadata), info);
    return info;
}

}  // namespace hloc
