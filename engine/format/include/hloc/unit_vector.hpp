// Geodetic latitude/longitude <-> the index's quantised unit vectors (format::UnitVector).
// Shared by the ingest stage, which writes them, and the engine, which searches them.
//
// Accuracy: a quantised vector lies within 0.87 units (about 2.6 mm on the ground) of the
// exact unit vector; a round trip moves a point by at most that.
#pragma once

#include <array>

#include "hloc/index_format.hpp"
#include "hloc/query.hpp"

namespace hloc {

format::UnitVector to_unit_vector(LatLon p);
LatLon from_unit_vector(const format::UnitVector& v);

// The exact (unquantised) unit vector in UnitVector units: a query point is never rounded.
std::array<double, 3> exact_unit_vector(LatLon p);

}  // namespace hloc
