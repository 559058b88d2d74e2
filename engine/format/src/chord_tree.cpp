#include "hloc/chord_tree.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "hloc/error.hpp"

namespace hloc {
namespace {

using Node = ChordTree::Node;

std::int32_t exact_int(double v) {
    // Split values are coordinates of points, which are integers (UnitVector units).
    const auto i = static_cast<std::int32_t>(v);
    if (static_cast<double>(i) != v) {
        throw Error(ErrorCode::internal, "KD-tree split value is not a point coordinate");
    }
    return i;
}

template <class T>
void append(std::vector<std::byte>& out, const T& value) {
    // resize + memcpy rather than insert: GCC 12 warns falsely (-Wstringop-overflow) on the
    // inlined range insert.
    const std::size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &value, sizeof(T));
}

}  // namespace

std::unique_ptr<ChordTree> build_chord_tree(const UnitVectorCloud& cloud,
                                            std::size_t leaf_max_size) {
    auto tree = std::make_unique<ChordTree>(
        3, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(leaf_max_size));
    return tree;
}

std::vector<std::byte> serialise_chord_tree(const ChordTree& tree) {
    format::TreeHeader header{};
    header.point_count = static_cast<std::uint32_t>(tree.vAcc.size());
    header.leaf_max_size = static_cast<std::uint32_t>(tree.m_leaf_max_size);
    std::vector<format::TreeNode> nodes;
    if (tree.root_node != nullptr) {
        for (int d = 0; d < 3; ++d) {
            header.bbox[d] = {exact_int(tree.root_bbox[d].low), exact_int(tree.root_bbox[d].high)};
        }
        // Pre-order, iteratively: child1's subtree, then child2's.
        std::vector<const Node*> stack{tree.root_node};
        while (!stack.empty()) {
            const Node* n = stack.back();
            stack.pop_back();
            format::TreeNode out{};
            if (n->child1 == nullptr && n->child2 == nullptr) {
                out.first = static_cast<std::int32_t>(n->node_type.lr.left);
                out.second = static_cast<std::int32_t>(n->node_type.lr.right);
            } else {
                out.flags = (n->child1 ? 1u : 0u) | (n->child2 ? 2u : 0u) |
                            (static_cast<std::uint32_t>(n->node_type.sub.divfeat) << 2);
                out.first = exact_int(n->node_type.sub.divlow);
                out.second = exact_int(n->node_type.sub.divhigh);
                if (n->child2) stack.push_back(n->child2);
                if (n->child1) stack.push_back(n->child1);
            }
            nodes.push_back(out);
        }
    }
    header.node_count = static_cast<std::uint32_t>(nodes.size());
    std::vector<std::byte> bytes;
    bytes.reserve(sizeof header + tree.vAcc.size() * 4 + nodes.size() * sizeof(format::TreeNode));
    append(bytes, header);
    for (std::uint32_t i : tree.vAcc) append(bytes, i);
    for (const auto& n : nodes) append(bytes, n);
    return bytes;
}

std::unique_ptr<ChordTree> load_chord_tree(const UnitVectorCloud& cloud,
                                           std::span<const std::byte> bytes,
                                           std::string_view what) {
    auto fail = [&](const std::string& why) {
        return Error(ErrorCode::bad_index,
                     "index KD-tree '" + std::string(what) + "' is corrupt: " + why);
    };
    format::TreeHeader header;
    if (bytes.size() < sizeof header) throw fail("shorter than its header");
    std::memcpy(&header, bytes.data(), sizeof header);
    if (header.point_count != cloud.points.size()) {
        throw fail("it indexes " + std::to_string(header.point_count) + " points, the index has " +
                   std::to_string(cloud.points.size()));
    }
    const std::uint64_t want = sizeof header + std::uint64_t{header.point_count} * 4 +
                               std::uint64_t{header.node_count} * sizeof(format::TreeNode);
    if (bytes.size() != want) {
        throw fail("size " + std::to_string(bytes.size()) + " bytes, expected " +
                   std::to_string(want));
    }
    if (header.leaf_max_size == 0) throw fail("leaf size 0");
    if ((header.point_count == 0) != (header.node_count == 0)) throw fail("empty and not empty");

    auto tree = std::make_unique<ChordTree>(
        3, cloud,
        nanoflann::KDTreeSingleIndexAdaptorParams(
            header.leaf_max_size, nanoflann::KDTreeSingleIndexAdaptorFlags::SkipInitialBuildIndex));
    tree->vAcc.resize(header.point_count);
    const std::byte* vacc = bytes.data() + sizeof header;
    if (header.point_count != 0) {  // memcpy from/to null is undefined even for 0 bytes
        std::memcpy(tree->vAcc.data(), vacc, std::size_t{header.point_count} * 4);
    }
    for (std::uint32_t i : tree->vAcc) {
        if (i >= header.point_count) throw fail("a point number is out of range");
    }
    tree->m_size = header.point_count;
    tree->m_size_at_index_build = header.point_count;
    tree->m_leaf_max_size = header.leaf_max_size;
    if (header.node_count == 0) return tree;
    for (int d = 0; d < 3; ++d) {
        if (header.bbox[d][0] > header.bbox[d][1]) throw fail("bounding box inverted");
        tree->root_bbox[d].low = header.bbox[d][0];
        tree->root_bbox[d].high = header.bbox[d][1];
    }

    const std::byte* node_bytes = vacc + std::size_t{header.point_count} * 4;
    // Rebuild in pre-order: each pending slot is a child pointer waiting for its node.
    std::vector<Node**> pending;
    Node* root = nullptr;
    pending.push_back(&root);
    for (std::uint32_t i = 0; i < header.node_count; ++i) {
        if (pending.empty()) throw fail("more nodes than the tree's links reach");
        Node** slot = pending.back();
        pending.pop_back();
        format::TreeNode in;
        std::memcpy(&in, node_bytes + std::size_t{i} * sizeof in, sizeof in);
        Node* n = tree->pool.template allocate<Node>();
        n->child1 = n->child2 = nullptr;
        const bool has1 = in.flags & 1u, has2 = in.flags & 2u;
        if (!has1 && !has2) {
            const auto first = static_cast<std::uint32_t>(in.first);
            const auto second = static_cast<std::uint32_t>(in.second);
            if (in.flags != 0 || first > second || second > header.point_count) {
                throw fail("leaf " + std::to_string(i) + " has a bad point range");
            }
            n->node_type.lr.left = first;
            n->node_type.lr.right = second;
        } else {
            const std::uint32_t dim = (in.flags >> 2);
            if (!has1 || !has2 || dim > 2)
                throw fail("node " + std::to_string(i) + " is malformed");
            n->node_type.sub.divfeat = static_cast<int>(dim);
            n->node_type.sub.divlow = in.first;
            n->node_type.sub.divhigh = in.second;
            // child1 comes first in pre-order, so it is pushed last.
            pending.push_back(&n->child2);
            pending.push_back(&n->child1);
        }
        *slot = n;
    }
    if (!pending.empty()) throw fail("the tree's links reach past its last node");
    tree->root_node = root;
    return tree;
}

}  // namespace hloc
