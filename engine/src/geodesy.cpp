#include "hloc/geodesy.hpp"

#include <array>
#include <boost/geometry/formulas/vincenty_inverse.hpp>
#include <boost/geometry/srs/spheroid.hpp>
#include <cmath>
#include <numbers>

namespace hloc {
namespace {

constexpr double kDegToRad = std::numbers::pi / 180.0;

const boost::geometry::srs::spheroid<double>& wgs84() {
    // b = a (1 - f)
    static const boost::geometry::srs::spheroid<double> spheroid(
        kWgs84SemiMajorM, kWgs84SemiMajorM * (1.0 - kWgs84Flattening));
    return spheroid;
}

}  // namespace

Geodesic geodesic_inverse(LatLon from, LatLon to) {
    if (from.lat_deg == to.lat_deg && from.lon_deg == to.lon_deg) return {0.0, 0.0};
    // Boost 1.74's karney_inverse returns wrong distances (6.9 km for Chester-Brentwood,
    // 278.4 km by GeographicLib); its Vincenty agrees with GeographicLib to the micrometre.
    using Vincenty = boost::geometry::formula::vincenty_inverse<double, true, true>;
    const auto r = Vincenty::apply(from.lon_deg * kDegToRad, from.lat_deg * kDegToRad,
                                   to.lon_deg * kDegToRad, to.lat_deg * kDegToRad, wgs84());
    double bearing = r.azimuth / kDegToRad;
    if (bearing < 0) bearing += 360.0;
    if (bearing >= 360.0) bearing -= 360.0;
    return {r.distance, bearing};
}

std::string_view compass_point(double bearing_deg) {
    static constexpr std::array<std::string_view, 16> kPoints = {
        "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
        "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"};
    double b = std::fmod(bearing_deg, 360.0);
    if (b < 0) b += 360.0;
    const auto sector = static_cast<int>(std::floor(b / 22.5 + 0.5)) % 16;
    return kPoints[static_cast<std::size_t>(sector)];
}

}  // namespace hloc
