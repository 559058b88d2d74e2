// hloc_bench: in-process figures for the engine, with Google Benchmark.
//
//   clock_overhead             one steady_clock read pair: included in every per-query figure
//   memory/dependent_load/...  one dependent load from a random line of memory the size of the
//                              GB index, in 4 KiB or huge pages: the floor under a lookup
//   open/gb                    Engine::open: header, section table, references, site trees
//   open/synthetic_100k        the same for the index with 100,000 synthetic sites
//   open_verified/gb           Engine::open with the payload checksum, on a fresh mapping
//   verify/gb                  Engine::verify on an open engine (pages already mapped)
//   lookup/gb                  Engine::lookup of a unit postcode
//   lookup/gb_any_postcode     the same over 1,000,000 postcodes drawn from every located one:
//                              the whole index is the working set, as random traffic makes it
//   nearest_by_postcode/...    resolve + nearest top-3: 10 real sites, 100,000 synthetic sites
//   reverse/gb/warm            the nearest postcode to a point, postcode KD-tree loaded
//   reverse/gb/first_call      the first reverse of a freshly opened Engine (loads the tree)
//   vs_brute_force/...         nearest top-3 from an already resolved origin: the engine, and
//                              every site's Vincenty distance with a partial sort, over the
//                              same queries, once both are checked to give the same top-3
//                              (on every query at 10 sites, --check-queries at 100,000; a
//                              difference aborts the run)
//
// Inputs: arguments (after Google Benchmark's own --benchmark_* flags) or the environment.
//   --index=FILE            $HLOC_BENCH_INDEX            the GB index (required)
//   --synthetic-index=FILE  $HLOC_BENCH_SYNTHETIC_INDEX  built with --synthetic-sites 100000;
//                                                        without it, those benchmarks are left out
//   --postcodes=FILE        $HLOC_BENCH_POSTCODES        query postcodes, one a line (optional)
//   --queries=N             $HLOC_BENCH_QUERIES          points drawn (default 10,000)
//   --check-queries=N       $HLOC_BENCH_CHECK_QUERIES    100k-site queries checked against
//                                                        brute force before timing (default 1,000)
//
// The query set is deterministic and needs nothing but the index: points are drawn from a
// fixed pseudo-random sequence (SplitMix64, not <random>, whose distributions differ between
// standard libraries) over Great Britain's latitude/longitude box, and kept when a postcode
// centroid lies within 1 km, which leaves out the sea and empty moorland. Reverse queries use
// the points; lookup and nearest use each point's nearest postcode. The same index gives the
// same queries on every machine. The sample is by area, not by population, so rural postcodes
// are over-represented against real traffic; that costs nothing in lookup (a binary search
// inside a district) and little in nearest. --postcodes replaces the postcodes with real ones.
//
// Latency: Google Benchmark reports means, and the targets are per-query medians, so every
// benchmark times each call on its own (steady_clock, manual time) and reports p50, p90 and
// p99 as counters. Each figure includes one clock read pair (clock_overhead: ~30 ns).
// Defaults: 5 repetitions, aggregates only; later --benchmark_* flags override them.
#include <benchmark/benchmark.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "hloc/engine.hpp"
#include "hloc/geodesy.hpp"
#include "splitmix64.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kTreatment = "kyphoplasty";
constexpr std::string_view kSyntheticTreatment = "synthetic";
constexpr std::uint32_t kTopK = 3;

// The query points: a fixed seed, Great Britain's box (Scilly to Shetland, the Outer Hebrides to
// Lowestoft, with a margin), and how close a postcode must be for a point to count as inhabited.
constexpr std::uint64_t kSeed = 0x686c6f632d62656eULL;  // "hloc-ben"
constexpr double kMinLatDeg = 49.85, kMaxLatDeg = 60.90;
constexpr double kMinLonDeg = -8.20, kMaxLonDeg = 1.80;
constexpr double kMaxSnapM = 1000.0;

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "hloc_bench: %s\n", message.c_str());
    std::exit(EXIT_FAILURE);
}

struct Config {
    std::string index_file;
    std::string synthetic_index_file;
    std::string postcodes_file;
    std::size_t query_count = 10'000;
    std::size_t check_count = 1'000;
};

std::size_t parse_count(std::string_view name, const std::string& text) {
    char* end = nullptr;
    const auto n = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || n == 0) {
        fail(std::string(name) + " must be a positive whole number, got '" + text + "'");
    }
    return static_cast<std::size_t>(n);
}

// Arguments win over the environment. Called after benchmark::Initialize has taken its flags.
Config read_config(int argc, char** argv) {
    Config c;
    auto env = [](const char* name) -> std::string {
        const char* v = std::getenv(name);
        return v == nullptr ? "" : v;
    };
    c.index_file = env("HLOC_BENCH_INDEX");
    c.synthetic_index_file = env("HLOC_BENCH_SYNTHETIC_INDEX");
    c.postcodes_file = env("HLOC_BENCH_POSTCODES");
    if (auto v = env("HLOC_BENCH_QUERIES"); !v.empty())
        c.query_count = parse_count("HLOC_BENCH_QUERIES", v);
    if (auto v = env("HLOC_BENCH_CHECK_QUERIES"); !v.empty()) {
        c.check_count = parse_count("HLOC_BENCH_CHECK_QUERIES", v);
    }
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value_of = [&](std::string_view flag) -> std::optional<std::string> {
            if (!arg.starts_with(flag) || arg.size() <= flag.size() || arg[flag.size()] != '=') {
                return std::nullopt;
            }
            return std::string(arg.substr(flag.size() + 1));
        };
        if (auto index = value_of("--index"))
            c.index_file = *index;
        else if (auto synthetic = value_of("--synthetic-index"))
            c.synthetic_index_file = *synthetic;
        else if (auto postcodes = value_of("--postcodes"))
            c.postcodes_file = *postcodes;
        else if (auto queries = value_of("--queries"))
            c.query_count = parse_count("--queries", *queries);
        else if (auto checks = value_of("--check-queries"))
            c.check_count = parse_count("--check-queries", *checks);
        else
            fail("unknown argument '" + std::string(arg) +
                 "' (see the comment at the top of engine_bench.cpp)");
    }
    if (c.index_file.empty()) {
        fail(
            "no index: give --index=FILE or set HLOC_BENCH_INDEX (build one with "
            "'hospital-locator build --out FILE')");
    }
    return c;
}

using hloc::bench::SplitMix64;

// Top-k from `origin` among the sites offering `treatment`, no distance limit.
hloc::NearestQuery top_k_query(hloc::Location origin, std::string_view treatment) {
    hloc::NearestQuery query;
    query.origin = std::move(origin);
    query.treatment = std::string(treatment);
    query.k = kTopK;
    return query;
}

struct QuerySet {
    std::vector<hloc::LatLon> points;    // reverse queries
    std::vector<std::string> postcodes;  // lookup and nearest queries
    std::string description;
};

// `count` located postcodes drawn at random (with repeats) from all of them: a sample of the
// whole index, where the query set above is a sample of GB's area.
constexpr std::size_t kAnyPostcodeCount = 1'000'000;
std::vector<std::string> draw_postcodes(const hloc::Engine& engine, std::size_t count) {
    SplitMix64 rng(kSeed + 1);
    const auto rows = engine.located_count();
    if (rows == 0) fail("the index locates no postcode");
    std::vector<std::string> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        out.push_back(
            engine.located_postcode(static_cast<std::uint32_t>(rng.next() % rows)).postcode);
    }
    return out;
}

QuerySet make_query_set(const hloc::Engine& engine, const Config& config) {
    QuerySet q;
    SplitMix64 rng(kSeed);
    // A hundred draws per kept point is far more than GB needs (about one in five is kept);
    // the cap only stops an index with no postcodes from spinning for ever.
    const std::size_t max_draws = config.query_count * 100;
    std::size_t draws = 0;
    while (q.points.size() < config.query_count) {
        if (++draws > max_draws) {
            fail("only " + std::to_string(q.points.size()) + " of " + std::to_string(max_draws) +
                 " random points in GB lie within 1 km of a postcode: is this a GB index?");
        }
        const hloc::LatLon p{kMinLatDeg + rng.unit() * (kMaxLatDeg - kMinLatDeg),
                             kMinLonDeg + rng.unit() * (kMaxLonDeg - kMinLonDeg)};
        const auto hits = engine.reverse({p, 1});
        if (!hits) fail("reverse failed while drawing query points: " + hits.error().message());
        if (hits->empty() || hits->front().distance_m > kMaxSnapM) continue;
        q.points.push_back(p);
        q.postcodes.push_back(hits->front().postcode);
    }
    q.description = std::to_string(q.points.size()) + " points (seed " + std::to_string(kSeed) +
                    ", " + std::to_string(draws) + " draws, kept within 1 km of a postcode)";

    if (!config.postcodes_file.empty()) {
        std::ifstream in(config.postcodes_file);
        if (!in) fail("cannot read postcodes file '" + config.postcodes_file + "'");
        std::vector<std::string> given;
        std::size_t refused = 0;
        for (std::string line; std::getline(in, line);) {
            const auto first = line.find_first_not_of(" \t\r");
            if (first == std::string::npos || line[first] == '#') continue;
            line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
            // Only postcodes that resolve: a refused one would time an error path instead.
            if (engine.resolve(line))
                given.push_back(line);
            else
                ++refused;
        }
        if (given.empty()) fail("no postcode in '" + config.postcodes_file + "' resolves");
        q.description += "; postcodes: " + std::to_string(given.size()) + " from " +
                         config.postcodes_file + " (" + std::to_string(refused) +
                         " refused, left out)";
        q.postcodes = std::move(given);
    } else {
        q.description += "; postcodes: each point's nearest";
    }
    return q;
}

std::vector<hloc::Location> resolve_all(const hloc::Engine& engine,
                                        const std::vector<std::string>& postcodes) {
    std::vector<hloc::Location> out;
    out.reserve(postcodes.size());
    for (const auto& pc : postcodes) {
        auto loc = engine.resolve(pc);
        if (!loc) fail("query postcode '" + pc + "' does not resolve: " + loc.error().message());
        out.push_back(std::move(loc).value());
    }
    return out;
}

// The sites offering one treatment, for brute force: every distance, no index.
struct BruteForceSites {
    std::vector<std::uint32_t> site_index;  // Engine::site order (by id): the tie-break key
    std::vector<hloc::LatLon> position;
};

BruteForceSites brute_force_sites(const hloc::Engine& engine, std::string_view treatment) {
    BruteForceSites b;
    for (std::uint32_t i = 0; i < engine.site_count(); ++i) {
        const auto site = engine.site(i);
        if (std::find(site.treatments.begin(), site.treatments.end(), treatment) !=
            site.treatments.end()) {
            b.site_index.push_back(i);
            b.position.push_back(site.position);
        }
    }
    return b;
}

// A top-k: (WGS84 geodesic distance in metres, site index) pairs, nearest first.
using Ranked = std::vector<std::pair<double, std::uint32_t>>;

// The k nearest by (WGS84 geodesic distance, site index): the definition nearest() promises.
// partial_sort rather than a full sort: the same top k, and the fair baseline.
void brute_force_nearest(const BruteForceSites& sites, hloc::LatLon origin, std::uint32_t k,
                         Ranked& scratch) {
    scratch.clear();
    for (std::size_t i = 0; i < sites.position.size(); ++i) {
        scratch.emplace_back(hloc::geodesic_inverse(origin, sites.position[i]).distance_m,
                             sites.site_index[i]);
    }
    const auto top = std::min<std::size_t>(k, scratch.size());
    std::partial_sort(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(top),
                      scratch.end());
    scratch.resize(top);
}

std::string describe(const Ranked& ranked) {
    std::string s;
    char text[64];
    for (const auto& [distance_m, site] : ranked) {
        std::snprintf(text, sizeof text, " #%u@%.17g m", site, distance_m);
        s += text;
    }
    return s;
}

// The engine's top-k as (distance, site index) pairs; nullopt when it refused the query.
std::optional<Ranked> engine_ranked(const hloc::Engine& engine, std::string_view treatment,
                                    const hloc::Location& origin) {
    const auto answer = engine.nearest(top_k_query(origin, treatment));
    if (!answer) return std::nullopt;
    Ranked got;
    for (const auto& n : answer->results) got.emplace_back(n.distance_m, n.site_index);
    return got;
}

// Aborts, loudly, when for any origin the engine's top-k differs from brute force in site or
// in distance (bit for bit: both call geodesic_inverse on the same coordinates). Spread over
// all cores: at 100,000 sites each origin costs ~100,000 Vincenty solutions (~25 ms).
void check_against_brute_force(const hloc::Engine& engine, std::string_view treatment,
                               const BruteForceSites& sites,
                               std::span<const hloc::Location> origins, std::string_view what) {
    std::vector<char> agrees(origins.size(), 0);  // char, not bool: written from several threads
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        Ranked expected;
        for (std::size_t i; (i = next.fetch_add(1)) < origins.size();) {
            brute_force_nearest(sites, origins[i].position, kTopK, expected);
            agrees[i] = engine_ranked(engine, treatment, origins[i]) == expected;
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::max(1u, std::thread::hardware_concurrency()); ++t) {
        pool.emplace_back(work);
    }
    work();
    for (auto& t : pool) t.join();

    const auto bad = std::find(agrees.begin(), agrees.end(), 0);
    if (bad != agrees.end()) {
        const auto& origin = origins[static_cast<std::size_t>(bad - agrees.begin())];
        Ranked expected;
        brute_force_nearest(sites, origin.position, kTopK, expected);
        const auto got = engine_ranked(engine, treatment, origin);
        std::fprintf(stderr,
                     "\n*** EXACTNESS FAILURE (%.*s): engine and brute force disagree for '%s' at "
                     "%.9f, %.9f\n***   engine:     %s\n***   brute force:%s\n",
                     static_cast<int>(what.size()), what.data(), origin.input.c_str(),
                     origin.position.lat_deg, origin.position.lon_deg,
                     got ? describe(*got).c_str() : " (refused the query)",
                     describe(expected).c_str());
        std::abort();
    }
    std::fprintf(stderr, "hloc_bench: %.*s: engine top-%u equals brute force on %zu queries\n",
                 static_cast<int>(what.size()), what.data(), kTopK, origins.size());
}

// Times each iteration's call on its own and reports the distribution. Manual time, so that
// work around the timed call (opening an Engine to time its first reverse, say) is left out.
class Latency {
  public:
    explicit Latency(benchmark::State& state) : state_(state) {
        samples_ns_.reserve(static_cast<std::size_t>(state.max_iterations));
    }

    template <class Fn>
    void time(Fn&& fn) {
        const auto start = Clock::now();
        fn();
        const auto stop = Clock::now();
        const double ns = std::chrono::duration<double, std::nano>(stop - start).count();
        samples_ns_.push_back(ns);
        state_.SetIterationTime(ns * 1e-9);
    }

    // Nearest-rank percentiles of this run's calls.
    void report() {
        if (samples_ns_.empty()) return;
        std::sort(samples_ns_.begin(), samples_ns_.end());
        auto at = [&](double p) {
            const auto rank =
                static_cast<std::size_t>(std::ceil(p * static_cast<double>(samples_ns_.size())));
            return samples_ns_[std::clamp<std::size_t>(rank, 1, samples_ns_.size()) - 1];
        };
        state_.counters["p50_ns"] = at(0.50);
        state_.counters["p90_ns"] = at(0.90);
        state_.counters["p99_ns"] = at(0.99);
        state_.SetItemsProcessed(static_cast<std::int64_t>(samples_ns_.size()));
    }

  private:
    benchmark::State& state_;
    std::vector<double> samples_ns_;
};

// Cycles through a query set, one query per iteration.
template <class T>
class Cycle {
  public:
    explicit Cycle(std::span<const T> items) : items_(items) {}
    const T& next() {
        const T& item = items_[i_];
        if (++i_ == items_.size()) i_ = 0;
        return item;
    }

  private:
    std::span<const T> items_;
    std::size_t i_ = 0;
};

// Everything the benchmarks read, set up once before any runs.
struct Fixture {
    Config config;
    std::optional<hloc::Engine> gb;
    std::optional<hloc::Engine> synthetic;  // absent: no synthetic index given
    QuerySet queries;
    std::vector<hloc::Location> gb_origins;
    std::vector<hloc::Location> synthetic_origins;
    std::vector<std::string> any_postcodes;  // drawn from every located postcode
    BruteForceSites gb_sites;
    BruteForceSites synthetic_sites;
    std::once_flag synthetic_checked;
};

// ---- the benchmarks --------------------------------------------------------------------

void bm_clock_overhead(benchmark::State& state) {
    Latency latency(state);
    for (auto _ : state) latency.time([] {});
    latency.report();
}

// The floor under a lookup: one dependent load from a random 64-byte line of memory the size
// of the index, in 4 KiB pages as a mapping is (each load also walks the page table) or in
// transparent huge pages as a resident index is. A random cycle through every line, so the
// next address is known only when the load returns. Timed per chase of kChase loads; p50_ns is
// per load (the clock read pair spread over the chase).
void bm_dependent_load(benchmark::State& state, std::size_t bytes, bool huge_pages) {
    constexpr std::size_t kLine = 64, kChase = 256;
    const std::size_t lines = bytes / kLine;
    void* p =
        ::mmap(nullptr, lines * kLine, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        state.SkipWithError("mmap failed");
        return;
    }
    ::madvise(p, lines * kLine, huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    auto* next = static_cast<std::uint64_t*>(p);  // next[i * 8]: the line after line i
    std::vector<std::uint64_t> order(lines);
    for (std::size_t i = 0; i < lines; ++i) order[i] = i;
    hloc::bench::SplitMix64 rng(20261127);
    for (std::size_t i = lines - 1; i > 0; --i) std::swap(order[i], order[rng.next() % (i + 1)]);
    for (std::size_t i = 0; i < lines; ++i) next[order[i] * 8] = order[(i + 1) % lines] * 8;
    std::uint64_t at = 0;
    std::vector<double> per_load;
    for (auto _ : state) {
        const auto start = Clock::now();
        for (std::size_t i = 0; i < kChase; ++i) at = next[at];
        const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
        benchmark::DoNotOptimize(at);
        per_load.push_back(ns / kChase);
        state.SetIterationTime(ns * 1e-9);
    }
    // Time is per chase of kChase loads; the counters are per load.
    std::sort(per_load.begin(), per_load.end());
    if (!per_load.empty()) {
        state.counters["p50_ns"] = per_load[per_load.size() / 2];
        state.counters["loads"] = static_cast<double>(per_load.size() * kChase);
    }
    ::munmap(p, lines * kLine);
}

void bm_open(benchmark::State& state, const std::string& path, hloc::OpenOptions options) {
    Latency latency(state);
    for (auto _ : state) {
        std::optional<hloc::Engine> engine;
        latency.time([&] { engine.emplace(hloc::Engine::open(path, options)); });
        benchmark::DoNotOptimize(engine->site_count());
    }  // closing (munmap, freeing the site trees) is outside the timed call
    latency.report();
}

void bm_verify(benchmark::State& state, const hloc::Engine& engine) {
    Latency latency(state);
    for (auto _ : state) latency.time([&] { engine.verify(); });
    latency.report();
}

void bm_lookup(benchmark::State& state, const hloc::Engine& engine,
               const std::vector<std::string>& postcodes) {
    Latency latency(state);
    Cycle<std::string> queries(postcodes);
    for (auto _ : state) {
        const auto& postcode = queries.next();
        latency.time([&] {
            auto record = engine.lookup(postcode);
            benchmark::DoNotOptimize(record);
        });
    }
    latency.report();
}

// What a caller holding a postcode does: resolve it, then ask for the nearest sites.
void bm_nearest_by_postcode(benchmark::State& state, const hloc::Engine& engine,
                            std::string_view treatment, const std::vector<std::string>& postcodes) {
    Latency latency(state);
    Cycle<std::string> queries(postcodes);
    for (auto _ : state) {
        const auto& postcode = queries.next();
        latency.time([&] {
            auto origin = engine.resolve(postcode);
            auto answer = engine.nearest(top_k_query(std::move(origin).value(), treatment));
            benchmark::DoNotOptimize(answer);
        });
    }
    latency.report();
}

void bm_reverse_warm(benchmark::State& state, const hloc::Engine& engine,
                     const std::vector<hloc::LatLon>& points) {
    // The postcode KD-tree loads on the first reverse; that cost is reverse/gb/first_call's.
    if (!engine.reverse({points.front(), 1})) state.SkipWithError("reverse failed");
    Latency latency(state);
    Cycle<hloc::LatLon> queries(points);
    for (auto _ : state) {
        const auto& point = queries.next();
        latency.time([&] {
            auto hits = engine.reverse({point, 1});
            benchmark::DoNotOptimize(hits);
        });
    }
    latency.report();
}

void bm_reverse_first_call(benchmark::State& state, const std::string& path,
                           const std::vector<hloc::LatLon>& points) {
    Latency latency(state);
    Cycle<hloc::LatLon> queries(points);
    for (auto _ : state) {
        {
            const auto engine = hloc::Engine::open(path);  // untimed: open/gb times this
            const auto& point = queries.next();
            latency.time([&] {
                auto hits = engine.reverse({point, 1});
                benchmark::DoNotOptimize(hits);
            });
        }
#ifdef __GLIBC__
        // Hand the freed tree (~20 MB) back to the kernel: a new process starts without it.
        // Otherwise glibc may keep it and the next load reuses pages already faulted in, which
        // measured 3.5 ms instead of ~70 ms on a VM where a page fault costs ~12 us.
        malloc_trim(0);
#endif
    }
    latency.report();
}

void bm_engine_nearest(benchmark::State& state, const hloc::Engine& engine,
                       std::string_view treatment, std::span<const hloc::Location> origins) {
    Latency latency(state);
    Cycle<hloc::Location> queries(origins);
    for (auto _ : state) {
        // Built outside the timed call: this is nearest alone, from an origin already resolved.
        const auto query = top_k_query(queries.next(), treatment);
        latency.time([&] {
            auto answer = engine.nearest(query);
            benchmark::DoNotOptimize(answer);
        });
    }
    latency.report();
}

void bm_brute_force_nearest(benchmark::State& state, const BruteForceSites& sites,
                            std::span<const hloc::Location> origins) {
    Latency latency(state);
    Cycle<hloc::Location> queries(origins);
    Ranked ranked;
    ranked.reserve(sites.position.size());
    for (auto _ : state) {
        const auto& origin = queries.next();
        latency.time([&] {
            brute_force_nearest(sites, origin.position, kTopK, ranked);
            benchmark::DoNotOptimize(ranked.data());
        });
    }
    latency.report();
}

void register_benchmarks(Fixture& f) {
    using benchmark::RegisterBenchmark;
    auto timed = [](benchmark::internal::Benchmark* b, benchmark::TimeUnit unit) {
        b->UseManualTime()->Unit(unit);
    };
    const auto& gb = *f.gb;
    const std::string gb_path = f.config.index_file;

    timed(RegisterBenchmark("clock_overhead", bm_clock_overhead), benchmark::kNanosecond);
    const auto index_bytes = static_cast<std::size_t>(std::filesystem::file_size(gb_path));
    timed(RegisterBenchmark("memory/dependent_load/index_size/4k_pages", bm_dependent_load,
                            index_bytes, false),
          benchmark::kNanosecond);
    timed(RegisterBenchmark("memory/dependent_load/index_size/huge_pages", bm_dependent_load,
                            index_bytes, true),
          benchmark::kNanosecond);
    timed(RegisterBenchmark("open/gb", bm_open, gb_path, hloc::OpenOptions{}),
          benchmark::kMicrosecond);
    if (f.synthetic) {
        timed(RegisterBenchmark("open/synthetic_100k", bm_open, f.config.synthetic_index_file,
                                hloc::OpenOptions{}),
              benchmark::kMicrosecond);
    }
    timed(RegisterBenchmark("open_verified/gb", bm_open, gb_path,
                            hloc::OpenOptions{.verify_checksum = true}),
          benchmark::kMillisecond);
    timed(RegisterBenchmark("verify/gb", bm_verify, std::cref(gb)), benchmark::kMillisecond);
    timed(RegisterBenchmark("lookup/gb", bm_lookup, std::cref(gb), std::cref(f.queries.postcodes)),
          benchmark::kNanosecond);
    timed(RegisterBenchmark("lookup/gb_any_postcode", bm_lookup, std::cref(gb),
                            std::cref(f.any_postcodes)),
          benchmark::kNanosecond);
    timed(RegisterBenchmark("nearest_by_postcode/gb_10_sites", bm_nearest_by_postcode,
                            std::cref(gb), kTreatment, std::cref(f.queries.postcodes)),
          benchmark::kNanosecond);
    if (f.synthetic) {
        timed(RegisterBenchmark("nearest_by_postcode/synthetic_100k_sites", bm_nearest_by_postcode,
                                std::cref(*f.synthetic), kSyntheticTreatment,
                                std::cref(f.queries.postcodes)),
              benchmark::kNanosecond);
    }
    timed(RegisterBenchmark("reverse/gb/warm", bm_reverse_warm, std::cref(gb),
                            std::cref(f.queries.points)),
          benchmark::kNanosecond);
    timed(RegisterBenchmark("reverse/gb/first_call", bm_reverse_first_call, gb_path,
                            std::cref(f.queries.points)),
          benchmark::kMillisecond);

    // 10 sites: the GB check is cheap, so it runs over every query, in main.
    const std::span<const hloc::Location> gb_origins(f.gb_origins);
    timed(RegisterBenchmark("vs_brute_force/gb_10_sites/engine", bm_engine_nearest, std::cref(gb),
                            kTreatment, gb_origins),
          benchmark::kNanosecond);
    timed(RegisterBenchmark("vs_brute_force/gb_10_sites/brute_force", bm_brute_force_nearest,
                            std::cref(f.gb_sites), gb_origins),
          benchmark::kNanosecond);
    if (f.synthetic) {
        // 100,000 sites: the check costs ~25 ms a query (100,000 Vincenty solutions), so it runs
        // on the first --check-queries origins, once, and only when one of these benchmarks is
        // selected. Both sides then cycle through the whole query set: the engine's speed
        // depends on how much of its tree the cache holds, brute force's does not.
        const std::span<const hloc::Location> origins(f.synthetic_origins);
        const auto checked = origins.first(std::min(f.config.check_count, origins.size()));
        auto check = [&f, checked] {
            std::call_once(f.synthetic_checked, [&] {
                check_against_brute_force(*f.synthetic, kSyntheticTreatment, f.synthetic_sites,
                                          checked, "synthetic_100k");
            });
        };
        timed(RegisterBenchmark("vs_brute_force/synthetic_100k/engine",
                                [&f, origins, check](benchmark::State& state) {
                                    check();
                                    bm_engine_nearest(state, *f.synthetic, kSyntheticTreatment,
                                                      origins);
                                }),
              benchmark::kNanosecond);
        timed(RegisterBenchmark("vs_brute_force/synthetic_100k/brute_force",
                                [&f, origins, check](benchmark::State& state) {
                                    check();
                                    bm_brute_force_nearest(state, f.synthetic_sites, origins);
                                }),
              benchmark::kMicrosecond);
    }
}

std::string file_bytes(const std::string& path) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path, ec);
    return ec ? "?" : std::to_string(n);
}

}  // namespace

int main(int argc, char** argv) {
    // Our defaults go first so that the caller's own --benchmark_* flags, parsed later, win.
    std::string repetitions = "--benchmark_repetitions=5";
    std::string aggregates = "--benchmark_report_aggregates_only=true";
    std::vector<char*> args{argv[0], repetitions.data(), aggregates.data()};
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
    int arg_count = static_cast<int>(args.size());
    args.push_back(nullptr);
    benchmark::Initialize(&arg_count, args.data());

    Fixture f;
    f.config = read_config(arg_count, args.data());
    try {
        f.gb.emplace(hloc::Engine::open(f.config.index_file, {.verify_checksum = true}));
        if (!f.config.synthetic_index_file.empty()) {
            f.synthetic.emplace(
                hloc::Engine::open(f.config.synthetic_index_file, {.verify_checksum = true}));
        }
    } catch (const hloc::Error& e) {
        fail(e.message());
    }
    auto has_treatment = [](const hloc::Engine& engine, std::string_view name) {
        const auto all = engine.treatments();
        return std::any_of(all.begin(), all.end(), [&](const auto& t) { return t.name == name; });
    };
    if (!has_treatment(*f.gb, kTreatment)) {
        fail(f.config.index_file + " has no treatment '" + std::string(kTreatment) + "'");
    }
    if (f.synthetic && !has_treatment(*f.synthetic, kSyntheticTreatment)) {
        fail(f.config.synthetic_index_file +
             " has no treatment 'synthetic': build it with "
             "--synthetic-sites 100000");
    }

    f.queries = make_query_set(*f.gb, f.config);
    f.any_postcodes = draw_postcodes(*f.gb, kAnyPostcodeCount);
    f.gb_origins = resolve_all(*f.gb, f.queries.postcodes);
    f.gb_sites = brute_force_sites(*f.gb, kTreatment);
    check_against_brute_force(*f.gb, kTreatment, f.gb_sites, f.gb_origins, "gb_10_sites");
    if (f.synthetic) {
        f.synthetic_origins = resolve_all(*f.synthetic, f.queries.postcodes);
        f.synthetic_sites = brute_force_sites(*f.synthetic, kSyntheticTreatment);
    }

    benchmark::AddCustomContext("gb_index", f.config.index_file);
    benchmark::AddCustomContext("gb_index_bytes", file_bytes(f.config.index_file));
    benchmark::AddCustomContext("synthetic_index", f.synthetic
                                                       ? f.config.synthetic_index_file
                                                       : "(none: 100k-site benchmarks left out)");
    if (f.synthetic) {
        benchmark::AddCustomContext("synthetic_index_bytes",
                                    file_bytes(f.config.synthetic_index_file));
        benchmark::AddCustomContext(
            "check_queries",
            std::to_string(std::min(f.config.check_count, f.synthetic_origins.size())));
        benchmark::AddCustomContext("synthetic_sites",
                                    std::to_string(f.synthetic_sites.position.size()));
    }
    benchmark::AddCustomContext("queries", f.queries.description);
    benchmark::AddCustomContext("top_k", std::to_string(kTopK));
    if (!f.synthetic) {
        std::fprintf(stderr,
                     "hloc_bench: no synthetic index (--synthetic-index or "
                     "HLOC_BENCH_SYNTHETIC_INDEX): 100k-site benchmarks left out\n");
    }

    register_benchmarks(f);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
