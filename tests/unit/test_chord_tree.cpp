// nanoflann KD-trees over unit vectors, and their deterministic on-disk form.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "hloc/chord_tree.hpp"
#include "hloc/error.hpp"
#include "hloc/geodesy.hpp"
#include "hloc/unit_vector.hpp"

using hloc::format::UnitVector;

namespace {

std::vector<UnitVector> random_points(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> lat(49.9, 60.9), lon(-8.6, 1.7);
    std::vector<UnitVector> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(hloc::to_unit_vector({lat(rng), lon(rng)}));
    return out;
}

double chord_sq(const UnitVector& p, const std::array<double, 3>& q) {
    const double dx = p.x - q[0], dy = p.y - q[1], dz = p.z - q[2];
    return dx * dx + dy * dy + dz * dz;
}

}  // namespace

TEST_CASE("a loaded tree answers exactly as brute force, and re-serialises to the same bytes") {
    for (std::size_t n : {1u, 2u, 9u, 100u, 5000u}) {
        INFO("points: " << n);
        auto points = random_points(n, n);
        points.push_back(points.front());  // a duplicate point
        const hloc::UnitVectorCloud cloud{points};
        const auto built = hloc::build_chord_tree(cloud, 8);
        const auto bytes = hloc::serialise_chord_tree(*built);
        const auto loaded = hloc::load_chord_tree(cloud, bytes, "test");
        CHECK(hloc::serialise_chord_tree(*loaded) == bytes);

        std::mt19937_64 rng(99);
        for (int q = 0; q < 200; ++q) {
            const auto u = hloc::to_unit_vector(
                {49.9 + (rng() % 1100) / 100.0, -8.6 + (rng() % 1030) / 100.0});
            const std::array<double, 3> query{double(u.x), double(u.y), double(u.z)};
            const std::size_t k = std::min<std::size_t>(3, points.size());
            std::vector<std::uint32_t> idx(k);
            std::vector<double> dist(k);
            loaded->knnSearch(query.data(), k, idx.data(), dist.data());
            std::vector<double> all;
            for (const auto& p : points) all.push_back(chord_sq(p, query));
            std::sort(all.begin(), all.end());
            for (std::size_t i = 0; i < k; ++i) CHECK(dist[i] == all[i]);
        }
    }
}

TEST_CASE("an empty tree serialises and loads") {
    std::vector<UnitVector> none;
    const hloc::UnitVectorCloud cloud{none};
    const auto bytes = hloc::serialise_chord_tree(*hloc::build_chord_tree(cloud, 8));
    const auto loaded = hloc::load_chord_tree(cloud, bytes, "empty");
    CHECK(loaded->root_node == nullptr);
}

TEST_CASE("a damaged tree is refused, never followed") {
    auto points = random_points(500, 3);
    const hloc::UnitVectorCloud cloud{points};
    const auto bytes = hloc::serialise_chord_tree(*hloc::build_chord_tree(cloud, 8));
    auto refused = [&](std::vector<std::byte> b) {
        try {
            hloc::load_chord_tree(cloud, b, "t");
        } catch (const hloc::Error& e) {
            return e.code() == hloc::ErrorCode::bad_index;
        }
        return false;
    };
    SECTION("truncated at any length") {
        for (std::size_t len = 0; len < bytes.size(); len += 7) {
            CHECK(refused({bytes.begin(), bytes.begin() + static_cast<long>(len)}));
        }
    }
    SECTION("a point number out of range") {
        auto b = bytes;
        const std::uint32_t bad = 500;
        std::memcpy(b.data() + sizeof(hloc::format::TreeHeader), &bad, 4);
        CHECK(refused(b));
    }
    SECTION("every node flag corrupted in turn") {
        const std::size_t nodes_at = sizeof(hloc::format::TreeHeader) + 500 * 4;
        for (std::size_t at = nodes_at; at < bytes.size(); at += sizeof(hloc::format::TreeNode)) {
            auto b = bytes;
            b[at] = std::byte{0xFF};  // children and split dimension impossible
            CHECK(refused(b));
        }
    }
    SECTION("built over a different number of points") {
        auto fewer = points;
        fewer.pop_back();
        const hloc::UnitVectorCloud other{fewer};
        CHECK_THROWS_AS(hloc::load_chord_tree(other, bytes, "t"), hloc::Error);
    }
}
