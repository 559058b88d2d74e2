#include "coverage.hpp"

#include <cmath>

#include "text.hpp"

namespace hloc::detail {

namespace {

bool in_box(double lat, double lon) {
    return lat >= kCoverMinLatDeg && lat <= kCoverMaxLatDeg && lon >= kCoverMinLonDeg &&
           lon <= kCoverMaxLonDeg;
}

}  // namespace

Result<Location> locate_point(LatLon point) {
    const double lat = point.lat_deg, lon = point.lon_deg;
    if (!std::isfinite(lat) || !std::isfinite(lon)) {
        return Error(ErrorCode::invalid_parameter, "lat and lon must be finite numbers");
    }
    if (lat < -90 || lat > 90) {
        return Error(ErrorCode::invalid_parameter,
                     "lat " + number_text(lat) + " is out of range (-90 to 90 degrees)");
    }
    if (lon < -180 || lon > 180) {
        return Error(ErrorCode::invalid_parameter,
                     "lon " + number_text(lon) + " is out of range (-180 to 180 degrees)");
    }
    if (!in_box(lat, lon) && in_box(lon, lat)) {
        return Error(ErrorCode::invalid_parameter, "lat " + number_text(lat) + ", lon " +
                                                       number_text(lon) + " looks swapped: lat " +
                                                       number_text(lon) + ", lon " +
                                                       number_text(lat) + " is in Great Britain");
    }
    if (!in_box(lat, lon)) {
        return Error(ErrorCode::not_covered,
                     "lat " + number_text(lat) + ", lon " + number_text(lon) +
                         " is outside the area this index covers (Great Britain and its "
                         "neighbouring islands: lat 49 to 61.5, lon -9 to 2.5)");
    }
    Location loc;
    loc.match = MatchLevel::point;
    loc.position = point;
    return loc;
}

}  // namespace hloc::detail
