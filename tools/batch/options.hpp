// What `batch` and `map` share: the index's treatment to use, side outputs by extension, the
// error exit.
#pragma once

#include <cstdint>
#include <string>

#include "hloc/engine.hpp"

namespace hloc::batch {

// `given`, checked against the index; "" = the index's only treatment. Throws
// Error{unknown_treatment} naming the treatments there are.
std::string pick_treatment(const Engine& engine, const std::string& given);

// "svg" or "png" from a map path's extension; throws Error{invalid_parameter}.
std::string map_format(const std::string& path);

// 1234567 -> "1,234,567".
std::string with_commas(std::uint64_t n);

// Prints the DESIGN.md error object on stderr; returns exit code 2.
int fail(const Error& error);

// Sets up GDAL once per process (driver registration is global state) and the signal handler.
void init_process();

}  // namespace hloc::batch
