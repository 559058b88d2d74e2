// Vincenty's inverse formula on WGS84, in three steps, so that a query pays for each part once:
//
//   vincenty_end(p)         the reduced latitude of an end point (a tan, a sqrt, a division):
//                           once per origin, once per site when the index opens;
//   vincenty_leg(a, b)      the iteration on the auxiliary sphere and the distance, for every
//                           candidate a query measures;
//   vincenty_bearing(...)   the initial azimuth (an atan2), only for the answers returned.
//
// The arithmetic is Boost.Geometry's vincenty_inverse<double> (Boost 1.74), expression for
// expression, so every distance and bearing is bit-identical to the Boost call the engine made
// before: answers do not move. tests/unit/test_geodesy.cpp checks that bit for bit against
// Boost itself on a million pairs. Equation numbers are Vincenty's (Survey Review, 1975).
#pragma once

#include <boost/geometry/formulas/flattening.hpp>
#include <boost/geometry/srs/spheroid.hpp>
#include <boost/geometry/util/math.hpp>
#include <cmath>
#include <numbers>

#include "hloc/geodesy.hpp"

namespace hloc::detail {

inline constexpr double kDegToRad = std::numbers::pi / 180.0;

// The ellipsoid as Boost describes it (b = a (1 - f)); f is then recomputed from a and b, as
// Boost does, which is not bit-identical to kWgs84Flattening.
inline const boost::geometry::srs::spheroid<double>& wgs84_spheroid() {
    static const boost::geometry::srs::spheroid<double> spheroid(
        kWgs84SemiMajorM, kWgs84SemiMajorM * (1.0 - kWgs84Flattening));
    return spheroid;
}

struct VincentyConstants {
    double radius_b;
    double f;
    double one_min_f;
    double sqr_ab_min_1;  // (a / b)^2 - 1
};
inline const VincentyConstants& vincenty_constants() {
    static const VincentyConstants c = [] {
        const auto& s = wgs84_spheroid();
        const double a = boost::geometry::get_radius<0>(s);
        const double b = boost::geometry::get_radius<2>(s);
        const double f = boost::geometry::formula::flattening<double>(s);
        return VincentyConstants{b, f, 1.0 - f, (a / b) * (a / b) - 1.0};
    }();
    return c;
}

// An end point: radians, and its reduced latitude U (tan U = (1 - f) tan phi) as sin and cos.
struct VincentyEnd {
    double lon_rad = 0;
    double lat_rad = 0;
    double sin_u = 0;
    double cos_u = 1;
};

inline VincentyEnd vincenty_end(LatLon p) {
    VincentyEnd e;
    e.lon_rad = p.lon_deg * kDegToRad;
    e.lat_rad = p.lat_deg * kDegToRad;
    const double tan_u = vincenty_constants().one_min_f * std::tan(e.lat_rad);  // above (1)
    const double den = std::sqrt(1.0 + tan_u * tan_u);
    e.cos_u = 1.0 / den;
    e.sin_u = tan_u * e.cos_u;
    return e;
}

// What the bearing needs of the iteration: lambda's final sine and cosine.
struct VincentyLeg {
    double distance_m = 0;
    double sin_lambda = 0;
    double cos_lambda = 0;
    bool coincident = true;  // the same point (to Boost's tolerance): distance and bearing 0
};

inline VincentyLeg vincenty_leg(const VincentyEnd& from, const VincentyEnd& to) {
    namespace math = boost::geometry::math;
    VincentyLeg leg;
    if (math::equals(from.lat_rad, to.lat_rad) && math::equals(from.lon_rad, to.lon_rad)) {
        return leg;
    }
    leg.coincident = false;
    const auto& k = vincenty_constants();
    constexpr double pi = std::numbers::pi;
    double big_l = to.lon_rad - from.lon_rad;
    double lambda = big_l;  // the first guess is the unwrapped difference, as in Boost
    if (big_l < -pi) big_l += 2.0 * pi;
    if (big_l > pi) big_l -= 2.0 * pi;

    const double sin_u1 = from.sin_u, cos_u1 = from.cos_u, sin_u2 = to.sin_u, cos_u2 = to.cos_u;
    double previous_lambda, sin_lambda, cos_lambda, sin_sigma, sin_alpha, cos2_alpha;
    double cos_2sigma_m, cos2_2sigma_m, sigma;
    int steps = 0;
    do {
        previous_lambda = lambda;  // (13)
        sin_lambda = std::sin(lambda);
        cos_lambda = std::cos(lambda);
        const double t1 = cos_u2 * sin_lambda;
        const double t2 = cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lambda;
        sin_sigma = std::sqrt(t1 * t1 + t2 * t2);                                 // (14)
        const double cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lambda;  // (15)
        sin_alpha = cos_u1 * cos_u2 * sin_lambda / sin_sigma;                     // (17)
        cos2_alpha = 1.0 - sin_alpha * sin_alpha;
        cos_2sigma_m = math::equals(cos2_alpha, 0.0)
                           ? 0.0
                           : cos_sigma - 2.0 * sin_u1 * sin_u2 / cos2_alpha;  // (18)
        cos2_2sigma_m = cos_2sigma_m * cos_2sigma_m;
        const double c = k.f / 16.0 * cos2_alpha * (4.0 + k.f * (4.0 - 3.0 * cos2_alpha));  // (10)
        sigma = std::atan2(sin_sigma, cos_sigma);                                           // (16)
        lambda = big_l + (1.0 - c) * k.f * sin_alpha *
                             (sigma + c * sin_sigma *
                                          (cos_2sigma_m +
                                           c * cos_sigma * (-1.0 + 2.0 * cos2_2sigma_m)));  // (11)
        ++steps;
    } while (std::abs(previous_lambda - lambda) > 1e-12 && std::abs(lambda) < pi && steps < 1000);

    const double sqr_u = cos2_alpha * k.sqr_ab_min_1;  // above (1)
    const double a =
        1.0 +
        sqr_u / 16384.0 * (4096.0 + sqr_u * (-768.0 + sqr_u * (320.0 - 175.0 * sqr_u)));  // (3)
    const double b =
        sqr_u / 1024.0 * (256.0 + sqr_u * (-128.0 + sqr_u * (74.0 - 47.0 * sqr_u)));  // (4)
    const double cos_sigma = std::cos(sigma);
    const double sin2_sigma = sin_sigma * sin_sigma;
    const double delta_sigma =
        b * sin_sigma *
        (cos_2sigma_m + (b / 4.0) * (cos_sigma * (-1.0 + 2.0 * cos2_2sigma_m) -
                                     (b / 6.0) * cos_2sigma_m * (-3.0 + 4.0 * sin2_sigma) *
                                         (-3.0 + 4.0 * cos2_2sigma_m)));  // (6)
    leg.distance_m = k.radius_b * a * (sigma - delta_sigma);              // (19)
    leg.sin_lambda = sin_lambda;
    leg.cos_lambda = cos_lambda;
    return leg;
}

// The initial azimuth at `from`, in degrees [0, 360), 0 = north.
inline double vincenty_bearing(const VincentyEnd& from, const VincentyEnd& to,
                               const VincentyLeg& leg) {
    if (leg.coincident) return 0.0;
    const double azimuth =
        std::atan2(to.cos_u * leg.sin_lambda,
                   from.cos_u * to.sin_u - from.sin_u * to.cos_u * leg.cos_lambda);  // (20)
    double bearing = azimuth / kDegToRad;
    if (bearing < 0) bearing += 360.0;
    if (bearing >= 360.0) bearing -= 360.0;
    return bearing;
}

}  // namespace hloc::detail
