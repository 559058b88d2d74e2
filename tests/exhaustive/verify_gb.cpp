// The exhaustive full-GB checks, too long for the default test runs: registered with ctest
// under the label "exhaustive" (`ctest -L exhaustive`), on the gb_index fixture.
//
//   ranking  for every located postcode in Great Britain, nearest() with k = every site must
//            give exactly the brute-force order (WGS84 geodesic to each site, ties by site id);
//            also counts how often a sphere (as PostGIS's <-> on geography does) would give a
//            different top 3 or order.
//   coords   every located postcode's position against PROJ's cs2cs EPSG:27700 EPSG:4326 with
//            the OSTN15 grid (worst and mean difference, in metres).
//
// The index and the data directory come from --index and --data, else $HLOC_TEST_INDEX and
// $HLOC_TEST_DATA (the integration tests' names), so the test needs none of the shells' code.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <numbers>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hloc/engine.hpp"
#include "hloc/geodesy.hpp"

namespace {

using namespace hloc;

constexpr const char* kGridFile = "uk_os_OSTN15_NTv2_OSGBtoETRS.tif";  // OSTN15, for cs2cs

// `given`, else the environment variable `env`; throws Error{bad_input} naming both if neither.
std::string given_or_env(const std::optional<std::string>& given, const char* option,
                         const char* env) {
    if (given) return *given;
    if (const char* value = std::getenv(env); value != nullptr && *value != '\0') return value;
    throw Error(ErrorCode::bad_input, std::string("give ") + option + " or set $" + env);
}

double sphere_angle(LatLon a, LatLon b) {
    const double d2r = std::numbers::pi / 180;
    const double c = std::sin(a.lat_deg * d2r) * std::sin(b.lat_deg * d2r) +
                     std::cos(a.lat_deg * d2r) * std::cos(b.lat_deg * d2r) *
                         std::cos((a.lon_deg - b.lon_deg) * d2r);
    return std::acos(std::clamp(c, -1.0, 1.0));
}

int verify_ranking(const Engine& engine, const std::string& treatment, unsigned threads) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::uint32_t> sites;  // the treatment's sites, ascending index = id order
    for (std::uint32_t i = 0; i < engine.site_count(); ++i) {
        const auto s = engine.site(i);
        if (treatment.empty() ||
            std::find(s.treatments.begin(), s.treatments.end(), treatment) != s.treatments.end()) {
            sites.push_back(i);
        }
    }
    std::vector<LatLon> site_pos;
    for (auto i : sites) site_pos.push_back(engine.site(i).position);
    const std::uint32_t n = engine.located_count();
    std::atomic<std::uint32_t> next{0};
    std::atomic<std::uint64_t> mismatches{0}, sphere_differs{0};
    std::mutex print;
    auto work = [&] {
        std::vector<std::pair<double, std::uint32_t>> brute, sphere;
        for (;;) {
            const std::uint32_t begin = next.fetch_add(4096);
            if (begin >= n) return;
            for (std::uint32_t row = begin; row < std::min(n, begin + 4096); ++row) {
                const auto pc = engine.located_postcode(row);
                NearestQuery q;
                q.origin.postcode = pc.postcode;
                q.origin.match = MatchLevel::unit;
                q.origin.position = pc.position;
                q.treatment = treatment;
                q.k = static_cast<std::uint32_t>(sites.size());
                const auto answer = engine.nearest(q);
                brute.clear();
                sphere.clear();
                for (std::size_t i = 0; i < sites.size(); ++i) {
                    brute.emplace_back(geodesic_inverse(pc.position, site_pos[i]).distance_m,
                                       sites[i]);
                    sphere.emplace_back(sphere_angle(pc.position, site_pos[i]), sites[i]);
                }
                std::sort(brute.begin(), brute.end());
                std::sort(sphere.begin(), sphere.end());
                bool same = answer.has_value() && answer->results.size() == brute.size();
                for (std::size_t i = 0; same && i < brute.size(); ++i) {
                    same = answer->results[i].site_index == brute[i].second &&
                           answer->results[i].distance_m == brute[i].first;
                }
                if (!same) {
                    if (mismatches.fetch_add(1) < 10) {
                        std::lock_guard lock(print);
                        std::cout << "MISMATCH " << pc.postcode << "\n";
                    }
                }
                for (std::size_t i = 0; i < std::min<std::size_t>(3, brute.size()); ++i) {
                    if (sphere[i].second != brute[i].second) {
                        sphere_differs.fetch_add(1);
                        break;
                    }
                }
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "ranking: %u located postcodes x %zu sites: %llu differ from brute force (%.1f s)\n", n,
        sites.size(), static_cast<unsigned long long>(mismatches.load()), s);
    const auto sphere_count = sphere_differs.load();
    std::printf(
        "ranking: a sphere would change the top 3 or its order for %llu postcodes (%.2f %%)\n",
        static_cast<unsigned long long>(sphere_count),
        100.0 * static_cast<double>(sphere_count) / n);
    return mismatches.load() == 0 ? 0 : 1;
}

int verify_coords(const Engine& engine, const std::filesystem::path& data_dir) {
    // Without the grid cs2cs would fall back to a Helmert transform, metres off: say so instead.
    if (!std::filesystem::is_regular_file(data_dir / kGridFile)) {
        throw Error(ErrorCode::bad_input, data_dir.string() + " does not hold " + kGridFile);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto in_path = std::filesystem::temp_directory_path() /
                         ("hloc-verify-" + std::to_string(::getpid()) + ".txt");
    const std::uint32_t n = engine.located_count();
    {
        std::FILE* f = std::fopen(in_path.c_str(), "w");
        if (f == nullptr) throw Error(ErrorCode::io_error, "cannot write " + in_path.string());
        for (std::uint32_t r = 0; r < n; ++r) {
            const auto p = engine.located_postcode(r);
            std::fprintf(f, "%.0f %.0f\n", p.eastings_m, p.northings_m);
        }
        std::fclose(f);
    }
    const std::string cmd =
        "PROJ_DATA='" + std::filesystem::absolute(data_dir).string() +
        ":/usr/share/proj' PROJ_NETWORK=OFF cs2cs -f %.10f EPSG:27700 EPSG:4326 < " +
        in_path.string();
    std::FILE* out = ::popen(cmd.c_str(), "r");
    if (out == nullptr) throw Error(ErrorCode::io_error, "cannot run cs2cs");
    double worst = 0, sum = 0, lat = 0, lon = 0, h = 0;
    std::string worst_pc;
    std::uint32_t row = 0;
    while (std::fscanf(out, "%lf %lf %lf", &lat, &lon, &h) == 3 && row < n) {
        const auto p = engine.located_postcode(row);
        const double d = geodesic_inverse(p.position, {lat, lon}).distance_m;
        sum += d;
        if (d > worst) {
            worst = d;
            worst_pc = p.postcode;
        }
        ++row;
    }
    const int rc = ::pclose(out);
    std::filesystem::remove(in_path);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "coords: %u of %u postcodes compared with cs2cs: worst %.4f m (%s), mean %.4f m (%.1f s)\n",
        row, n, worst, worst_pc.c_str(), sum / std::max(1u, row), s);
    return rc == 0 && row == n && worst < 0.01 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Full-data checks: exact ranking for every postcode, coordinates against cs2cs.",
                 "hloc_verify_gb"};
    std::optional<std::string> index, data;
    std::string treatment = "kyphoplasty";
    std::vector<std::string> checks = {"ranking", "coords"};
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    app.add_option("--index", index, "the GB index file (default: $HLOC_TEST_INDEX)");
    app.add_option("--data", data,
                   "data directory with the OSTN15 grid, for cs2cs (default: $HLOC_TEST_DATA)");
    app.add_option("--treatment", treatment, "treatment to check")->capture_default_str();
    app.add_option("--check", checks, "ranking, coords")->capture_default_str();
    app.add_option("--threads", threads, "threads")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    try {
        const auto index_file = given_or_env(index, "--index", "HLOC_TEST_INDEX");
        const auto engine = Engine::open(index_file, {.verify_checksum = true});
        int rc = 0;
        for (const auto& c : checks) {
            if (c == "ranking") {
                rc |= verify_ranking(engine, treatment, threads);
            } else if (c == "coords") {
                rc |= verify_coords(engine, given_or_env(data, "--data", "HLOC_TEST_DATA"));
            } else {
                std::cerr << "unknown check " << c << "\n";
                return 1;
            }
        }
        return rc == 0 ? 0 : 2;
    } catch (const Error& e) {
        std::cerr << e.message() << "\n";
        return 2;
    }
}
