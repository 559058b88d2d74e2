// Geodesy on the WGS84 ellipsoid, shared by the engine, the ingest stage, the shells and the tests.
#pragma once

#include <string_view>

#include "hloc/query.hpp"

namespace hloc {

inline constexpr double kWgs84SemiMajorM = 6378137.0;
inline constexpr double kWgs84Flattening = 1.0 / 298.257223563;
inline constexpr double kMetresPerMile = 1609.344;

// The smallest radius of curvature of the WGS84 ellipsoid, a(1 - e^2): the meridional radius
// at the equator. On any path, ellipsoidal length >= this radius times the length of the same
// path on the unit sphere (latitude read as geodetic), so a geodesic of s metres joins points
// at most s / kMinRadiusOfCurvatureM radians apart on the sphere. nearest() rests on this.
inline constexpr double kMinRadiusOfCurvatureM =
    kWgs84SemiMajorM * (1.0 - (2.0 * kWgs84Flattening - kWgs84Flattening * kWgs84Flattening));

// The largest, a / sqrt(1 - e^2) = a / (1 - f): the radius of curvature at the poles. On any
// path, ellipsoidal length <= this radius times the path's length on the unit sphere; the image
// of the spherical great circle is one such path and the geodesic is no longer, so a geodesic
// of s metres joins points at least s / kMaxRadiusOfCurvatureM radians apart on the sphere.
inline constexpr double kMaxRadiusOfCurvatureM = kWgs84SemiMajorM / (1.0 - kWgs84Flattening);

struct Geodesic {
    double distance_m;   // metres along the WGS84 geodesic
    double bearing_deg;  // initial azimuth at `from`, [0, 360), 0 = north, 90 = east
};

// Vincenty's inverse formula (Boost.Geometry). Accuracy: within 0.1 mm of Karney's geodesic
// except within about a degree of antipodal points, where it may not converge.
Geodesic geodesic_inverse(LatLon from, LatLon to);

// 16-point compass name of a bearing: "N", "NNE", ... "NNW".
std::string_view compass_point(double bearing_deg);

}  // namespace hloc
