// hloc_peers: the in-process side of benchmarks/run. It writes the shared query sets and site
// lists every peer reads, and answers and times nearest queries with three implementations
// that link the same engine data, so that only the search differs:
//
//   ours    hloc::Engine::nearest (unit-vector KD-tree, re-ranked by Vincenty)
//   brute   every site's hloc::geodesic_inverse, partial sort by (distance, site index)
//   rtree   boost::geometry::index::rtree (R*-tree, 16 per node) of geographic points with
//           the geographic Vincenty strategy: its nearest() ranks by the same Vincenty
//           distance, so its answers are exact; what it costs is the point-box bounds.
//
// Commands (every output is CSV or one JSON object on stdout; see benchmarks/README.md):
//   queries  --index F --count N [--seed S] --out F     N distinct located postcodes, drawn
//            with SplitMix64 over the located rows (count >= located: all of them, in
//            order); CSV postcode,lat,lon
//   points   --index F --count N [--seed S] --out F     N reverse-geocoding points: postcode
//            centroids moved up to ~500 m by the same generator; CSV lat,lon
//   postcodes --index F --out F                         every located postcode, CSV
//   sites    --index F --treatment T --out F            id,lat,lon of the sites offering T
//   nearest  --index F --queries F --impl ours|brute|rtree [--treatment T] [--k 3]
//            [--runs 5] [--warmup 1] [--threads 1] [--out answers.csv] [--by-postcode]
//            Times the query set `runs` times after `warmup` untimed passes. --threads 1:
//            each call timed on its own (p50/p90/p99: the median over the runs of each
//            run's percentile; p50_runs_ns lists every run's p50); more: the set spread
//            over that many threads (0 = all cores), throughput only: ours through
//            nearest_batch, or with --by-postcode single calls from every thread, as a
//            service's workers make them. Origins are resolved before timing unless
//            --by-postcode (ours only: resolve + nearest per call).
//            Answers CSV: postcode,rank,site_id,metres (the last run's).
//   reverse  --index F --points F [--runs 5] [--warmup 1] [--threads 1] [--out F]   ours:
//            --threads 1 times each call on its own; more (0 = all cores) spreads single
//            reverse() calls over that many threads, throughput only
//
// Exactness is not checked here: benchmarks/report/crosscheck.py compares every peer's
// answers file with ours, so one checker serves the C++, Python and SQL peers alike.
#include <algorithm>
#include <atomic>
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "hloc/engine.hpp"
#include "hloc/geodesy.hpp"
#include "hloc/parallel.hpp"
#include "splitmix64.hpp"

namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "hloc_peers: %s\n", message.c_str());
    std::exit(2);
}

using hloc::bench::SplitMix64;

struct Args {
    std::map<std::string, std::string> values;
    std::string get(const std::string& name, const std::string& fallback = "") const {
        auto it = values.find(name);
        return it == values.end() ? fallback : it->second;
    }
    std::string need(const std::string& name) const {
        auto it = values.find(name);
        if (it == values.end()) fail("missing --" + name);
        return it->second;
    }
    std::uint64_t number(const std::string& name, std::uint64_t fallback) const {
        auto it = values.find(name);
        if (it == values.end()) return fallback;
        char* end = nullptr;
        const auto n = std::strtoull(it->second.c_str(), &end, 10);
        if (it->second.empty() || *end != '\0') fail("--" + name + " must be a whole number");
        return n;
    }
    bool flag(const std::string& name) const { return values.count(name) != 0; }
};

Args parse_args(int argc, char** argv, int first) {
    Args a;
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        if (!arg.starts_with("--")) fail("unexpected argument '" + arg + "'");
        arg = arg.substr(2);
        if (arg == "by-postcode") {
            a.values[arg] = "1";
        } else if (i + 1 < argc) {
            a.values[arg] = argv[++i];
        } else {
            fail("--" + arg + " needs a value");
        }
    }
    return a;
}

std::ofstream open_out(const std::string& path) {
    std::ofstream out(path);
    if (!out) fail("cannot write '" + path + "'");
    out.precision(17);
    return out;
}

// CSV with a header line; fields split on commas (our files never quote).
std::vector<std::vector<std::string>> read_csv(const std::string& path) {
    std::ifstream in(path);
    if (!in) fail("cannot read '" + path + "'");
    std::vector<std::vector<std::string>> rows;
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        std::vector<std::string> fields;
        std::stringstream ss(line);
        for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
        rows.push_back(std::move(fields));
    }
    return rows;
}

int cmd_queries(const Args& a, bool points) {
    const auto engine = hloc::Engine::open(a.need("index"));
    const auto count = a.number("count", 1000);
    SplitMix64 rng(a.number("seed", 0x686c6f632d62656eULL));
    auto out = open_out(a.need("out"));
    const std::uint32_t located = engine.located_count();
    // Distinct rows: a partial Fisher-Yates shuffle, so that no postcode is asked twice (an
    // answers file is keyed by postcode) and the sample is the same on every machine.
    std::vector<std::uint32_t> rows(located);
    for (std::uint32_t i = 0; i < located; ++i) rows[i] = i;
    const auto n = std::min<std::uint64_t>(count, located);
    if (n < located) {
        for (std::uint64_t i = 0; i < n; ++i) {
            const auto j = i + rng.next() % (located - i);
            std::swap(rows[i], rows[j]);
        }
    }
    out << (points ? "lat,lon\n" : "postcode,lat,lon\n");
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto pc = engine.located_postcode(rows[i]);
        if (points) {
            // Up to ~500 m in latitude and longitude: a point near, not on, a postcode.
            const double dlat = (rng.unit() - 0.5) * 0.009;
            const double dlon = (rng.unit() - 0.5) * 0.015;
            out << pc.position.lat_deg + dlat << ',' << pc.position.lon_deg + dlon << '\n';
        } else {
            out << pc.postcode << ',' << pc.position.lat_deg << ',' << pc.position.lon_deg << '\n';
        }
    }
    return 0;
}

int cmd_postcodes(const Args& a) {
    const auto engine = hloc::Engine::open(a.need("index"));
    auto out = open_out(a.need("out"));
    out << "postcode,lat,lon\n";
    for (std::uint32_t row = 0; row < engine.located_count(); ++row) {
        const auto pc = engine.located_postcode(row);
        out << pc.postcode << ',' << pc.position.lat_deg << ',' << pc.position.lon_deg << '\n';
    }
    return 0;
}

struct Site {
    std::uint32_t index;  // Engine::site order, which is id order: the tie-break key
    std::string id;
    hloc::LatLon position;
};

std::vector<Site> treatment_sites(const hloc::Engine& engine, std::string_view treatment) {
    std::vector<Site> sites;
    for (std::uint32_t i = 0; i < engine.site_count(); ++i) {
        const auto s = engine.site(i);
        if (std::find(s.treatments.begin(), s.treatments.end(), treatment) != s.treatments.end())
            sites.push_back({i, std::string(s.id), s.position});
    }
    if (sites.empty()) fail("no site offers treatment '" + std::string(treatment) + "'");
    return sites;
}

int cmd_sites(const Args& a) {
    const auto engine = hloc::Engine::open(a.need("index"));
    auto out = open_out(a.need("out"));
    out << "id,lat,lon\n";
    for (const auto& s : treatment_sites(engine, a.need("treatment"))) {
        out << s.id << ',' << s.position.lat_deg << ',' << s.position.lon_deg << '\n';
    }
    return 0;
}

// One answer: (distance, site index) pairs, nearest first.
using Ranked = std::vector<std::pair<double, std::uint32_t>>;

class Brute {
  public:
    explicit Brute(const std::vector<Site>& sites) : sites_(sites) {}
    void nearest(hloc::LatLon origin, std::uint32_t k, Ranked& out) const {
        out.clear();
        for (const auto& s : sites_) {
            out.emplace_back(hloc::geodesic_inverse(origin, s.position).distance_m, s.index);
        }
        const auto top = std::min<std::size_t>(k, out.size());
        std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(top), out.end());
        out.resize(top);
    }

  private:
    const std::vector<Site>& sites_;
};

class RTree {
  public:
    using Point = bg::model::point<double, 2, bg::cs::geographic<bg::degree>>;
    using Value = std::pair<Point, std::uint32_t>;
    // Vincenty throughout (point-point and point-box), on Boost's default WGS84 spheroid.
    using Strategy = bg::strategy::index::geographic<bg::strategy::vincenty>;
    using Tree = bgi::rtree<Value, bgi::parameters<bgi::rstar<16>, Strategy>>;

    explicit RTree(const std::vector<Site>& sites) {
        std::vector<Value> values;
        for (const auto& s : sites) {
            values.emplace_back(Point(s.position.lon_deg, s.position.lat_deg), s.index);
        }
        tree_ = Tree(values.begin(), values.end());  // packing (STR) constructor
    }
    void nearest(hloc::LatLon origin, std::uint32_t k, Ranked& out) const {
        const Point p(origin.lon_deg, origin.lat_deg);
        // The tree returns m nearest, unordered, and breaks ties at the m-th arbitrarily: ask
        // for one more than k, and again for twice as many while the last one ties with the
        // k-th, so that ties are broken by site id as ours are (sites sharing a postcode are
        // common at 100k sites).
        for (std::uint32_t m = k + 1;; m *= 2) {
            out.clear();
            found_.clear();
            tree_.query(bgi::nearest(p, m), std::back_inserter(found_));
            // Distances by the engine's Vincenty, so that they compare bit for bit.
            for (const auto& v : found_) {
                const hloc::LatLon to{bg::get<1>(v.first), bg::get<0>(v.first)};
                out.emplace_back(hloc::geodesic_inverse(origin, to).distance_m, v.second);
            }
            std::sort(out.begin(), out.end());
            if (out.size() < m || out[m - 1].first > out[k - 1].first) break;
        }
        if (out.size() > k) out.resize(k);
    }

  private:
    Tree tree_;
    static thread_local std::vector<Value> found_;
};
thread_local std::vector<RTree::Value> RTree::found_;

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

void print_json_numbers(const char* name, const std::vector<double>& v) {
    std::printf("\"%s\": [", name);
    for (std::size_t i = 0; i < v.size(); ++i) std::printf(i ? ", %.9g" : "%.9g", v[i]);
    std::printf("]");
}

int cmd_nearest(const Args& a) {
    const auto engine = hloc::Engine::open(a.need("index"), {.preload_reverse = false});
    const std::string impl = a.need("impl");
    const std::string treatment = a.get("treatment", "kyphoplasty");
    const auto k = static_cast<std::uint32_t>(a.number("k", 3));
    const auto runs = a.number("runs", 5);
    const auto warmup = a.number("warmup", 1);
    auto threads = static_cast<unsigned>(a.number("threads", 1));
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    const bool by_postcode = a.flag("by-postcode");
    if (by_postcode && impl != "ours") fail("--by-postcode is for --impl ours");

    const auto rows = read_csv(a.need("queries"));
    std::vector<std::string> postcodes;
    std::vector<hloc::Location> origins;
    for (const auto& r : rows) {
        auto loc = engine.resolve(r.at(0));
        if (!loc) fail("query '" + r.at(0) + "' does not resolve: " + loc.error().message());
        postcodes.push_back(r.at(0));
        origins.push_back(std::move(loc).value());
    }
    const auto sites = treatment_sites(engine, treatment);
    const auto build_start = Clock::now();
    std::optional<Brute> brute;
    std::optional<RTree> rtree;
    if (impl == "brute")
        brute.emplace(sites);
    else if (impl == "rtree")
        rtree.emplace(sites);
    else if (impl != "ours")
        fail("--impl must be ours, brute or rtree");
    const double build_s = std::chrono::duration<double>(Clock::now() - build_start).count();

    const std::size_t n = origins.size();
    std::vector<Ranked> answers(n);
    auto answer_one = [&](std::size_t i, Ranked& out) {
        if (impl == "ours") {
            hloc::NearestQuery q;
            if (by_postcode) {
                auto loc = engine.resolve(postcodes[i]);
                q.origin = std::move(loc).value();
            } else {
                q.origin = origins[i];
            }
            q.treatment = treatment;
            q.k = k;
            auto r = engine.nearest(q);
            if (!r) fail("nearest failed for '" + postcodes[i] + "': " + r.error().message());
            out.clear();
            for (const auto& nb : r->results) out.emplace_back(nb.distance_m, nb.site_index);
        } else if (brute) {
            brute->nearest(origins[i].position, k, out);
        } else {
            rtree->nearest(origins[i].position, k, out);
        }
    };

    // The engine's batch call takes its queries and answer slots ready-made: built once,
    // outside the timed runs, as a caller reusing its buffers would.
    std::vector<hloc::NearestQuery> batch_in;
    std::vector<hloc::Result<hloc::NearestAnswer>> batch_out;
    const bool batch_call = threads != 1 && impl == "ours" && !by_postcode;
    if (batch_call) {
        batch_in.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            batch_in[i].origin = origins[i];
            batch_in[i].treatment = treatment;
            batch_in[i].k = k;
        }
        batch_out.assign(n, hloc::Result<hloc::NearestAnswer>(hloc::NearestAnswer{}));
    }
    std::vector<double> run_s;
    std::vector<double> latencies_ns;
    std::vector<double> p50_runs_ns, p90_runs_ns, p99_runs_ns;  // per timed run
    for (std::uint64_t run = 0; run < warmup + runs; ++run) {
        const bool timed = run >= warmup;
        const auto start = Clock::now();
        if (threads == 1) {
            latencies_ns.assign(n, 0);
            for (std::size_t i = 0; i < n; ++i) {
                const auto t0 = Clock::now();
                answer_one(i, answers[i]);
                latencies_ns[i] =
                    std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
            }
            if (timed) {
                p50_runs_ns.push_back(percentile(latencies_ns, 0.5));
                p90_runs_ns.push_back(percentile(latencies_ns, 0.9));
                p99_runs_ns.push_back(percentile(latencies_ns, 0.99));
            }
        } else if (batch_call) {
            // The engine's own parallel batch call, as a C++ user would write it.
            engine.nearest_batch(batch_in, batch_out, threads);
        } else {
            std::atomic<std::size_t> next{0};
            auto work = [&] {
                for (std::size_t i; (i = next.fetch_add(64)) < n;) {
                    for (std::size_t j = i; j < std::min(n, i + 64); ++j) answer_one(j, answers[j]);
                }
            };
            std::vector<std::thread> pool;
            for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
            work();
            for (auto& t : pool) t.join();
        }
        const double s = std::chrono::duration<double>(Clock::now() - start).count();
        if (timed) run_s.push_back(s);
    }
    if (!batch_out.empty()) {
        for (std::size_t i = 0; i < n; ++i) {
            if (!batch_out[i]) fail("nearest_batch failed for '" + postcodes[i] + "'");
            answers[i].clear();
            for (const auto& nb : batch_out[i]->results)
                answers[i].emplace_back(nb.distance_m, nb.site_index);
        }
    }

    if (const auto path = a.get("out"); !path.empty()) {
        auto out = open_out(path);
        out << "postcode,rank,site_id,metres\n";
        char metres[32];
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t r = 0; r < answers[i].size(); ++r) {
                std::snprintf(metres, sizeof metres, "%.4f", answers[i][r].first);
                out << postcodes[i] << ',' << r + 1 << ',' << engine.site(answers[i][r].second).id
                    << ',' << metres << '\n';
            }
        }
    }
    std::printf("{\"impl\": \"%s\", \"queries\": %zu, \"sites\": %zu, \"threads\": %u, ",
                impl.c_str(), n, sites.size(), threads);
    std::printf("\"by_postcode\": %s, \"build_s\": %.9g, ", by_postcode ? "true" : "false",
                build_s);
    print_json_numbers("run_s", run_s);
    if (!p50_runs_ns.empty()) {
        // Each percentile is the median over the timed runs of that run's percentile.
        std::printf(", \"p50_ns\": %.9g, \"p90_ns\": %.9g, \"p99_ns\": %.9g, ",
                    percentile(p50_runs_ns, 0.5), percentile(p90_runs_ns, 0.5),
                    percentile(p99_runs_ns, 0.5));
        print_json_numbers("p50_runs_ns", p50_runs_ns);
    }
    std::printf("}\n");
    return 0;
}

int cmd_reverse(const Args& a) {
    const auto engine = hloc::Engine::open(a.need("index"), {.preload_reverse = true});
    const auto rows = read_csv(a.need("points"));
    const auto runs = a.number("runs", 5);
    const auto warmup = a.number("warmup", 1);
    const auto threads = hloc::worker_count(static_cast<unsigned>(a.number("threads", 1)));
    std::vector<hloc::LatLon> points;
    for (const auto& r : rows) points.push_back({std::stod(r.at(0)), std::stod(r.at(1))});
    std::vector<std::string> found(points.size());
    std::vector<double> found_m(points.size());
    std::vector<double> run_s, latencies_ns(points.size());
    std::atomic<bool> failed{false};
    const auto answer = [&](std::size_t i) {
        auto hits = engine.reverse({points[i], 1});
        if (!hits || hits->empty()) {
            failed = true;
            return;
        }
        found[i] = hits->front().postcode;
        found_m[i] = hits->front().distance_m;
    };
    for (std::uint64_t run = 0; run < warmup + runs; ++run) {
        const auto start = Clock::now();
        if (threads == 1) {  // each call timed on its own
            for (std::size_t i = 0; i < points.size(); ++i) {
                const auto t0 = Clock::now();
                answer(i);
                latencies_ns[i] =
                    std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
            }
        } else {  // single calls from every thread, as a service's workers make them
            hloc::parallel_for(points.size(), threads, 256,
                               [&](std::size_t begin, std::size_t end) {
                                   for (std::size_t i = begin; i < end; ++i) answer(i);
                               });
        }
        if (failed) fail("reverse failed");
        if (run >= warmup)
            run_s.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    if (const auto path = a.get("out"); !path.empty()) {
        auto out = open_out(path);
        out << "point,postcode,metres\n";
        char metres[32];
        for (std::size_t i = 0; i < points.size(); ++i) {
            std::snprintf(metres, sizeof metres, "%.4f", found_m[i]);
            out << i << ',' << found[i] << ',' << metres << '\n';
        }
    }
    std::printf("{\"impl\": \"ours\", \"queries\": %zu, \"threads\": %u, ", points.size(), threads);
    print_json_numbers("run_s", run_s);
    if (threads == 1) {
        std::printf(", \"p50_ns\": %.9g, \"p90_ns\": %.9g, \"p99_ns\": %.9g",
                    percentile(latencies_ns, 0.5), percentile(latencies_ns, 0.9),
                    percentile(latencies_ns, 0.99));
    }
    std::printf("}\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) fail("usage: hloc_peers queries|points|postcodes|sites|nearest|reverse --...");
    const std::string cmd = argv[1];
    const auto args = parse_args(argc, argv, 2);
    try {
        if (cmd == "queries") return cmd_queries(args, false);
        if (cmd == "points") return cmd_queries(args, true);
        if (cmd == "postcodes") return cmd_postcodes(args);
        if (cmd == "sites") return cmd_sites(args);
        if (cmd == "nearest") return cmd_nearest(args);
        if (cmd == "reverse") return cmd_reverse(args);
    } catch (const hloc::Error& e) {
        fail(e.message());
    }
    fail("unknown command '" + cmd + "'");
}
