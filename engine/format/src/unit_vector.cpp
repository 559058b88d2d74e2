#include "hloc/unit_vector.hpp"

#include <cmath>
#include <numbers>

namespace hloc {

namespace {
constexpr double kDegToRad = std::numbers::pi / 180.0;
}  // namespace

format::UnitVector to_unit_vector(LatLon p) {
    const double lat = p.lat_deg * kDegToRad;
    const double lon = p.lon_deg * kDegToRad;
    const double c = std::cos(lat);
    auto q = [](double v) {
        return static_cast<std::int32_t>(std::lround(v * format::kUnitScale));
    };
    return {q(c * std::cos(lon)), q(c * std::sin(lon)), q(std::sin(lat))};
}

LatLon from_unit_vector(const format::UnitVector& v) {
    const double x = v.x, y = v.y, z = v.z;
    return {std::atan2(z, std::hypot(x, y)) / kDegToRad, std::atan2(y, x) / kDegToRad};
}

std::array<double, 3> exact_unit_vector(LatLon p) {
    const double lat = p.lat_deg * std::numbers::pi / 180.0;
    const double lon = p.lon_deg * std::numbers::pi / 180.0;
    const double c = std::cos(lat);
    return {c * std::cos(lon) * format::kUnitScale, c * std::sin(lon) * format::kUnitScale,
            std::sin(lat) * format::kUnitScale};
}

}  // namespace hloc
