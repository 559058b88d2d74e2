#include "point_grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "exact_nearest.hpp"

namespace hloc::detail {

namespace {

using Vec = std::array<double, 3>;

double dot(const Vec& a, const Vec& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double dot(const format::UnitVector& p, const Vec& b) {
    return p.x * b[0] + p.y * b[1] + p.z * b[2];
}

Vec normalised(const Vec& v) {
    const double n = std::sqrt(dot(v, v));
    return {v[0] / n, v[1] / n, v[2] / n};
}

// Slack on every projected distance, in UnitVector units: the projections are computed in
// doubles (a few units in 1e-16 of 2^31), and a cell's edges are recomputed from its index.
constexpr double kSlack = 2.0;
constexpr long kMaxCells = 8'000'000;

}  // namespace

PointGrid::PointGrid(std::span<const format::UnitVector> points, double cell_m) {
    if (points.empty()) return;
    Vec sum{0, 0, 0};
    for (const auto& p : points) sum = {sum[0] + p.x, sum[1] + p.y, sum[2] + p.z};
    centre_ = normalised(sum);
    // East is the z axis crossed with the centre; a centre on the axis takes the x axis.
    Vec east{-centre_[1], centre_[0], 0.0};
    if (dot(east, east) < 1e-12) east = {1.0, 0.0, 0.0};
    east_ = normalised(east);
    north_ = {centre_[1] * east_[2] - centre_[2] * east_[1],
              centre_[2] * east_[0] - centre_[0] * east_[2],
              centre_[0] * east_[1] - centre_[1] * east_[0]};
    double a_min = std::numeric_limits<double>::infinity(), a_max = -a_min;
    double b_min = a_min, b_max = -a_min;
    for (const auto& p : points) {
        const double a = dot(p, east_), b = dot(p, north_);
        a_min = std::min(a_min, a), a_max = std::max(a_max, a);
        b_min = std::min(b_min, b), b_max = std::max(b_max, b);
    }
    cell_ = std::max(1.0, cell_m / kWgs84SemiMajorM * format::kUnitScale);
    const auto span_cells = [&] {
        return (static_cast<long>((a_max - a_min) / cell_) + 1) *
               (static_cast<long>((b_max - b_min) / cell_) + 1);
    };
    while (span_cells() > kMaxCells) cell_ *= 2;
    a0_ = a_min, b0_ = b_min;
    cols_ = static_cast<long>((a_max - a_min) / cell_) + 1;
    rows_ = static_cast<long>((b_max - b_min) / cell_) + 1;

    // Each point's cell, then the points in cell order (a counting sort: stable, so a cell's
    // points keep their order, and so the grid is the same for the same points).
    std::vector<std::uint32_t> cell_of(points.size());
    start_.assign(static_cast<std::size_t>(cols_ * rows_) + 1, 0);
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto& p = points[i];
        const long col =
            std::clamp(static_cast<long>((dot(p, east_) - a0_) / cell_), 0L, cols_ - 1);
        const long row =
            std::clamp(static_cast<long>((dot(p, north_) - b0_) / cell_), 0L, rows_ - 1);
        cell_of[i] = static_cast<std::uint32_t>(row * cols_ + col);
        ++start_[cell_of[i] + 1];
    }
    for (std::size_t c = 1; c < start_.size(); ++c) start_[c] += start_[c - 1];
    local_.resize(points.size());
    points_.resize(points.size());
    auto next = start_;
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto at = next[cell_of[i]]++;
        local_[at] = static_cast<std::uint32_t>(i);
        points_[at] = points[i];
    }
}

bool PointGrid::collect(const std::array<double, 3>& q, std::size_t want,
                        std::vector<std::pair<std::uint32_t, double>>& hits,
                        std::vector<std::uint32_t>& knn_index,
                        std::vector<double>& knn_dist) const {
    hits.clear();
    knn_index.clear();
    knn_dist.clear();
    if (want == 0 || points_.empty()) return false;
    // Within about 25 degrees of the points' centre, where the plane is a good likeness.
    if (dot(q, centre_) < 0.9 * format::kUnitScale) return false;
    const double qa = dot(q, east_), qb = dot(q, north_);
    const double fa = std::floor((qa - a0_) / cell_), fb = std::floor((qb - b0_) / cell_);
    if (!(fa >= -1 && fa <= static_cast<double>(cols_) && fb >= -1 &&
          fb <= static_cast<double>(rows_))) {
        return false;
    }
    const long ci = static_cast<long>(fa), cj = static_cast<long>(fb);

    // The want smallest chords so far, ascending, and the radius they allow (as
    // ShrinkingRadius in exact_nearest.hpp would).
    double radius_sq = std::numeric_limits<double>::infinity();
    const auto offer = [&](std::uint32_t local, double chord_sq) {
        if (!(chord_sq < radius_sq)) return;
        hits.emplace_back(local, chord_sq);
        if (knn_dist.size() == want && !(chord_sq < knn_dist.back())) return;
        if (knn_dist.size() < want) knn_dist.push_back(chord_sq), knn_index.push_back(local);
        std::size_t at = knn_dist.size() - 1;
        for (; at > 0 && chord_sq < knn_dist[at - 1]; --at) {
            knn_dist[at] = knn_dist[at - 1];
            knn_index[at] = knn_index[at - 1];
        }
        knn_dist[at] = chord_sq;
        knn_index[at] = local;
        if (knn_dist.size() == want) {
            radius_sq =
                std::min(radius_sq, candidate_radius_sq(geodesic_bounds(knn_dist.back()).high_m));
        }
    };
    const auto scan = [&](long col, long row) {
        // The query's projected distance to the cell, less the slack.
        const double a_lo = a0_ + static_cast<double>(col) * cell_,
                     b_lo = b0_ + static_cast<double>(row) * cell_;
        const double da = std::max({0.0, a_lo - qa - kSlack, qa - (a_lo + cell_) - kSlack});
        const double db = std::max({0.0, b_lo - qb - kSlack, qb - (b_lo + cell_) - kSlack});
        if (!(da * da + db * db < radius_sq)) return;
        const auto c = static_cast<std::size_t>(row * cols_ + col);
        for (auto i = start_[c]; i < start_[c + 1]; ++i) {
            const auto& p = points_[i];
            const double dx = p.x - q[0], dy = p.y - q[1], dz = p.z - q[2];
            offer(local_[i], dx * dx + dy * dy + dz * dz);
        }
    };
    constexpr double kInf = std::numeric_limits<double>::infinity();
    for (long r = 0; r <= kMaxRings; ++r) {
        for (long row = std::max(0L, cj - r); row <= std::min(rows_ - 1, cj + r); ++row) {
            const bool edge_row = row == cj - r || row == cj + r;
            if (edge_row) {
                for (long col = std::max(0L, ci - r); col <= std::min(cols_ - 1, ci + r); ++col) {
                    scan(col, row);
                }
            } else {
                if (ci - r >= 0 && ci - r < cols_) scan(ci - r, row);
                if (r > 0 && ci + r >= 0 && ci + r < cols_) scan(ci + r, row);
            }
        }
        // Every point outside the square of rings 0..r is at least this far from q, projected.
        const double west = ci - r > 0 ? qa - (a0_ + static_cast<double>(ci - r) * cell_) : kInf;
        const double east =
            ci + r + 1 < cols_ ? a0_ + static_cast<double>(ci + r + 1) * cell_ - qa : kInf;
        const double south = cj - r > 0 ? qb - (b0_ + static_cast<double>(cj - r) * cell_) : kInf;
        const double north =
            cj + r + 1 < rows_ ? b0_ + static_cast<double>(cj + r + 1) * cell_ - qb : kInf;
        const double outside = std::max(0.0, std::min({west, east, south, north}) - kSlack);
        if (std::isinf(outside)) return knn_dist.size() == want;  // every point was offered
        // Fewer than `want` points in the 3 x 3 cells around the query: the rings would be
        // many and mostly empty (the country, the sea), where the tree is quicker.
        if (r >= 1 && knn_dist.size() < want) return false;
        if (knn_dist.size() == want && outside * outside >= radius_sq) return true;
    }
    return false;
}

}  // namespace hloc::detail
