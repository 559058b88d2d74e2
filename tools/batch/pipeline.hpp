// The batch pipeline: read rows in chunks, answer each chunk on every core, write the chunk in
// input order on a writer thread while the next one is read and answered. Memory is bounded by
// a few chunks whatever the input size.
//
// Exactly one output row per input row, in input order: a row that cannot be answered gets a
// status and an error code, never a gap. Each row reads: the row's origin through the
// contract -> engine -> the output format's row writer (chosen once per run).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hloc/contract/request.hpp"
#include "hloc/contract/status.hpp"
#include "hloc/engine.hpp"
#include "input.hpp"
#include "output.hpp"

namespace hloc::batch {

using contract::RowStatus;

// What the summary and the map need to know of a row once it is written.
struct RowStat {
    std::uint64_t number = 0;
    RowStatus status = RowStatus::invalid;
    std::optional<ErrorCode> error;
    std::int32_t site = -1;   // nearest site's index, -1 when none
    double distance_m = NAN;  // to the nearest site
    bool has_position = false;
    LatLon position;          // the query's resolved position (WGS84)
    double eastings_m = NAN;  // British National Grid, when asked for and known
    double northings_m = NAN;
    // The query postcode's country and local authority district (Code-Point's admin district
    // code), when asked for: a sector or district centroid has its members' main country and
    // no district; a point has neither.
    std::string country;
    std::string admin_district;
    std::uint64_t elapsed_ns = 0;  // resolve + nearest, on its worker thread (want_timing)
    std::string input;             // the postcode text, for "farthest rows" (cut to 64 bytes)
};

struct BatchOptions {
    contract::NearestOptions nearest;  // k, treatment, distance limit: checked by the contract
    OutputFormat format = OutputFormat::csv;
    unsigned threads = 0;  // 0 = all cores
    std::size_t chunk_rows = 16384;
    bool want_grid = false;    // fill RowStat eastings/northings (for the map)
    bool want_areas = false;   // fill RowStat country and admin_district (for the summary file)
    bool want_timing = false;  // fill RowStat elapsed_ns (the summary file's slowest rows)
    bool progress = false;     // a progress line on stderr
};

// Runs the whole input into `out_path` (already a temporary path, or "-" for standard output).
// `observe` sees every row's RowStat in input order on the writer thread. Returns the row count.
// Throws Error for setup and write failures; row problems become row statuses.
std::uint64_t run_batch(const Engine& engine, InputSource& input, const BatchOptions& options,
                        const std::string& out_path,
                        const std::function<void(const RowStat&)>& observe);

}  // namespace hloc::batch
