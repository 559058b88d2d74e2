// A batch run's summary: rows per status, rows per nearest site, distance percentiles overall
// and per site, the farthest and slowest rows, the index checksum and the time taken. Memory
// is fixed (histograms), whatever the number of rows.
//
// Percentiles (nearest rank) come from a logarithmic histogram with bins 0.1% wide, so a
// quoted percentile is within 0.05% of the exact one (and within 1 m below 1 km); the maximum
// is exact.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hloc/contract/json_writer.hpp"
#include "hloc/engine.hpp"
#include "pipeline.hpp"

namespace hloc::batch {

class DistanceHistogram {
  public:
    DistanceHistogram();
    void add(double distance_m);
    std::uint64_t count() const { return count_; }
    double max_m() const { return max_m_; }
    // Nearest-rank percentile, p in (0, 100].
    double percentile_m(double p) const;

  private:
    std::vector<std::uint32_t> bins_;
    std::uint64_t count_ = 0;
    double max_m_ = 0;
};

struct RunInfo {
    std::string input, output, treatment, query_by;
    std::uint32_t k = 3;
    double seconds = 0;
    unsigned threads = 0;
};

class Summary {
  public:
    explicit Summary(const Engine& engine);
    void add(const RowStat& row);  // in input order

    contract::Json to_json(const RunInfo& run) const;
    std::string to_markdown(const RunInfo& run) const;
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

    const Engine& engine_;
    std::uint64_t rows_ = 0;
    std::array<std::uint64_t, contract::kRowStatusCount> status_{};
    std::uint64_t no_site_ = 0;  // answered, but no site within --max-miles/--max-km
    std::vector<std::uint64_t> per_site_;
    DistanceHistogram overall_;
    std::vector<DistanceHistogram> per_site_distance_;
    std::vector<Notable> farthest_, slowest_;
    std::vector<std::pair<std::string, std::uint64_t>> error_codes_;
};

}  // namespace hloc::batch
