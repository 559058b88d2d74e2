// Vincenty's inverse formula on WGS84, in three steps, so that a query pays for each part once:
//
//   vincenty_end(p)         the reduced latitude of an end point (a tan, a sqrt, a division):
//                           once per origin, once per site when the index opens;
//   vincenty_leg(a, b)      the iteration on the auxiliary sphere and the distance, for every
//                           candidate a query measures (vincenty_legs: several at once, their
//                           iterations interleaved);
//   vincenty_bearing(...)   the initial azimuth (an atan2), only for the answers returned.
//
// The arithmetic is Boost.Geometry's vincenty_inverse<double> (Boost 1.74), expression for
// expression, so every distance and bearing is bit-identical to the Boost call the engine made
// before: answers do not move. tests/unit/test_geodesy.cpp checks that bit for bit against
// Boost itself on a million pairs. Equation numbers are Vincenty's (Survey Review, 1975).
#pragma once

#include <algorithm>
#include <array>
#include <boost/geometry/formulas/flattening.hpp>
#include <boost/geometry/srs/spheroid.hpp>
#include <boost/geometry/util/math.hpp>
#include <cmath>
#include <cstddef>
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

// One leg's iteration, stepped from outside so that several legs from one origin can advance
// in lockstep (vincenty_legs): each step is a chain of dependent libm calls (sincos, sqrt, two
// divisions, atan2) that leaves the processor idle while it waits, and independent chains
// placed side by side fill that time. Every expression and its order are those of Boost's
// loop, so a leg's bits do not depend on how it was stepped.
class VincentyIteration {
  public:
    VincentyIteration() = default;
    VincentyIteration(const VincentyEnd& from, const VincentyEnd& to)
        : sin_u1_(from.sin_u), cos_u1_(from.cos_u), sin_u2_(to.sin_u), cos_u2_(to.cos_u) {
        namespace math = boost::geometry::math;
        if (math::equals(from.lat_rad, to.lat_rad) && math::equals(from.lon_rad, to.lon_rad)) {
            return;  // coincident: done, distance and bearing 0
        }
        constexpr double pi = std::numbers::pi;
        big_l_ = to.lon_rad - from.lon_rad;
        lambda_ = big_l_;  // the first guess is the unwrapped difference, as in Boost
        if (big_l_ < -pi) big_l_ += 2.0 * pi;
        if (big_l_ > pi) big_l_ -= 2.0 * pi;
        coincident_ = false;
        done_ = false;
    }

    bool done() const { return done_; }

    // One step is equations (13) to (11), in two halves: the sines and cosines of lambda and
    // what follows from them, then sigma's atan2 and the next lambda. vincenty_legs runs each
    // half over all its legs in turn, so that their libm calls sit side by side (measured: 3 legs
    // in 470 ns side by side, 700 ns one after another). done() once lambda has settled (or after
    // 1000 steps).
    void step() {
        begin_step();
        end_step();
    }
    void begin_step() {
        namespace math = boost::geometry::math;
        previous_lambda_ = lambda_;  // (13)
        sin_lambda_ = std::sin(lambda_);
        cos_lambda_ = std::cos(lambda_);
        const double t1 = cos_u2_ * sin_lambda_;
        const double t2 = cos_u1_ * sin_u2_ - sin_u1_ * cos_u2_ * cos_lambda_;
        sin_sigma_ = std::sqrt(t1 * t1 + t2 * t2);                         // (14)
        cos_sigma_ = sin_u1_ * sin_u2_ + cos_u1_ * cos_u2_ * cos_lambda_;  // (15)
        sin_alpha_ = cos_u1_ * cos_u2_ * sin_lambda_ / sin_sigma_;         // (17)
        cos2_alpha_ = 1.0 - sin_alpha_ * sin_alpha_;
        cos_2sigma_m_ = math::equals(cos2_alpha_, 0.0)
                            ? 0.0
                            : cos_sigma_ - 2.0 * sin_u1_ * sin_u2_ / cos2_alpha_;  // (18)
        cos2_2sigma_m_ = cos_2sigma_m_ * cos_2sigma_m_;
    }
    void end_step() {
        const auto& k = vincenty_constants();
        const double c =
            k.f / 16.0 * cos2_alpha_ * (4.0 + k.f * (4.0 - 3.0 * cos2_alpha_));  // (10)
        sigma_ = std::atan2(sin_sigma_, cos_sigma_);                             // (16)
        lambda_ =
            big_l_ + (1.0 - c) * k.f * sin_alpha_ *
                         (sigma_ + c * sin_sigma_ *
                                       (cos_2sigma_m_ +
                                        c * cos_sigma_ * (-1.0 + 2.0 * cos2_2sigma_m_)));  // (11)
        ++steps_;
        done_ = !(std::abs(previous_lambda_ - lambda_) > 1e-12 &&
                  std::abs(lambda_) < std::numbers::pi && steps_ < 1000);
    }

    // The distance from the last step's values (call once done()).
    VincentyLeg leg() const {
        VincentyLeg leg;
        if (coincident_) return leg;
        leg.coincident = false;
        const auto& k = vincenty_constants();
        const double sqr_u = cos2_alpha_ * k.sqr_ab_min_1;  // above (1)
        const double a =
            1.0 +
            sqr_u / 16384.0 * (4096.0 + sqr_u * (-768.0 + sqr_u * (320.0 - 175.0 * sqr_u)));  // (3)
        const double b =
            sqr_u / 1024.0 * (256.0 + sqr_u * (-128.0 + sqr_u * (74.0 - 47.0 * sqr_u)));  // (4)
        const double cos_sigma = std::cos(sigma_);  // recomputed, as Boost does
        const double sin2_sigma = sin_sigma_ * sin_sigma_;
        const double delta_sigma =
            b * sin_sigma_ *
            (cos_2sigma_m_ + (b / 4.0) * (cos_sigma * (-1.0 + 2.0 * cos2_2sigma_m_) -
                                          (b / 6.0) * cos_2sigma_m_ * (-3.0 + 4.0 * sin2_sigma) *
                                              (-3.0 + 4.0 * cos2_2sigma_m_)));  // (6)
        leg.distance_m = k.radius_b * a * (sigma_ - delta_sigma);               // (19)
        leg.sin_lambda = sin_lambda_;
        leg.cos_lambda = cos_lambda_;
        return leg;
    }

  private:
    double sin_u1_ = 0, cos_u1_ = 1, sin_u2_ = 0, cos_u2_ = 1;
    double big_l_ = 0, lambda_ = 0, previous_lambda_ = 0;
    double sin_lambda_ = 0, cos_lambda_ = 0, sin_sigma_ = 0, cos_sigma_ = 0, sin_alpha_ = 0;
    double cos2_alpha_ = 0;
    double cos_2sigma_m_ = 0, cos2_2sigma_m_ = 0, sigma_ = 0;
    int steps_ = 0;
    bool coincident_ = true;
    bool done_ = true;
};

inline VincentyLeg vincenty_leg(const VincentyEnd& from, const VincentyEnd& to) {
    VincentyIteration it(from, to);
    while (!it.done()) it.step();
    return it.leg();
}

// The legs from `from` to `n` ends (`to(i)` gives the i-th), into out[0..n), each bit-identical
// to vincenty_leg: kVincentyLanes at a time, stepped in lockstep.
inline constexpr std::size_t kVincentyLanes = 4;
template <class EndAt>
void vincenty_legs(const VincentyEnd& from, std::size_t n, EndAt to, VincentyLeg* out) {
    for (std::size_t first = 0; first < n; first += kVincentyLanes) {
        const std::size_t lanes = std::min(kVincentyLanes, n - first);
        std::array<VincentyIteration, kVincentyLanes> it;
        for (std::size_t j = 0; j < lanes; ++j) it[j] = VincentyIteration(from, to(first + j));
        for (bool stepping = true; stepping;) {
            stepping = false;
            std::array<bool, kVincentyLanes> active{};
            for (std::size_t j = 0; j < lanes; ++j) {
                active[j] = !it[j].done();
                if (active[j]) it[j].begin_step();
            }
            for (std::size_t j = 0; j < lanes; ++j) {
                if (!active[j]) continue;
                it[j].end_step();
                stepping = true;
            }
        }
        for (std::size_t j = 0; j < lanes; ++j) out[first + j] = it[j].leg();
    }
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
