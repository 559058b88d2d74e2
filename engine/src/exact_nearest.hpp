// The exact k nearest points of a chord tree by WGS84 geodesic distance.
//
// Contract: exact_nearest() returns the same points, in the same order, as computing the
// geodesic (Vincenty, geodesic_inverse) from the origin to every point and sorting by
// (distance, tie-break key), keeping the first k (and only those within max_distance_m).
//
// How: the chord between two unit vectors bounds the geodesic between their points on both
// sides (geodesic_bounds: 0.2-0.5 % apart over GB). With a few points (a treatment's sites), every
// point is a hit and Vincenty measures only those whose lower bound does not exceed the largest
// upper bound of the k smallest chords. With many, the KD-tree proposes the k nearest by chord;
// their geodesic distances bound the true k-th distance D; every point that could beat it lies
// within candidate_radius_sq(D), so a radius search collects them all, and of those Vincenty
// measures only the ones whose lower bound does not exceed D. A PointGrid, when the caller has
// one, stands in for both searches near its points (the tree answers what it cannot). The
// measured points are ranked by their geodesic distances. Degenerate cases: no points or k = 0
// give no result; a bound whose angle reaches pi (the far side of the Earth) makes every point
// a candidate.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <optional>
#include <utility>
#include <vector>

#include "hloc/chord_tree.hpp"
#include "hloc/geodesy.hpp"
#include "hloc/unit_vector.hpp"
#include "point_grid.hpp"
#include "vincenty.hpp"

namespace hloc::detail {

// The squared chord (UnitVector units) within which every point lies whose geodesic distance
// from the query is at most `distance_m`. Proof: along any path, ellipsoidal length >=
// kMinRadiusOfCurvatureM x the path's length on the unit sphere (latitude read as geodetic),
// so the spherical angle is at most distance_m / kMinRadiusOfCurvatureM. Widened by 1e-9
// relative and 8 units absolute (~2.4 cm): quantised points sit within 0.87 units of their
// exact unit vectors, and the chord is computed in doubles.
inline double candidate_radius_sq(double distance_m) {
    const double angle = distance_m / kMinRadiusOfCurvatureM;
    if (angle >= std::numbers::pi) return std::numeric_limits<double>::infinity();
    const double chord = 2.0 * std::sin(angle / 2.0) * format::kUnitScale * (1.0 + 1e-9) + 8.0;
    return chord * chord;
}

// The geodesic between two points whose unit vectors are `chord_sq` apart (squared chord in
// UnitVector units, as the tree measures, one of them quantised) and whose unit vectors' z
// (UnitVector units: sin of the geodetic latitude) are z_a and z_b lies within [low, high].
//
// Proof. Map the ellipsoid to the unit sphere by latitude (read as geodetic) and longitude.
// Lengths compare by ds^2 = M^2 dphi^2 + N^2 cos^2 phi dlambda^2 against dsigma^2 = dphi^2 +
// cos^2 phi dlambda^2, where M(phi) <= N(phi) are the meridional and prime-vertical radii of
// curvature, both increasing with |phi|: along any path, M <= ds / dsigma <= N at each point.
//  - Angle: the spherical angle of the exact vectors is within that of the chord -+ 1 unit (a
//    quantised vector is within 0.87 units of the exact one). The angle of a unit-sphere chord x
//    is 2 asin(x / 2): at least x, and at most x (1 + x^2 / 20) while x <= 1 (the series
//    1 + x^2/24 + 3x^4/640 + ... sums to 1.0472 at x = 1), so no asin is needed below 60 deg.
//  - Low: the geodesic maps to a sphere path no shorter than the angle. By Clairaut's relation
//    (N cos phi sin alpha is constant along a geodesic), the distance from the axis has no
//    interior maximum except at the equator, so a geodesic shorter than 60 degrees between two
//    points of one hemisphere keeps |phi| >= the smaller endpoint |phi|: s >= M(that) x angle.
//    Otherwise M(0) = kMinRadiusOfCurvatureM, the smallest radius anywhere.
//  - High: the geodesic is no longer than the ellipsoid image of the spherical great-circle
//    arc, whose points are within half the angle of an endpoint, so sin |phi| along it is at
//    most the larger endpoint's + angle / 2: s <= N(that) x angle.
// Near GB, N / M is 1 + e^2 cos^2 phi, about 1.002, where the global bounds (a(1 - e^2) and
// a / (1 - f)) are 1.0 % apart: a fifth of the candidates fall in between and need Vincenty.
// sin phi is read from z within 1 unit. Widened by 1e-6 relative and 1 cm absolute for
// Vincenty's own tolerance and the doubles.
struct GeodesicBounds {
    double low_m;
    double high_m;
};
struct ChordAngle {
    double low;         // radians, at most the exact vectors' spherical angle
    double high;        // radians, at least it
    bool within_60deg;  // the angle is at most 60 degrees
};
inline ChordAngle chord_angle(double chord_sq) {
    const double chord = std::sqrt(chord_sq) / format::kUnitScale;  // on the unit sphere
    constexpr double kUnit = 1.0 / format::kUnitScale;
    const double high = chord + kUnit;
    const bool small = high <= 1.0;
    return {std::max(0.0, chord - kUnit),
            small ? high * (1.0 + high * high / 20.0) : 2.0 * std::asin(std::min(1.0, high / 2.0)),
            small};
}

// At any latitudes: M(0) and N(90 deg), 1.0 % apart. Cheaper: for a few points, where the
// cut is the k-th upper bound and few fall in between anyway.
inline GeodesicBounds geodesic_bounds(double chord_sq) {
    const auto angle = chord_angle(chord_sq);
    return {std::max(0.0, kMinRadiusOfCurvatureM * angle.low * (1.0 - 1e-6) - 0.01),
            kMaxRadiusOfCurvatureM * angle.high * (1.0 + 1e-6) + 0.01};
}

inline GeodesicBounds geodesic_bounds(double chord_sq, double z_a, double z_b) {
    constexpr double kUnit = 1.0 / format::kUnitScale;
    const auto [low, angle_high, within_60deg] = chord_angle(chord_sq);
    constexpr double e2 = kWgs84Flattening * (2.0 - kWgs84Flattening);
    const double sa = std::abs(z_a) * kUnit, sb = std::abs(z_b) * kUnit;
    double radius_low = kMinRadiusOfCurvatureM;  // M(0)
    const bool one_hemisphere = (z_a > 1.0 && z_b > 1.0) || (z_a < -1.0 && z_b < -1.0);
    if (one_hemisphere && within_60deg) {
        const double s = std::max(0.0, std::min(sa, sb) - kUnit);
        const double w = 1.0 - e2 * s * s;
        radius_low = kMinRadiusOfCurvatureM / (w * std::sqrt(w));  // M = a (1 - e^2) / w^1.5
    }
    const double s_high = std::min(1.0, std::max(sa, sb) + kUnit + angle_high / 2.0);
    const double radius_high = kWgs84SemiMajorM / std::sqrt(1.0 - e2 * s_high * s_high);  // N
    return {std::max(0.0, radius_low * low * (1.0 - 1e-6) - 0.01),
            radius_high * angle_high * (1.0 + 1e-6) + 0.01};
}

// A squared chord (UnitVector units) beyond which geodesic_bounds(chord_sq).low_m exceeds
// `distance_m`: the lower bound, solved for the chord, plus 1 unit, widened by 1e-9 relative
// for the doubles (the bound's own widening is 1e-6, so this only keeps a few points more).
// Infinite distances give infinity.
inline double chord_sq_within(double distance_m) {
    const double angle = (distance_m + 0.01) / (kMinRadiusOfCurvatureM * (1.0 - 1e-6));
    const double chord = angle * format::kUnitScale + 1.0;
    return chord * chord * (1.0 + 1e-9);
}

struct Candidate {
    std::uint32_t local;     // index into the tree's cloud
    std::uint32_t tiebreak;  // site index (sites sort by id) or postcode row
    VincentyLeg leg;
    Geodesic geodesic;  // the bearing is computed only for the candidates returned
};

struct NearestScratch {
    std::vector<std::uint32_t> knn_index;
    std::vector<double> knn_dist;
    std::vector<std::pair<std::uint32_t, double>> radius_hits;
    std::vector<std::uint32_t> to_measure;  // locals whose legs measure_all computes next
    std::vector<VincentyLeg> legs;
    std::vector<Candidate> candidates;
    std::vector<Candidate> ranked;  // the caller's result, for callers that copy it out at once
};
inline NearestScratch& nearest_scratch() {
    thread_local NearestScratch s;  // reused: a query allocates nothing once warm
    return s;
}

// Below this many points, every point is a candidate (by its chord) without the tree.
inline constexpr std::size_t kScanAllBelow = 32;

// Every point of the tree's cloud with its squared chord from `q`.
inline void all_hits(const ChordTree& tree, std::size_t point_count, const std::array<double, 3>& q,
                     std::vector<std::pair<std::uint32_t, double>>& hits) {
    hits.clear();
    for (std::uint32_t i = 0; i < point_count; ++i) {
        const auto& p = tree.dataset.points[i];
        const double dx = p.x - q[0], dy = p.y - q[1], dz = p.z - q[2];
        hits.emplace_back(i, dx * dx + dy * dy + dz * dz);
    }
}

// `end(local)` gives a point as a Vincenty end (vincenty_end of its latitude/longitude),
// `tiebreak(local)` its order key; the ranked result goes to `out` (cleared first).
template <class EndFn, class TiebreakFn>
void exact_nearest(const ChordTree& tree, std::size_t point_count, LatLon origin, std::uint32_t k,
                   std::optional<double> max_distance_m, EndFn end, TiebreakFn tiebreak,
                   std::vector<Candidate>& out, bool bearings = true,
                   const PointGrid* grid = nullptr) {
    out.clear();
    if (point_count == 0 || k == 0) return;
    auto& s = nearest_scratch();
    const auto q = exact_unit_vector(origin);
    const auto from = vincenty_end(origin);
    const std::size_t want = std::min<std::size_t>(k, point_count);

    auto& cands = s.candidates;
    cands.clear();
    // Measures the points s.to_measure names, appending them to cands: their legs side by side
    // (vincenty_legs), so that the processor overlaps their iterations.
    const auto measure_all = [&] {
        const auto& locals = s.to_measure;
        s.legs.resize(locals.size());
        vincenty_legs(
            from, locals.size(), [&](std::size_t i) -> decltype(auto) { return end(locals[i]); },
            s.legs.data());
        for (std::size_t i = 0; i < locals.size(); ++i) {
            const auto& leg = s.legs[i];
            cands.push_back({locals[i], tiebreak(locals[i]), leg, {leg.distance_m, 0.0}});
        }
        s.to_measure.clear();
    };
    s.to_measure.clear();
    if (point_count <= kScanAllBelow) {
        // A few points (a treatment's sites): every one is a hit, by its chord computed
        // directly (the tree's searches would cost more), and only those whose lower bound
        // does not exceed a cut are measured: about k of them. The cut is the largest upper
        // bound among the k smallest chords (those k points are all within it, so the k-th
        // nearest is too). The bounds grow with the chord, so no bound is computed per point:
        // the cut becomes a squared chord, above which a point's lower bound exceeds the cut.
        // The k smallest chords stay on the stack, kept by insertion (k <= kScanAllBelow here).
        std::array<double, kScanAllBelow> chords_sq;
        std::array<double, kScanAllBelow> smallest;  // ascending, `kept` of them
        std::size_t kept = 0;
        for (std::uint32_t i = 0; i < point_count; ++i) {
            const auto& p = tree.dataset.points[i];
            const double dx = p.x - q[0], dy = p.y - q[1], dz = p.z - q[2];
            const double chord_sq = dx * dx + dy * dy + dz * dz;
            chords_sq[i] = chord_sq;
            if (kept == want && !(chord_sq < smallest[want - 1])) continue;
            std::size_t at = kept < want ? kept++ : want - 1;
            for (; at > 0 && chord_sq < smallest[at - 1]; --at) smallest[at] = smallest[at - 1];
            smallest[at] = chord_sq;
        }
        double cut_m = 0;
        if (point_count > want) {
            for (std::size_t j = 0; j < want; ++j) {
                cut_m = std::max(cut_m, geodesic_bounds(smallest[j]).high_m);
            }
        } else {
            cut_m = std::numeric_limits<double>::infinity();
        }
        if (max_distance_m) cut_m = std::min(cut_m, *max_distance_m);
        const double cut_chord_sq = chord_sq_within(cut_m);
        for (std::uint32_t i = 0; i < point_count; ++i) {
            if (chords_sq[i] <= cut_chord_sq) s.to_measure.push_back(i);
        }
        measure_all();
    } else {
        // 1. The k nearest by chord, measured: the k-th of their distances bounds the answer's.
        // (From the grid when there is one and it can say, with the hits of step 2.)
        const bool gridded = grid && grid->collect(q, want, s.radius_hits, s.knn_index, s.knn_dist);
        if (!gridded) {
            s.knn_index.resize(want);
            s.knn_dist.resize(want);
        }
        const auto found =
            gridded ? want : tree.knnSearch(q.data(), want, s.knn_index.data(), s.knn_dist.data());
        s.to_measure.assign(s.knn_index.begin(), s.knn_index.begin() + static_cast<long>(found));
        measure_all();
        double kth_m = 0;
        for (const auto& c : cands) kth_m = std::max(kth_m, c.geodesic.distance_m);
        double bound_m = kth_m;
        if (max_distance_m) bound_m = std::min(bound_m, *max_distance_m);

        // 2. Every point that could beat the k-th lies within candidate_radius_sq; of those,
        // one whose lower bound exceeds the bound is surely farther than k measured points.
        const double radius_sq = candidate_radius_sq(bound_m);
        // (The grid's hits are in already, some of them beyond the radius: skipped below.)
        if (!gridded) {
            if (std::isinf(radius_sq)) {
                all_hits(tree, point_count, q, s.radius_hits);
            } else {
                nanoflann::SearchParams params;
                params.sorted = false;
                tree.radiusSearch(q.data(), radius_sq, s.radius_hits, params);
            }
        }
        for (const auto& hit : s.radius_hits) {
            // Not a structured binding: clang 14 cannot capture one.
            const std::uint32_t local = hit.first;
            const bool seen = std::any_of(cands.begin(), cands.begin() + static_cast<long>(found),
                                          [&](const Candidate& c) { return c.local == local; });
            if (!seen && hit.second < radius_sq &&
                geodesic_bounds(hit.second, q[2], tree.dataset.points[local].z).low_m <= bound_m) {
                s.to_measure.push_back(local);
            }
        }
        measure_all();
    }

    // 3. Exact order: geodesic distance, then the tie-break key.
    auto by_distance = [](const Candidate& a, const Candidate& b) {
        if (a.geodesic.distance_m != b.geodesic.distance_m) {
            return a.geodesic.distance_m < b.geodesic.distance_m;
        }
        return a.tiebreak < b.tiebreak;
    };
    std::sort(cands.begin(), cands.end(), by_distance);
    for (const auto& c : cands) {
        if (out.size() == want) break;
        if (max_distance_m && c.geodesic.distance_m > *max_distance_m) break;
        out.push_back(c);
        out.back().geodesic.bearing_deg = bearings ? vincenty_bearing(from, end(c.local), c.leg)
                                                   : std::numeric_limits<double>::quiet_NaN();
    }
}

}  // namespace hloc::detail
