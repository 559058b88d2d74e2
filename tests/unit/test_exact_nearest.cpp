// The exact k-nearest search (engine/src/exact_nearest.hpp, internal) against brute force over
// synthetic points: no GB data. After nanoflann's tests/test_kdtree_basic.cpp.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>

#include "exact_nearest.hpp"
#include "hloc/geodesy.hpp"
#include "hloc/unit_vector.hpp"

namespace {

using hloc::LatLon;

struct Points {
    std::vector<LatLon> positions;  // as the index stores them: quantised, read back
    std::vector<hloc::format::UnitVector> vectors;
};

// Clustered points (many near-ties) in a box around Great Britain, plus exact duplicates.
Points make_points(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> lat(49.9, 60.9), lon(-8.6, 1.7), jitter(-0.01, 0.01);
    Points p;
    for (std::size_t i = 0; i < n; ++i) {
        LatLon at{lat(rng), lon(rng)};
        if (i % 7 == 3 && !p.positions.empty()) {  // near an earlier point
            at = p.positions[rng() % p.positions.size()];
            at.lat_deg += jitter(rng);
            at.lon_deg += jitter(rng);
        }
        p.vectors.push_back(hloc::to_unit_vector(at));
        p.positions.push_back(hloc::from_unit_vector(p.vectors.back()));
        if (i % 11 == 5) {  // an exact duplicate: a tie broken by the key
            p.vectors.push_back(p.vectors.back());
            p.positions.push_back(p.positions.back());
        }
    }
    return p;
}

// Every point's geodesic distance, sorted by (distance, index): the definition of the answer.
std::vector<std::uint32_t> brute_force(const Points& p, LatLon origin, std::uint32_t k,
                                       std::optional<double> max_m) {
    std::vector<std::pair<double, std::uint32_t>> all;
    for (std::uint32_t i = 0; i < p.positions.size(); ++i) {
        const double d = hloc::geodesic_inverse(origin, p.positions[i]).distance_m;
        if (!max_m || d <= *max_m) all.emplace_back(d, i);
    }
    std::sort(all.begin(), all.end());
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < all.size() && i < k; ++i) out.push_back(all[i].second);
    return out;
}

std::vector<std::uint32_t> searched(const Points& p, const hloc::ChordTree& tree, LatLon origin,
                                    std::uint32_t k, std::optional<double> max_m,
                                    const hloc::detail::PointGrid* grid = nullptr) {
    std::vector<hloc::detail::Candidate> ranked;
    hloc::detail::exact_nearest(
        tree, p.positions.size(), origin, k, max_m,
        [&](std::uint32_t i) { return hloc::detail::vincenty_end(p.positions[i]); },
        [](std::uint32_t i) { return i; }, ranked, true, grid);
    std::vector<std::uint32_t> out;
    for (const auto& c : ranked) out.push_back(c.local);
    return out;
}

}  // namespace

TEST_CASE("exact_nearest gives brute force's top k, in order, ties by key") {
    std::mt19937_64 rng(20261127);
    std::uniform_real_distribution<double> lat(49.0, 61.5), lon(-9.0, 2.5);
    for (std::size_t n : {1u, 2u, 10u, 32u, 33u, 300u, 3000u}) {
        const auto p = make_points(n, n);
        const hloc::UnitVectorCloud cloud{p.vectors};
        const auto tree = hloc::build_chord_tree(cloud, 8);
        for (int q = 0; q < 200; ++q) {
            // Half the queries stand on a point (distance 0, and its duplicates tie).
            const LatLon origin =
                q % 2 ? LatLon{lat(rng), lon(rng)} : p.positions[rng() % p.positions.size()];
            for (std::uint32_t k : {1u, 3u, 10u, 1000u}) {
                INFO("points " << n << ", query " << q << ", k " << k);
                CHECK(searched(p, *tree, origin, k, std::nullopt) ==
                      brute_force(p, origin, k, std::nullopt));
            }
            const double max_m = 50'000.0 * (q % 5);
            CHECK(searched(p, *tree, origin, 5, max_m) == brute_force(p, origin, 5, max_m));
        }
    }
}

TEST_CASE("with a grid of cells, exact_nearest still gives brute force's top k") {
    // Points over GB and a dense cluster around London (a thousand in 2 km), queries on
    // points, near them, anywhere in GB's box, just off the grid and on the far side of the
    // Earth; cells from 200 m (rings mostly empty: the tree answers) to 50 km.
    auto p = make_points(2000, 8);
    std::mt19937_64 rng(20261208);
    std::uniform_real_distribution<double> near(-0.01, 0.01), lat(49.0, 61.5), lon(-9.0, 2.5);
    for (int i = 0; i < 1000; ++i) {
        p.vectors.push_back(hloc::to_unit_vector({51.5 + near(rng), -0.12 + near(rng)}));
        p.positions.push_back(hloc::from_unit_vector(p.vectors.back()));
    }
    const hloc::UnitVectorCloud cloud{p.vectors};
    const auto tree = hloc::build_chord_tree(cloud, 8);
    for (const double cell_m : {200.0, 2'000.0, 50'000.0}) {
        const hloc::detail::PointGrid grid(p.vectors, cell_m);
        int answered = 0, queries = 0;
        std::vector<std::pair<std::uint32_t, double>> hits;
        std::vector<std::uint32_t> index;
        std::vector<double> chords;
        for (int q = 0; q < 150; ++q) {
            LatLon origin = p.positions[rng() % p.positions.size()];
            if (q % 3 == 1) origin = {origin.lat_deg + near(rng), origin.lon_deg + near(rng)};
            if (q % 3 == 2) origin = {lat(rng), lon(rng)};
            if (q == 5) origin = {-40.0, 170.0};
            if (q == 8) origin = {61.5, 3.0};
            for (std::uint32_t k : {1u, 3u, 10u}) {
                INFO("cell " << cell_m << " m, query " << q << ", k " << k);
                CHECK(searched(p, *tree, origin, k, std::nullopt, &grid) ==
                      brute_force(p, origin, k, std::nullopt));
                ++queries;
                answered += grid.collect(hloc::exact_unit_vector(origin), k, hits, index, chords);
            }
            const double max_m = 20'000.0 * (q % 4);
            CHECK(searched(p, *tree, origin, 5, max_m, &grid) == brute_force(p, origin, 5, max_m));
        }
        // The grid itself answered a good share of them (the rest went to the tree).
        INFO("cell " << cell_m << " m: the grid answered " << answered << " of " << queries);
        CHECK(answered > queries / 5);
        if (cell_m == 50'000.0) CHECK(answered > queries / 2);
    }
}

TEST_CASE("without bearings the same points and distances come back, bearings NaN") {
    const auto p = make_points(300, 300);
    const hloc::UnitVectorCloud cloud{p.vectors};
    const auto tree = hloc::build_chord_tree(cloud, 8);
    const auto end = [&](std::uint32_t i) { return hloc::detail::vincenty_end(p.positions[i]); };
    const auto key = [](std::uint32_t i) { return i; };
    std::vector<hloc::detail::Candidate> with, without;
    for (const LatLon origin : {LatLon{53.2, -2.9}, LatLon{51.5, -0.1}, p.positions[7]}) {
        hloc::detail::exact_nearest(*tree, 300, origin, 5, std::nullopt, end, key, with);
        hloc::detail::exact_nearest(*tree, 300, origin, 5, std::nullopt, end, key, without, false);
        REQUIRE(with.size() == 5);
        REQUIRE(without.size() == 5);
        for (std::size_t i = 0; i < 5; ++i) {
            CHECK(without[i].local == with[i].local);
            CHECK(without[i].geodesic.distance_m == with[i].geodesic.distance_m);
            CHECK(std::isnan(without[i].geodesic.bearing_deg));
            CHECK(with[i].geodesic.bearing_deg ==
                  hloc::geodesic_inverse(origin, p.positions[with[i].local]).bearing_deg);
        }
    }
}

TEST_CASE("exact_nearest of an empty cloud or k = 0 is empty") {
    Points none;
    const hloc::UnitVectorCloud empty{none.vectors};
    const auto tree = hloc::build_chord_tree(empty, 8);
    CHECK(searched(none, *tree, {53.0, -2.0}, 3, std::nullopt).empty());
    const auto p = make_points(10, 1);
    const hloc::UnitVectorCloud cloud{p.vectors};
    const auto full = hloc::build_chord_tree(cloud, 8);
    CHECK(searched(p, *full, {53.0, -2.0}, 0, std::nullopt).empty());
}

TEST_CASE(
    "the candidate radius covers a geodesic of the bound, and everything past half the Earth") {
    // A geodesic of 100 km spans at most 100 km / (a(1 - e^2)) radians of the unit sphere.
    const double angle = 100'000.0 / hloc::kMinRadiusOfCurvatureM;
    const double chord = 2.0 * std::sin(angle / 2.0) * hloc::format::kUnitScale;
    CHECK(hloc::detail::candidate_radius_sq(100'000.0) > chord * chord);
    CHECK(std::isinf(hloc::detail::candidate_radius_sq(25'000'000.0)));
}

TEST_CASE("a chord past chord_sq_within(d) has a lower bound past d, so its point is skipped") {
    // The few-points search measures only chords up to chord_sq_within(cut) instead of testing
    // every point's lower bound against the cut: it may keep a few more, never fewer.
    std::mt19937_64 rng(31);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double scale = hloc::format::kUnitScale;
    for (int i = 0; i < 200'000; ++i) {
        // chords from a unit to the whole diameter (4 scale^2), and cuts from 0 to 20,000 km
        const double chord_sq = std::pow(unit(rng), 4) * 4.0 * scale * scale;
        const double low_m = hloc::detail::geodesic_bounds(chord_sq).low_m;
        const double cut_m = i % 3 == 0 ? low_m : std::pow(unit(rng), 3) * 2e7;
        INFO(chord_sq << " " << low_m << " " << cut_m);
        if (low_m <= cut_m) REQUIRE(chord_sq <= hloc::detail::chord_sq_within(cut_m));
    }
    CHECK(std::isinf(hloc::detail::chord_sq_within(std::numeric_limits<double>::infinity())));
    // and it keeps few: at 100 km the chord it allows is within 2 mm of the bound's
    const double cut_chord = std::sqrt(hloc::detail::chord_sq_within(100'000.0));
    CHECK(hloc::detail::geodesic_bounds(cut_chord * cut_chord).low_m ==
          Approx(100'000.0).margin(0.002));
}

TEST_CASE("the chord bounds the geodesic on both sides, as the search assumes") {
    // Any two points, one quantised as the index stores it, the other exact as a query is:
    // Vincenty's distance lies within geodesic_bounds of their squared chord and latitudes,
    // from a few metres to a third of the way round the Earth; at the poles and the equator
    // where the radius of curvature is largest and smallest; across the equator; and over
    // Great Britain, where the bounds are tightest (the bound's own width is checked too).
    std::mt19937_64 rng(12);
    std::uniform_real_distribution<double> lat(-89.9, 89.9), lon(-180.0, 180.0), near(-0.05, 0.05),
        gb_lat(49.8, 61.0), gb_lon(-8.7, 1.8), far(-3.0, 3.0), tiny(-0.001, 0.001);
    int checked = 0;
    double widest_gb = 0;
    for (int i = 0; i < 100'000; ++i) {
        LatLon a{lat(rng), lon(rng)};
        LatLon b =
            i % 2 ? LatLon{lat(rng), lon(rng)}
                  : LatLon{std::clamp(a.lat_deg + near(rng), -90.0, 90.0), a.lon_deg + near(rng)};
        const int kind = i % 10;
        if (kind == 3 || kind == 5) {  // over GB, kilometres to hundreds of kilometres apart
            a = {gb_lat(rng), gb_lon(rng)};
            b = {std::clamp(a.lat_deg + (kind == 3 ? far(rng) : near(rng)), 49.0, 62.0),
                 a.lon_deg + (kind == 3 ? far(rng) : near(rng))};
        }
        if (kind == 7) {  // astride the equator, and a few metres either side of it
            a = {tiny(rng), lon(rng)};
            b = {-a.lat_deg + tiny(rng), a.lon_deg + near(rng)};
        }
        if (i % 1000 == 0) b = {i % 2000 == 0 ? 89.99 : 0.001, b.lon_deg};
        const auto stored = hloc::to_unit_vector(b);
        const auto q = hloc::exact_unit_vector(a);
        const double dx = stored.x - q[0], dy = stored.y - q[1], dz = stored.z - q[2];
        const auto bounds =
            hloc::detail::geodesic_bounds(dx * dx + dy * dy + dz * dz, q[2], stored.z);
        const double s = hloc::geodesic_inverse(a, hloc::from_unit_vector(stored)).distance_m;
        if (s > 13'000'000.0) continue;  // Vincenty is not trusted near antipodes
        INFO(a.lat_deg << "," << a.lon_deg << " to " << b.lat_deg << "," << b.lon_deg);
        REQUIRE(bounds.low_m <= s);
        REQUIRE(s <= bounds.high_m);
        if ((kind == 3 || kind == 5) && s > 1000) {
            widest_gb = std::max(widest_gb, (bounds.high_m - bounds.low_m) / s);
        }
        ++checked;
    }
    CHECK(checked > 75'000);
    // Over GB the bounds are within 0.5 % of each other (the latitude-free ones were 1.0 %).
    CHECK(widest_gb < 0.005);
    CHECK(widest_gb > 0.001);
}
