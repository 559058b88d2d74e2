// The area an index answers for, and the checks of a caller's point against it.
#pragma once

#include "hloc/error.hpp"
#include "hloc/query.hpp"

namespace hloc::detail {

// Latitude/longitude box of Great Britain, Northern Ireland, the Channel Islands and the Isle
// of Man, with a margin (WGS84 degrees). A point outside it is refused as not_covered: the
// nearest site to a point in France or Australia is no answer anyone wants, and distances
// across half the Earth are where Vincenty's formula is least sure (see geodesy.hpp).
inline constexpr double kCoverMinLatDeg = 49.0, kCoverMaxLatDeg = 61.5;
inline constexpr double kCoverMinLonDeg = -9.0, kCoverMaxLonDeg = 2.5;

// A caller's point, checked in this order: finite; latitude in -90..90 and longitude in
// -180..180; not latitude/longitude swapped (swapped, it would fall in the box); in the box.
Result<Location> locate_point(LatLon point);

}  // namespace hloc::detail
