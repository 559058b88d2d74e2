// The Engine: a thin layer over the pieces of a mapped index. The index reader checks the
// file; the postcode table resolves postcodes; the site table holds the treatments' trees,
// sites and phones; exact_nearest ranks; coverage checks a caller's point.
#include "hloc/engine.hpp"

#include <algorithm>
#include <mutex>
#include <optional>

#include "coverage.hpp"
#include "exact_nearest.hpp"
#include "hloc/checksum.hpp"
#include "hloc/metadata.hpp"
#include "hloc/parallel.hpp"
#include "index_reader.hpp"
#include "point_grid.hpp"
#include "postcode_table.hpp"
#include "site_table.hpp"

namespace hloc {

namespace {

// The postcode source the index records ("ONSPD"), or Code-Point Open, the only one before
// the key existed.
std::string postcode_source(std::string_view metadata_text) {
    for (const auto& [key, value] : metadata::decode(metadata_text)) {
        if (key == metadata::kPostcodeSource) return value;
    }
    return "Code-Point Open";
}

// The postcode grid's cell side (PointGrid): of 300, 400, 600 and 1,200 m, 600 m measured
// best for reverse near postcodes and over GB's box, and its cell starts take 8 MB (31 MB at
// 300 m). 2026-12-08, a driver over the engine library, 100,000 points each.
constexpr double kPostcodeCellM = 600.0;

bool in_northern_ireland(std::string_view postcode) {
    const auto space = postcode.find(' ');
    return postcode_area(postcode.substr(0, space)) == kNorthernIrelandArea;
}

}  // namespace

struct Engine::Impl {
    Impl(const std::filesystem::path& path, bool resident)
        : index(path, resident), postcodes(index, postcode_source(index.metadata)), sites(index) {
        postcode_cloud.points = index.vectors;
        if (postcodes.has_northern_ireland()) {
            for (std::uint32_t i = 0; i < sites.site_count(); ++i)
                site_in_northern_ireland.push_back(in_northern_ireland(sites.site(i).postcode));
        }
    }

    // The postcode tree and grid are loaded on the first reverse query (or at open, when
    // asked): a process that only answers nearest never pays for them. Loading the tree copies
    // ~7 MB of point order and rebuilds ~145,000 nodes (~15 ms here); the grid sorts the
    // points into ~2 million cells (~50 ms, ~36 MB: the points in cell order, their rows and
    // the cells' starts).
    const ChordTree& reverse_tree() const {
        std::call_once(postcode_tree_once, [&] {
            try {
                postcode_tree =
                    load_chord_tree(postcode_cloud, index.postcode_tree_bytes, "postcodes");
                postcode_grid =
                    std::make_unique<detail::PointGrid>(postcode_cloud.points, kPostcodeCellM);
            } catch (const Error& e) {
                postcode_tree_error = e;
            }
        });
        if (postcode_tree_error) throw *postcode_tree_error;
        return *postcode_tree;
    }

    detail::IndexReader index;
    detail::PostcodeTable postcodes;
    detail::SiteTable sites;
    UnitVectorCloud postcode_cloud;
    // By site index, for the across-the-water note; empty for an index without Northern Ireland.
    std::vector<bool> site_in_northern_ireland;
    mutable std::once_flag postcode_tree_once;
    mutable std::unique_ptr<ChordTree> postcode_tree;
    mutable std::unique_ptr<detail::PointGrid> postcode_grid;  // loaded with the tree
    mutable std::optional<Error> postcode_tree_error;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

Engine Engine::open(const std::filesystem::path& index_file, OpenOptions options) {
    Engine engine(std::make_unique<Impl>(index_file, options.resident));
    if (options.verify_checksum) engine.verify();
    if (options.preload_reverse) (void)engine.impl_->reverse_tree();  // throws bad_index if damaged
    return engine;
}

void Engine::verify() const { impl_->index.verify_payload(); }

Result<Location> Engine::resolve(std::string_view postcode_text) const {
    auto found = impl_->postcodes.find(postcode_text, true);
    if (!found) return found.error();
    Location loc;
    loc.input = std::string(postcode_text);
    loc.postcode = std::move(found->postcode);
    loc.match = found->match;
    loc.position = found->position;
    loc.note = std::move(found->note);
    return loc;
}

Result<Location> Engine::locate_point(LatLon point) const { return detail::locate_point(point); }

Result<PostcodeRecord> Engine::lookup(std::string_view postcode_text) const {
    return impl_->postcodes.find(postcode_text, false);
}

Result<TreatmentInfo> Engine::treatment(std::string_view name) const {
    auto t = impl_->sites.treatment(name);
    if (!t) return t.error();
    return TreatmentInfo{(*t)->name, static_cast<std::uint32_t>((*t)->offers.size())};
}

Result<NearestAnswer> Engine::nearest(const NearestQuery& query) const {
    // Guards for callers that skip the contract: every shell has checked these already.
    if (auto e = check_count("k", query.k)) return *e;
    if (query.max_distance_m) {
        if (auto e =
                check_distance_limit("the maximum distance in metres", *query.max_distance_m)) {
            return *e;
        }
    }
    const auto& pos = query.origin.position;
    if (!std::isfinite(pos.lat_deg) || !std::isfinite(pos.lon_deg) || std::abs(pos.lat_deg) > 90 ||
        std::abs(pos.lon_deg) > 180) {
        return Error(ErrorCode::invalid_parameter,
                     "the query origin is not a valid latitude/longitude");
    }
    auto t = impl_->sites.treatment(query.treatment);
    if (!t) return t.error();
    const auto& tr = **t;

    NearestAnswer answer;
    answer.origin = query.origin;
    answer.treatment = std::string(tr.name);
    auto& ranked = detail::nearest_scratch().ranked;
    detail::exact_nearest(
        *tr.tree, tr.offers.size(), pos, query.k, query.max_distance_m,
        [&](std::uint32_t local) -> const detail::VincentyEnd& {
            return impl_->sites.site_end(tr.offers[local].site);
        },
        [&](std::uint32_t local) { return tr.offers[local].site; }, ranked, query.bearings);
    answer.results.reserve(ranked.size());
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        answer.results.push_back({static_cast<std::uint32_t>(i + 1),
                                  tr.offers[ranked[i].local].site, tr.first_offer + ranked[i].local,
                                  ranked[i].geodesic.distance_m, ranked[i].geodesic.bearing_deg});
    }
    add_water_note(answer);
    return answer;
}

// A point is in Northern Ireland when its nearest postcode is. Only points in a box around
// Northern Ireland ask (it also holds the Mull of Kintyre and the Rhins of Galloway, whose
// nearest postcodes are Scottish).
bool Engine::point_in_northern_ireland(LatLon point) const {
    if (point.lat_deg < 53.9 || point.lat_deg > 55.45 || point.lon_deg < -8.3 ||
        point.lon_deg > -5.3) {
        return false;
    }
    const auto nearest = reverse({point, 1});
    return nearest && !nearest->empty() && in_northern_ireland(nearest->front().postcode);
}

// From Northern Ireland, a site in Great Britain is across the North Channel or the Irish Sea:
// the answer says that its distance is a straight line over water, not a journey.
void Engine::add_water_note(NearestAnswer& answer) const {
    const auto& origin = answer.origin;
    if (!impl_->postcodes.has_northern_ireland()) return;
    if (origin.match == MatchLevel::point ? !point_in_northern_ireland(origin.position)
                                          : !in_northern_ireland(origin.postcode)) {
        return;
    }
    const bool across = std::any_of(answer.results.begin(), answer.results.end(), [&](auto& n) {
        return !impl_->site_in_northern_ireland[n.site_index];
    });
    if (!across) return;
    auto& note = answer.origin.note;
    note += note.empty() ? "" : "; ";
    note +=
        "sites in Great Britain are across the sea from Northern Ireland: their distances "
        "are straight lines across the water, not travel distances";
}

Result<std::vector<ReverseHit>> Engine::reverse(const ReverseQuery& query) const {
    if (auto e = check_count("limit", query.k)) return *e;
    auto loc = locate_point(query.point);
    if (!loc) return loc.error();
    const ChordTree* tree = nullptr;
    try {
        tree = &impl_->reverse_tree();
    } catch (const Error& e) {
        return e;
    }
    const auto& postcodes = impl_->postcodes;
    auto& ranked = detail::nearest_scratch().ranked;
    detail::exact_nearest(
        *tree, postcodes.located_count(), query.point, query.k, std::nullopt,
        [&](std::uint32_t row) { return detail::vincenty_end(postcodes.row_position(row)); },
        [](std::uint32_t row) { return row; }, ranked, true, impl_->postcode_grid.get());
    std::vector<ReverseHit> hits;
    hits.reserve(ranked.size());
    for (const auto& c : ranked) {
        ReverseHit h;
        h.postcode = postcodes.row_postcode(c.local);
        h.position = postcodes.row_position(c.local);
        h.distance_m = c.geodesic.distance_m;
        h.bearing_deg = c.geodesic.bearing_deg;
        h.quality = postcodes.row_quality(c.local);
        hits.push_back(std::move(h));
    }
    return hits;
}

std::uint32_t Engine::located_count() const { return impl_->postcodes.located_count(); }

PostcodeRecord Engine::located_postcode(std::uint32_t row) const {
    if (row >= located_count()) {
        throw Error(ErrorCode::invalid_parameter,
                    "postcode row " + std::to_string(row) + " is out of range");
    }
    return impl_->postcodes.unit_record(row, impl_->postcodes.row_postcode(row));
}

void Engine::nearest_batch(std::span<const NearestQuery> in, std::span<Result<NearestAnswer>> out,
                           unsigned threads) const {
    if (in.size() != out.size()) {
        throw Error(ErrorCode::internal, "nearest_batch: input and output sizes differ");
    }
    parallel_for(in.size(), threads, 1024, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            try {
                out[i] = nearest(in[i]);
            } catch (const Error& e) {  // nothing escapes a worker thread
                out[i] = e;
            } catch (const std::exception& e) {
                out[i] = Error(ErrorCode::internal, e.what());
            }
        }
    });
}

bool Engine::has_admin_districts() const { return !impl_->index.row_admin_districts.empty(); }
std::uint32_t Engine::site_count() const { return impl_->sites.site_count(); }
SiteView Engine::site(std::uint32_t index) const { return impl_->sites.site(index); }
PhoneView Engine::phone(std::uint32_t offer_index) const { return impl_->sites.phone(offer_index); }

std::optional<std::uint32_t> Engine::offer_index(std::string_view treatment,
                                                 std::uint32_t site) const {
    const auto t = impl_->sites.treatment(treatment);
    if (!t) return std::nullopt;
    const auto& offers = (*t)->offers;  // ascending site index
    const auto it = std::lower_bound(offers.begin(), offers.end(), site,
                                     [](const auto& o, std::uint32_t s) { return o.site < s; });
    if (it == offers.end() || it->site != site) return std::nullopt;
    return (*t)->first_offer + static_cast<std::uint32_t>(it - offers.begin());
}
Result<SiteView> Engine::find_site(std::string_view id) const { return impl_->sites.find_site(id); }

std::vector<SiteView> Engine::sites() const {
    std::vector<SiteView> out;
    for (std::uint32_t i = 0; i < site_count(); ++i) out.push_back(site(i));
    return out;
}

std::vector<TreatmentInfo> Engine::treatments() const {
    std::vector<TreatmentInfo> out;
    for (const auto& t : impl_->sites.treatments()) {
        out.push_back({t.name, static_cast<std::uint32_t>(t.offers.size())});
    }
    return out;
}

IndexInfo Engine::info() const {
    const auto& index = impl_->index;
    IndexInfo info;
    info.format_version = index.header.format_version;
    info.checksum = checksum_hex(index.header.payload_checksum);
    info.file_bytes = index.header.file_size;
    info.located = index.rows.size();
    info.unlocated = index.unlocated.size();
    info.terminated = index.terminated.size();
    info.postcodes = info.located + info.unlocated + info.terminated;
    info.sectors = index.sectors.size();
    info.districts = index.districts.size();
    info.sites = index.site_records.size();
    info.treatments = treatments();
    metadata::read_provenance(metadata::decode(index.metadata), info);
    return info;
}

}  // namespace hloc
