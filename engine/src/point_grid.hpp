// A grid of square cells over many points on the unit sphere (the located postcodes), for
// exact_nearest's first step near them: the k smallest chords from a query, and every point
// within a radius of it, read from a few cells stored one after another, where the KD-tree's
// walk is a chain of dependent loads (perf: the walk was 57 % of a reverse query, its time on
// the child-pointer and leaf-point loads).
//
// The cells tile a plane tangent to the points' mean direction (east and north axes there), in
// UnitVector units. Projecting onto a plane never lengthens a distance, so a point outside a
// rectangle of cells is at least the query's projected distance to that rectangle's edge away
// in chord: that is what lets a search stop. The answer is exact whatever the points are; a
// query the grid cannot answer in a few rings of cells (far from every point, or off the grid)
// says so and the caller searches the tree.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "hloc/index_format.hpp"

namespace hloc::detail {

class PointGrid {
  public:
    // `cell_m`: a cell's side, in metres on the Earth's surface (about).
    PointGrid(std::span<const format::UnitVector> points, double cell_m);

    // The `want` smallest squared chords from `q` (exact_unit_vector's units) and their
    // points, ascending, to knn_index/knn_dist; every point whose squared chord is below
    // candidate_radius_sq(the k-th smallest chord's geodesic_bounds().high_m) to `hits`
    // (point, squared chord), perhaps with some beyond it. False when the grid cannot say
    // within kMaxRings rings of cells around the query's: the outputs are then meaningless.
    bool collect(const std::array<double, 3>& q, std::size_t want,
                 std::vector<std::pair<std::uint32_t, double>>& hits,
                 std::vector<std::uint32_t>& knn_index, std::vector<double>& knn_dist) const;

    static constexpr long kMaxRings = 4;

  private:
    std::array<double, 3> centre_{}, east_{}, north_{};
    double a0_ = 0, b0_ = 0, cell_ = 1;  // the grid's corner and a cell's side, UnitVector units
    long cols_ = 0, rows_ = 0;
    std::vector<std::uint32_t> start_;        // by cell (row-major), cols_ * rows_ + 1
    std::vector<std::uint32_t> local_;        // the points' indices, in cell order
    std::vector<format::UnitVector> points_;  // the points, in cell order
};

}  // namespace hloc::detail
