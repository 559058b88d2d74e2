// The query engine: opens a .hlx index read-only by mmap and answers lookup, nearest and
// reverse. Links only nanoflann, Boost.Geometry and xxHash: no GDAL, PROJ or libphonenumber.
//
// Thread safety: an Engine is immutable once open; every query is const and may be called
// from many threads at once. Two Engines (say, the old and the new index during a reload)
// coexist; each owns its own mapping.
//
// Exactness: nearest() returns the same top-k, in the same order, as computing the WGS84
// geodesic distance to every site and sorting by (distance, site id). The KD-tree proposes
// candidates by chord length between unit vectors; the bound that makes re-ranking exact is
// stated in engine/src/exact_nearest.hpp (candidate_radius_sq).
//
// Distances: Vincenty's inverse formula (Boost.Geometry), within 0.1 mm of Karney's geodesic
// for all pairs that are not nearly antipodal. Degenerate case: a point within about a degree
// of the antipode of Great Britain (south of New Zealand) may be a few metres off.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "hloc/error.hpp"
#include "hloc/postcode.hpp"
#include "hloc/query.hpp"

namespace hloc {

struct OpenOptions {
    // Check the payload checksum on open: XXH3 over the whole file, ~2 ms when its pages are
    // in memory, ~20 ms from a cold mapping of the GB index. The header, the section table
    // and every record's references are always checked.
    bool verify_checksum = false;
    // Load the postcode KD-tree and grid for reverse() now rather than on the first reverse
    // query (which then pays ~65 ms here; the grid keeps ~36 MB): for long-running services.
    bool preload_reverse = false;
    // Read the whole file into private memory in transparent huge pages instead of mapping
    // it: ~20 ms and 45 MB per process at open, but random lookups then skip a page-table
    // walk per page touched. For long-running services; one-shot queries want the mapping.
    bool resident = false;
};

class Engine {
  public:
    // Throws Error{bad_index} for a file that is missing, truncated, corrupt, of another
    // format version, or not an index; Error{io_error} when it cannot be read.
    static Engine open(const std::filesystem::path& index_file, OpenOptions options = {});

    Engine(Engine&&) noexcept;
    Engine& operator=(Engine&&) noexcept;
    ~Engine();

    // Postcode, sector or outward code -> position, falling back unit -> sector -> district.
    Result<Location> resolve(std::string_view postcode_text) const;
    // A caller's point, checked: finite, in range, not latitude/longitude swapped
    // (invalid_parameter), and inside the area the index covers (not_covered).
    Result<Location> locate_point(LatLon point) const;

    // The treatment a query names: "" picks the index's only one (invalid_parameter when it
    // has several); a name it does not offer is unknown_treatment.
    Result<TreatmentInfo> treatment(std::string_view name) const;

    Result<PostcodeRecord> lookup(std::string_view postcode_text) const;
    // Whether the index stores Code-Point's admin district codes (PostcodeRecord::
    // admin_district); false for a file built before it did.
    bool has_admin_districts() const;

    // Every located postcode, in order (district, then inward code): row in [0, located_count()).
    // For sweeps over all of Great Britain (verification, benchmarks, batch tests).
    std::uint32_t located_count() const;
    PostcodeRecord located_postcode(std::uint32_t row) const;
    Result<NearestAnswer> nearest(const NearestQuery& query) const;
    Result<std::vector<ReverseHit>> reverse(const ReverseQuery& query) const;

    // The same answers as nearest() for each input, spread over `threads` threads
    // (0 = all cores, at most kMaxThreads). out.size() must equal in.size().
    void nearest_batch(std::span<const NearestQuery> in, std::span<Result<NearestAnswer>> out,
                       unsigned threads = 0) const;

    std::uint32_t site_count() const;
    PhoneView phone(std::uint32_t offer_index) const;
    // The offer of `site` under a treatment, as Neighbour::offer_index gives it: what phone()
    // rings. nullopt when the treatment is unknown or the site does not offer it.
    std::optional<std::uint32_t> offer_index(std::string_view treatment, std::uint32_t site) const;
    SiteView site(std::uint32_t index) const;
    Result<SiteView> find_site(std::string_view id) const;
    std::vector<SiteView> sites() const;
    std::vector<TreatmentInfo> treatments() const;
    IndexInfo info() const;

    // Recomputes the payload checksum; throws Error{bad_index} on a mismatch.
    void verify() const;

  private:
    void add_water_note(NearestAnswer& answer) const;
    bool point_in_northern_ireland(LatLon point) const;
    struct Impl;
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace hloc
