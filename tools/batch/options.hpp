// What `batch` and `map` share: side outputs by extension, thread counts, the error exit.
#pragma once

#include <cstdint>
#include <string>

#include "hloc/engine.hpp"

namespace hloc::batch {

// "svg" or "png" from a map path's extension; throws Error{invalid_parameter}.
std::string map_format(const std::string& path);

// 1234567 -> "1,234,567".
std::string with_commas(std::uint64_t n);

// --threads: 0 (one per core) up to kMaxThreads; throws Error{invalid_parameter} beyond.
unsigned checked_threads(long long threads);

// Sets up GDAL once per process (driver registration is global state) and the signal handler.
void init_process();

}  // namespace hloc::batch
