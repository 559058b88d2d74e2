// NearestBatch.to_csv: a batch's answers as the batch CSV of `hospital-locator batch`, byte for
// byte (the contract's batch_columns and NearestRow write both), without a Python object or a
// pandas cell per row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "columns.hpp"
#include "hloc/engine.hpp"

namespace hloc::python {

// A NearestBatch's arrays, read-only: rows x k for site and distance_m, rows for the rest.
struct NearestRows {
    std::size_t rows = 0;
    std::uint32_t k = 0;
    const std::int32_t* site = nullptr;            // -1: no site in that slot
    const std::uint32_t* offer_of_site = nullptr;  // by site index: the number its rows print
    const double* distance_m = nullptr;
    const std::uint8_t* status = nullptr;  // 0 answered, else the row's ErrorCode
    const std::uint8_t* match = nullptr;
    const double* lat = nullptr;
    const double* lon = nullptr;
    const std::unordered_map<std::size_t, std::string>* messages = nullptr;  // failed rows
};

// The key columns written first, as the batch tool writes its input's columns.
struct KeyColumns {
    std::vector<std::string> names;
    std::vector<StringColumn> columns;  // each of the batch's length
};

// Writes the header and one line per row to `path`, all or nothing: into a temporary file
// beside it, renamed over `path` once complete (a failure removes it and raises io_error).
// Rows are formatted on `threads` worker threads and written in order. Call without the GIL.
void write_nearest_csv(const Engine& engine, const std::string& path, const KeyColumns& keys,
                       const NearestRows& rows, unsigned threads);

}  // namespace hloc::python
