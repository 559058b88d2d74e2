#include "hloc/geodesy.hpp"

#include <array>
#include <cmath>

#include "vincenty.hpp"

namespace hloc {

Geodesic geodesic_inverse(LatLon from, LatLon to) {
    if (from.lat_deg == to.lat_deg && from.lon_deg == to.lon_deg) return {0.0, 0.0};
    // Boost 1.74's karney_inverse returns wrong distances (6.9 km for Chester-Brentwood,
    // 278.4 km by GeographicLib); its Vincenty agrees with GeographicLib to the micrometre, and
    // detail::vincenty_leg is that Vincenty, split so that queries can prepare their ends.
    const auto a = detail::vincenty_end(from), b = detail::vincenty_end(to);
    const auto leg = detail::vincenty_leg(a, b);
    return {leg.distance_m, detail::vincenty_bearing(a, b, leg)};
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
