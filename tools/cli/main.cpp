// hospital-locator: the command line over the engine. Parse, call the engine, format.
//
// Exit codes: 0 ok, 1 usage, 2 input or data error (the DESIGN.md error object on stderr).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "../common/csv_format.hpp"
#include "../common/json_format.hpp"
#include "../common/paths.hpp"
#include "hloc/engine.hpp"
#include "hloc/geodesy.hpp"
#include "table.hpp"

namespace {

using hloc::Error;
using hloc::ErrorCode;

// `build`, `batch`, `map` and `serve` live in their own executables beside this one
// (tools/build, tools/batch, tools/serve): they link GDAL, cairo or Beast, which a one-shot
// query should not have to load. The command word is dropped; every other argument passes on.
int run_tool(int argc, char** argv, int command_at) {
    const std::string command = argv[command_at];
    char self[4096];
    const auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        std::cerr << "cannot find this program's directory to run hospital-locator-" << command << "\n";
        return 1;
    }
    self[n] = '\0';
    const std::string tool =
        (std::filesystem::path(self).parent_path() / ("hospital-locator-" + command)).string();
    std::vector<char*> args;
    std::string name = "hospital-locator " + command;
    args.push_back(name.data());
    for (int i = 0; i < argc; ++i) {
        if (i == 0 || i == command_at) continue;
        args.push_back(argv[i]);
    }
    args.push_back(nullptr);
    ::execv(tool.c_str(), args.data());
    std::cerr << "cannot run " << tool << ": " << std::strerror(errno) << "\n";
    return 1;
}

int fail(const Error& e) {
    std::cerr << hloc::api::error_json(e).dump() << "\n";
    return 2;
}

std::uint32_t checked_k(int k) {
    if (k < 1 || k > static_cast<int>(hloc::kMaxK)) {
        throw Error(ErrorCode::invalid_parameter, "k must be between 1 and " + std::to_string(hloc::kMaxK) +
                                                      " (got " + std::to_string(k) + ")");
    }
    return static_cast<std::uint32_t>(k);
}

template <class T>
T unwrap(hloc::Result<T> r) {
    if (!r) throw r.error();
    return std::move(r).value();
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "build" || arg == "batch" || arg == "map" || arg == "serve") return run_tool(argc, argv, i);
        if (!arg.starts_with("-")) break;  // the first positional word is the subcommand
        if (arg == "--index" || arg == "--format" || arg == "--data") ++i;
    }

    CLI::App app{"Which hospitals offering a treatment are nearest to a UK postcode, how far, and "
                 "what number to ring.",
                 "hospital-locator"};
    app.require_subcommand(1);
    std::string index_file = hloc::paths::default_index().string();
    std::string format = "table";
    // The common options, accepted before or after the subcommand.
    auto common = [&](CLI::App* a) {
        a->add_option("--index", index_file, "the index file (.hlx)")->capture_default_str();
        a->add_option("--format", format, "output: table (for people), json or csv (for programs)")
            ->check(CLI::IsMember({"table", "json", "csv"}))
            ->capture_default_str();
    };
    common(&app);
    app.add_subcommand("build", "build an index from the listings and datasets (see build --help)");
    app.add_subcommand("batch", "nearest sites for every row of a file, with a summary and a map (see batch --help)");
    app.add_subcommand("map", "draw the catchments of the whole index (see map --help)");
    app.add_subcommand("serve", "answer queries over HTTP (see serve --help)");

    auto* nearest = app.add_subcommand("nearest", "the nearest sites offering a treatment");
    std::vector<std::string> query_words;  // "CH4 7QP" may come as two words
    std::optional<double> lat, lon, max_miles, max_km;
    int k = 3;
    std::string treatment;
    nearest->add_option("query", query_words, "postcode, sector (\"CM15 8\") or outward code (\"CM15\")");
    nearest->add_option("--lat", lat, "latitude, WGS84 degrees (with --lon, instead of a postcode)");
    nearest->add_option("--lon", lon, "longitude, WGS84 degrees");
    nearest->add_option("-k,--k", k, "how many sites")->capture_default_str();
    nearest->add_option("--treatment", treatment, "treatment (default: the index's only one)");
    auto* miles_opt = nearest->add_option("--max-miles", max_miles, "leave out sites farther than this");
    nearest->add_option("--max-km", max_km, "leave out sites farther than this")->excludes(miles_opt);

    auto* lookup = app.add_subcommand("lookup", "a postcode's position, grid reference and quality");
    std::vector<std::string> lookup_words;
    lookup->add_option("postcode", lookup_words, "postcode, sector or outward code")->required();

    auto* reverse = app.add_subcommand("reverse", "the nearest postcodes to a point");
    double rlat = 0, rlon = 0;
    int rk = 1;
    reverse->add_option("--lat", rlat, "latitude, WGS84 degrees")->required();
    reverse->add_option("--lon", rlon, "longitude, WGS84 degrees")->required();
    reverse->add_option("-k,--k", rk, "how many postcodes")->capture_default_str();

    auto* info = app.add_subcommand("info", "what an index holds: sources, counts, checksum");
    bool verify = false;
    info->add_flag("--verify", verify, "also recompute the payload checksum");
    auto* sites = app.add_subcommand("sites", "the sites in the index");
    auto* treatments = app.add_subcommand("treatments", "the treatments in the index");
    for (auto* sub : {nearest, lookup, reverse, info, sites, treatments}) common(sub);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return e.get_exit_code() == 0 ? 0 : 1;
    }

    auto join = [](const std::vector<std::string>& words) {
        std::string s;
        for (const auto& w : words) {
            if (!s.empty()) s += ' ';
            s += w;
        }
        return s;
    };
    const std::string query = join(query_words);
    const std::string lookup_query = join(lookup_words);

    try {
        const auto engine = hloc::Engine::open(index_file, {.verify_checksum = verify});
        if (*nearest) {
            hloc::NearestQuery q;
            if (!query.empty()) {
                if (lat || lon) throw Error(ErrorCode::invalid_parameter, "give a postcode or --lat/--lon, not both");
                q.origin = unwrap(engine.resolve(query));
            } else if (lat && lon) {
                q.origin = unwrap(engine.locate_point({*lat, *lon}));
            } else {
                std::cerr << "nearest needs a postcode, or --lat and --lon\n" << nearest->help();
                return 1;
            }
            q.k = checked_k(k);
            q.treatment = treatment;
            if (max_miles) q.max_distance_m = *max_miles * hloc::kMetresPerMile;
            if (max_km) q.max_distance_m = *max_km * 1000.0;
            const auto answer = unwrap(engine.nearest(q));
            if (format == "json") std::cout << hloc::api::nearest_json(engine, answer).dump(2) << "\n";
            else if (format == "csv") {
                std::cout << hloc::api::csv_line(hloc::api::nearest_csv_columns(q.k))
                          << hloc::api::csv_line(hloc::api::nearest_csv_row(engine, answer, q.k));
            } else std::cout << hloc::cli::nearest_table(engine, answer);
        } else if (*lookup) {
            const auto record = unwrap(engine.lookup(lookup_query));
            if (format == "json") std::cout << hloc::api::lookup_json(record, lookup_query).dump(2) << "\n";
            else if (format == "csv") {
                std::cout << "postcode,match,lat,lon,eastings,northings,quality,country\n"
                          << hloc::api::csv_line(
                                 {record.postcode, std::string(hloc::match_level_name(record.match)),
                                  record.located ? hloc::api::format_fixed(record.position.lat_deg, 7) : "",
                                  record.located ? hloc::api::format_fixed(record.position.lon_deg, 7) : "",
                                  record.located ? hloc::api::format_fixed(record.eastings_m, 1) : "",
                                  record.located ? hloc::api::format_fixed(record.northings_m, 1) : "",
                                  std::to_string(record.quality), record.country});
            } else std::cout << hloc::cli::lookup_table(record);
        } else if (*reverse) {
            const hloc::LatLon point{rlat, rlon};
            const auto hits = unwrap(engine.reverse({point, checked_k(rk)}));
            if (format == "json") std::cout << hloc::api::reverse_json(point, hits).dump(2) << "\n";
            else if (format == "csv") {
                std::cout << "rank,postcode,lat,lon,metres\n";
                int rank = 0;
                for (const auto& h : hits) {
                    std::cout << hloc::api::csv_line({std::to_string(++rank), h.postcode,
                                                      hloc::api::format_fixed(h.position.lat_deg, 7),
                                                      hloc::api::format_fixed(h.position.lon_deg, 7),
                                                      hloc::api::format_fixed(h.distance_m, 3)});
                }
            } else std::cout << hloc::cli::reverse_table(point, hits);
        } else if (*info) {
            if (format == "json") std::cout << hloc::api::info_json(engine.info()).dump(2) << "\n";
            else std::cout << hloc::cli::info_table(engine.info()) << (verify ? "checksum verified\n" : "");
        } else if (*sites) {
            if (format == "json") {
                auto out = hloc::api::Json::array();
                for (const auto& s : engine.sites()) out.push_back(hloc::api::site_json(s));
                std::cout << out.dump(2) << "\n";
            } else std::cout << hloc::cli::sites_table(engine.sites());
        } else if (*treatments) {
            if (format == "json") std::cout << hloc::api::treatments_json(engine.treatments()).dump(2) << "\n";
            else for (const auto& t : engine.treatments()) std::cout << t.name << "\t" << t.site_count << " sites\n";
        }
        return 0;
    } catch (const Error& e) {
        return fail(e);
    } catch (const std::exception& e) {
        return fail(Error(ErrorCode::internal, e.what()));
    }
}
