// Distances against Karney's geodesics (GeographicLib, Debian's libgeographiclib-dev).
#include <GeographicLib/Geodesic.hpp>
#include <bit>
#include <boost/geometry/formulas/vincenty_inverse.hpp>
#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "hloc/geodesy.hpp"
#include "hloc/unit_vector.hpp"
#include "vincenty.hpp"

using hloc::geodesic_inverse;
using hloc::LatLon;

TEST_CASE("Chester to Brentwood matches GeodSolve -i to the millimetre") {
    // GeodSolve -i -p 10 <<< "53.1763575 -2.8952629 51.6233373 0.3128482"
    //   127.079420884971682 129.621650490177529 278422.1050426034
    const auto g = geodesic_inverse({53.1763575, -2.8952629}, {51.6233373, 0.3128482});
    CHECK(g.distance_m == Approx(278422.1050426034).margin(0.001));
    CHECK(g.bearing_deg == Approx(127.079420884971682).margin(1e-6));
}

TEST_CASE("Vincenty (Boost.Geometry) is within 1 mm of Karney for pairs across and around GB") {
    const auto& karney = GeographicLib::Geodesic::WGS84();
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> lat(49.8, 61.0), lon(-8.7, 1.8), far_lat(-60, 75),
        far_lon(-180, 180);
    for (int i = 0; i < 20000; ++i) {
        const LatLon a{lat(rng), lon(rng)};
        const LatLon b =
            i % 4 == 0 ? LatLon{far_lat(rng), far_lon(rng)} : LatLon{lat(rng), lon(rng)};
        double s12 = 0, azi1 = 0, azi2 = 0;
        karney.Inverse(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg, s12, azi1, azi2);
        const auto g = geodesic_inverse(a, b);
        INFO(a.lat_deg << "," << a.lon_deg << " -> " << b.lat_deg << "," << b.lon_deg);
        REQUIRE(g.distance_m == Approx(s12).margin(0.001));
        const double want = azi1 < 0 ? azi1 + 360 : azi1;
        const double diff = std::abs(g.bearing_deg - want);
        REQUIRE(std::min(diff, 360 - diff) < 1e-6);
    }
}

TEST_CASE("the prepared Vincenty is Boost.Geometry's, bit for bit") {
    // engine/src/vincenty.hpp splits Boost's vincenty_inverse so that ends are prepared once;
    // answers may not move by one bit. Pairs: around GB, across the world, a few metres
    // apart, the same point, the same to Boost's tolerance, and across the antimeridian.
    using Boost = boost::geometry::formula::vincenty_inverse<double, true, true>;
    constexpr double rad = std::numbers::pi / 180.0;
    std::mt19937_64 rng(12);
    std::uniform_real_distribution<double> lat(49.8, 61.0), lon(-8.7, 1.8), far_lat(-89, 89),
        far_lon(-180, 180), metres(-1e-4, 1e-4);
    for (int i = 0; i < 400000; ++i) {
        const LatLon a =
            i % 5 == 1 ? LatLon{far_lat(rng), far_lon(rng)} : LatLon{lat(rng), lon(rng)};
        LatLon b{lat(rng), lon(rng)};
        switch (i % 5) {
            case 1:
                b = {far_lat(rng), far_lon(rng)};
                break;
            case 2:
                b = {a.lat_deg + metres(rng), a.lon_deg + metres(rng)};
                break;
            case 3:
                b = i % 10 == 3 ? a : LatLon{a.lat_deg, std::nextafter(a.lon_deg, 0.0)};
                break;
            case 4:
                b = {a.lat_deg, a.lon_deg > 0 ? a.lon_deg - 359.9 : a.lon_deg + 359.9};
                break;
        }
        const auto want = Boost::apply(a.lon_deg * rad, a.lat_deg * rad, b.lon_deg * rad,
                                       b.lat_deg * rad, hloc::detail::wgs84_spheroid());
        const auto from = hloc::detail::vincenty_end(a), to = hloc::detail::vincenty_end(b);
        const auto leg = hloc::detail::vincenty_leg(from, to);
        double bearing = want.azimuth / rad;
        if (bearing < 0) bearing += 360.0;
        if (bearing >= 360.0) bearing -= 360.0;
        INFO(i << ": " << a.lat_deg << "," << a.lon_deg << " -> " << b.lat_deg << "," << b.lon_deg);
        REQUIRE(std::bit_cast<std::uint64_t>(leg.distance_m) ==
                std::bit_cast<std::uint64_t>(want.distance));
        REQUIRE(std::bit_cast<std::uint64_t>(hloc::detail::vincenty_bearing(from, to, leg)) ==
                std::bit_cast<std::uint64_t>(bearing));
    }
}

TEST_CASE("legs measured side by side are the single leg's, bit for bit") {
    // vincenty_legs interleaves the iterations of up to kVincentyLanes legs; the legs' lengths
    // differ, so lanes finish at different steps. From one origin: 0 to 9 ends (more than one
    // group of lanes), around GB, across the world, the origin itself and a few metres off.
    using hloc::detail::VincentyEnd;
    using hloc::detail::VincentyLeg;
    const auto bits = [](double x) { return std::bit_cast<std::uint64_t>(x); };
    std::mt19937_64 rng(21);
    std::uniform_real_distribution<double> lat(49.8, 61.0), lon(-8.7, 1.8), far_lat(-89, 89),
        far_lon(-180, 180), metres(-1e-4, 1e-4);
    for (int i = 0; i < 50000; ++i) {
        const LatLon a{lat(rng), lon(rng)};
        const auto from = hloc::detail::vincenty_end(a);
        std::vector<VincentyEnd> ends;
        for (int j = 0; j < i % 10; ++j) {
            switch ((i + j) % 6) {
                case 0:
                    ends.push_back(hloc::detail::vincenty_end(a));
                    break;
                case 1:
                    ends.push_back(hloc::detail::vincenty_end({far_lat(rng), far_lon(rng)}));
                    break;
                case 2:
                    ends.push_back(hloc::detail::vincenty_end(
                        {a.lat_deg + metres(rng), a.lon_deg + metres(rng)}));
                    break;
                default:
                    ends.push_back(hloc::detail::vincenty_end({lat(rng), lon(rng)}));
            }
        }
        std::vector<VincentyLeg> side_by_side(ends.size());
        hloc::detail::vincenty_legs(
            from, ends.size(), [&](std::size_t j) -> const VincentyEnd& { return ends[j]; },
            side_by_side.data());
        for (std::size_t j = 0; j < ends.size(); ++j) {
            const auto alone = hloc::detail::vincenty_leg(from, ends[j]);
            INFO(i << ", leg " << j << " of " << ends.size());
            REQUIRE(bits(side_by_side[j].distance_m) == bits(alone.distance_m));
            REQUIRE(bits(side_by_side[j].sin_lambda) == bits(alone.sin_lambda));
            REQUIRE(bits(side_by_side[j].cos_lambda) == bits(alone.cos_lambda));
            REQUIRE(side_by_side[j].coincident == alone.coincident);
        }
    }
}

TEST_CASE("a point is 0 m from itself, bearing north") {
    const auto g = geodesic_inverse({51.6233373, 0.3128482}, {51.6233373, 0.3128482});
    CHECK(g.distance_m == 0.0);
    CHECK(g.bearing_deg == 0.0);
}

TEST_CASE("bearings name their compass point") {
    CHECK(hloc::compass_point(0) == "N");
    CHECK(hloc::compass_point(11.24) == "N");
    CHECK(hloc::compass_point(11.26) == "NNE");
    CHECK(hloc::compass_point(127.08) == "SE");
    CHECK(hloc::compass_point(270) == "W");
    CHECK(hloc::compass_point(348.76) == "N");
    CHECK(hloc::compass_point(359.99) == "N");
}

TEST_CASE("quantised unit vectors keep a point within 3 mm") {
    const auto& karney = GeographicLib::Geodesic::WGS84();
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> lat(-89.9, 89.9), lon(-180, 180);
    double worst_m = 0;
    for (int i = 0; i < 100000; ++i) {
        const LatLon p{lat(rng), lon(rng)};
        const LatLon back = hloc::from_unit_vector(hloc::to_unit_vector(p));
        double s12 = 0;
        karney.Inverse(p.lat_deg, p.lon_deg, back.lat_deg, back.lon_deg, s12);
        worst_m = std::max(worst_m, s12);
    }
    CHECK(worst_m < 0.003);
}

TEST_CASE("the candidate bound: geodesic >= min radius of curvature x unit-sphere angle") {
    // nearest() is exact only if this holds for every pair; check it hard, far pairs included.
    const auto& karney = GeographicLib::Geodesic::WGS84();
    std::mt19937_64 rng(13);
    std::uniform_real_distribution<double> lat(-89.9, 89.9), lon(-180, 180);
    for (int i = 0; i < 100000; ++i) {
        const LatLon a{lat(rng), lon(rng)}, b{lat(rng), lon(rng)};
        double s12 = 0;
        karney.Inverse(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg, s12);
        const double d2r = M_PI / 180;
        const double cos_angle = std::sin(a.lat_deg * d2r) * std::sin(b.lat_deg * d2r) +
                                 std::cos(a.lat_deg * d2r) * std::cos(b.lat_deg * d2r) *
                                     std::cos((a.lon_deg - b.lon_deg) * d2r);
        const double angle = std::acos(std::clamp(cos_angle, -1.0, 1.0));
        REQUIRE(s12 >= hloc::kMinRadiusOfCurvatureM * angle * (1 - 1e-12));
    }
}
