// Shared by the pieces of the `hospital_locator._core` extension module.
//
// Every object handed to Python that points into an index (a Site, a Phone, a Nearest answer)
// holds the EnginePtr, so the mapping outlives the last view of it whatever order Python
// frees things in.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>

#include "hloc/engine.hpp"
#include "json_format.hpp"

namespace hloc::python {

namespace py = pybind11;

using EnginePtr = std::shared_ptr<const Engine>;

// hospital_locator.Index: an open index, immutable, safe to share between threads.
struct Index {
    EnginePtr engine;
    std::string path;
};

// The shared JSON shape (tools/common/json_format) as Python values: objects become dicts in
// the same key order, so to_dict() equals json.loads of the CLI's --format json output.
py::object to_python(const api::Json& value);

// Raises the engine error as hospital_locator.<Subclass>(message) with .code and .status.
void set_python_error(const Error& error);
void register_errors(py::module_& m);

// Throws Error{invalid_parameter} with the CLI's message unless 1 <= k <= kMaxK. Taken as a
// long long so that -1 or 10**12 get the engine's message rather than a conversion TypeError.
std::uint32_t checked_k(long long k);

// Optional max_miles / max_km -> metres, as the CLI converts them; both given is an error.
std::optional<double> max_distance_m(std::optional<double> max_miles, std::optional<double> max_km);

void bind_results(py::module_& m);
void bind_batches(py::module_& m, py::class_<Index, std::shared_ptr<Index>>& index);

}  // namespace hloc::python
