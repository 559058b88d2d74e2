// Python arguments into the contract's requests (engine/contract/include/hloc/contract/
// request.hpp). Only translation happens here: the contract decides what a valid query is, so
// that every mistake gets the message the CLI and the HTTP service give.
//
// A number parameter is taken as any Python object, never converted by pybind11, so that
// k=2.5, k=10**30 or k=True raise InvalidParameter rather than TypeError or OverflowError.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bindings.hpp"
#include "hloc/contract/request.hpp"

namespace hloc::python {

// None -> absent; an int (of any size: through float, as the text "1e30" reads) or a float ->
// its value; NumPy's numbers too. Everything else, bool included, and an int too large for a
// float, raise InvalidParameter "<name> must be a number (got <repr>)".
std::optional<double> number(std::string_view name, py::handle value);

// k, the treatment and the distance limits: what every row of nearest_many shares.
contract::NearestRequest nearest_options(py::handle k, const std::optional<std::string>& treatment,
                                         py::handle max_miles, py::handle max_km);

// lat, lon and k (the contract's "limit", as the CLI's reverse -k) of Index.reverse.
contract::ReverseRequest reverse_request(py::handle lat, py::handle lon, py::handle k);

// The worker threads of a vectorised call: a whole number from 0 (one per core) to
// hloc::kMaxThreads, else InvalidParameter naming the maximum.
unsigned thread_count(py::handle threads);

}  // namespace hloc::python
