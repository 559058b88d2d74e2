// KD-trees over points on the unit sphere (format::UnitVector), with nanoflann, and their
// deterministic on-disk form (format::TreeHeader). Shared by the builder, which builds and
// serialises them, and the engine, which loads them from the mapped file.
//
// Distances in a ChordTree are squared chord lengths in UnitVector units:
// chord_sq = (2 sin(angle / 2) * kUnitScale)^2, angle in radians on the unit sphere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nanoflann.hpp>
#include <span>
#include <string_view>
#include <vector>

#include "hloc/index_format.hpp"

namespace hloc {

// nanoflann's dataset adaptor over points it does not own (a mapped section or a vector).
struct UnitVectorCloud {
    std::span<const format::UnitVector> points;

    std::size_t kdtree_get_point_count() const { return points.size(); }
    double kdtree_get_pt(std::uint32_t i, std::size_t dim) const {
        const auto& p = points[i];
        return dim == 0 ? p.x : (dim == 1 ? p.y : p.z);
    }
    template <class BoundingBox>
    bool kdtree_get_bbox(BoundingBox&) const {
        return false;
    }
};

using ChordTree = nanoflann::KDTreeSingleIndexAdaptor<
    nanoflann::L2_Simple_Adaptor<double, UnitVectorCloud, double, std::uint32_t>, UnitVectorCloud,
    3, std::uint32_t>;

// Builds a tree over `cloud` (which must outlive it). Deterministic for the same points.
std::unique_ptr<ChordTree> build_chord_tree(const UnitVectorCloud& cloud,
                                            std::size_t leaf_max_size);

// The tree in format::TreeHeader form.
std::vector<std::byte> serialise_chord_tree(const ChordTree& tree);

// A tree over `cloud` from its serialised bytes. Every count, range and child link is checked
// against `bytes` and the cloud; throws Error{bad_index} naming what was wrong.
std::unique_ptr<ChordTree> load_chord_tree(const UnitVectorCloud& cloud,
                                           std::span<const std::byte> bytes, std::string_view what);

}  // namespace hloc
