// A batch run's summary: rows per status, rows per nearest site, distance percentiles overall
// and per site (miles and km, metres in the JSON too), the share of rows within access bands
// (10, 25, 50 and 100 miles unless told otherwise), the same per country and per local
// authority district (Code-Point's admin district code, named when a code list is given), the
// farthest and slowest rows, the index checksum and the time taken. Memory is fixed
// (histograms; one per country and district seen), whatever the number of rows.
//
// The access shares are of the rows answered (ok or approximate): a row that is invalid, not
// found or not covered has no place to measure from. A row answered with no site inside
// --max-miles/--max-km counts as answered and within no band. Band counts are exact.
//
// Percentiles (nearest rank) come from a logarithmic histogram with bins 0.1% wide, so a
// quoted percentile is within 0.05% of the exact one (and within 1 m below 1 km); the maximum
// is exact.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "district_names.hpp"
#include "hloc/contract/json_writer.hpp"
#include "hloc/engine.hpp"
#include "pipeline.hpp"

namespace hloc::batch {

class DistanceHistogram {
  public:
    DistanceHistogram();
    void add(double distance_m) { add(distance_m, bin_of(distance_m)); }
    // With its bin already known: a row's distance goes into several histograms (all rows, its
    // country, its district, its site), and the bin costs a log.
    void add(double distance_m, std::size_t bin);
    static std::size_t bin_of(double distance_m);
    std::uint64_t count() const { return count_; }
    double max_m() const { return max_m_; }
    // Nearest-rank percentile, p in (0, 100].
    double percentile_m(double p) const;

  private:
    std::vector<std::uint32_t> bins_;
    std::uint64_t count_ = 0;
    double max_m_ = 0;
};

// The rows of one group (all rows, a country, a district) that were answered: the distance to
// their nearest site, and how many lie within each access band.
class AccessStats {
  public:
    explicit AccessStats(std::size_t bands = 0) : within_(bands, 0) {}
    // `bin`: DistanceHistogram::bin_of(row.distance_m).
    void add(const RowStat& row, const std::vector<double>& bands_m, std::size_t bin);
    std::uint64_t rows() const { return rows_; }
    const DistanceHistogram& distance() const { return distance_; }
    const std::vector<std::uint64_t>& within() const { return within_; }

  private:
    std::uint64_t rows_ = 0;
    DistanceHistogram distance_;  // rows with a site only
    std::vector<std::uint64_t> within_;
};

struct SummaryOptions {
    std::vector<double> bands_miles = {10, 25, 50, 100};  // ascending, > 0
    DistrictNames district_names;                         // empty: codes only
    std::string district_names_file;                      // where they came from, for the report
};

// "--bands 5,10,25": ascending distances in miles, each > 0; throws Error{invalid_parameter}.
std::vector<double> parse_bands(const std::string& text);

struct RunInfo {
    std::string input, output, treatment, query_by;
    std::uint32_t k = 3;
    double seconds = 0;
    unsigned threads = 0;
};

class Summary {
  public:
    Summary(const Engine& engine, SummaryOptions options);
    void add(const RowStat& row);  // in input order

    contract::Json to_json(const RunInfo& run) const;
    std::string to_markdown(const RunInfo& run) const;
    // The Markdown as one self-contained HTML page, `map_png` (a PNG file's bytes, of the given
    // size in pixels; empty for none) embedded before the first table. See report_html.hpp.
    std::string to_html(const RunInfo& run, std::string_view map_png, int map_width_px,
                        int map_height_px) const;
    std::string short_text(const RunInfo& run) const;  // the few lines always printed on stderr

    std::uint64_t rows() const { return rows_; }
    std::uint64_t status_count(RowStatus s) const { return status_[static_cast<int>(s)]; }

  private:
    struct Notable {
        std::uint64_t row = 0;
        std::string input;
        double value = 0;  // metres or nanoseconds
        std::int32_t site = -1;
    };
    static void keep_top(std::vector<Notable>& top, Notable n);

    contract::Json access_json(const AccessStats& a) const;
    contract::Json area_json(const AccessStats& a) const;

    const Engine& engine_;
    SummaryOptions options_;
    std::vector<double> bands_m_;
    std::uint64_t rows_ = 0;
    std::array<std::uint64_t, contract::kRowStatusCount> status_{};
    std::uint64_t no_site_ = 0;  // answered, but no site within --max-miles/--max-km
    std::vector<std::uint64_t> per_site_;
    AccessStats all_;
    std::map<std::string, AccessStats> by_country_;   // "" = a point: no country
    std::map<std::string, AccessStats> by_district_;  // "" = no district known
    std::vector<DistanceHistogram> per_site_distance_;
    std::vector<Notable> farthest_, slowest_;
    std::vector<std::pair<std::string, std::uint64_t>> error_codes_;
};

}  // namespace hloc::batch
