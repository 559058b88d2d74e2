// hospital-locator: the command line over the engine. Each query command reads as: parse the
// arguments into the contract's request -> contract validation -> engine -> contract writer.
//
// Exit codes: 0 ok, 1 usage, 2 input or data error (the DESIGN.md error object on stderr).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "command.hpp"
#include "hloc/contract/csv_writer.hpp"
#include "hloc/contract/json_writer.hpp"
#include "hloc/contract/request.hpp"
#include "hloc/engine.hpp"
#include "paths.hpp"
#include "table.hpp"

namespace {

using hloc::Error;
using hloc::ErrorCode;
namespace contract = hloc::contract;

// `build`, `batch`, `map` and `serve` live in their own executables beside this one
// (tools/ingest, tools/batch, tools/serve): they link GDAL, cairo or Beast, which a one-shot
// query should not have to load. The command word is dropped; every other argument passes on.
int run_tool(int argc, char** argv, int command_at) {
    const std::string command = argv[command_at];
    char self[4096];
    const auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        std::cerr << "cannot find this program's directory to run hospital-locator-" << command
                  << "\n";
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

template <class T>
T unwrap(hloc::Result<T> r) {
    if (!r) throw r.error();
    return std::move(r).value();
}

// Numbers stay text until the contract reads them, so `-k 2.5` and `-k 1e30` get the
// contract's message, as in every other shell, not the argument parser's.
std::optional<double> number(std::string_view name, const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    return unwrap(contract::parse_number(name, *text));
}

std::string join(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) {
        if (!s.empty()) s += ' ';
        s += w;
    }
    return s;
}

struct Args {
    std::string index_file = hloc::paths::default_index().string();
    std::string format = "table";
    // nearest
    std::vector<std::string> query_words;  // "CH4 7QP" may come as two words
    std::optional<std::string> lat, lon, k, max_miles, max_km;
    std::string treatment;
    // lookup
    std::vector<std::string> lookup_words;
    // reverse
    std::optional<std::string> rlat, rlon, limit;
    bool verify = false;
};

void print(const std::string& format, const std::string& json_text, const std::string& csv_text,
           const std::string& table_text) {
    if (format == "json")
        std::cout << json_text << "\n";
    else if (format == "csv" && !csv_text.empty())
        std::cout << csv_text;
    else
        std::cout << table_text;
}

int run_nearest(const hloc::Engine& engine, const Args& a, bool postcode_given) {
    contract::NearestRequest request;
    if (postcode_given) request.postcode = join(a.query_words);
    request.lat = number("lat", a.lat);
    request.lon = number("lon", a.lon);
    request.k = number("k", a.k);
    request.max_miles = number("max_miles", a.max_miles);
    request.max_km = number("max_km", a.max_km);
    request.treatment = a.treatment;
    const auto query = unwrap(contract::validate(engine, request));
    const auto answer = unwrap(engine.nearest(query));
    if (a.format == "json") {
        std::cout << contract::pretty(contract::JsonWriter(engine).nearest(answer)) << "\n";
    } else if (a.format == "csv") {
        const contract::NearestRow row(engine, query.k);
        std::string line;
        row.append_csv(line, answer);
        std::cout << contract::csv_line(row.columns()) << line.substr(1) << "\n";
    } else {
        std::cout << hloc::cli::nearest_table(engine, answer);
    }
    return 0;
}

int run_reverse(const hloc::Engine& engine, const Args& a) {
    contract::ReverseRequest request;
    request.lat = number("lat", a.rlat);
    request.lon = number("lon", a.rlon);
    request.limit = number("limit", a.limit);
    const auto query = unwrap(contract::validate(engine, request));
    const auto hits = unwrap(engine.reverse(query));
    print(a.format, contract::to_pretty_text(contract::reverse_json(query.point, hits)),
          contract::reverse_csv(hits), hloc::cli::reverse_table(query.point, hits));
    return 0;
}

int run_listing(const hloc::Engine& engine, const Args& a, CLI::App* info, CLI::App* sites) {
    if (*info) {
        const auto index_info = engine.info();
        print(a.format, contract::to_pretty_text(contract::info_json(index_info)), "",
              hloc::cli::info_table(index_info) + (a.verify ? "checksum verified\n" : ""));
    } else if (*sites) {
        print(a.format, contract::pretty(contract::JsonWriter(engine).sites()), "",
              hloc::cli::sites_table(engine.sites()));
    } else {
        std::string table;
        for (const auto& t : engine.treatments()) {
            table += std::string(t.name) + "\t" + std::to_string(t.site_count) + " sites\n";
        }
        print(a.format, contract::to_pretty_text(contract::treatments_json(engine.treatments())),
              "", table);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "build" || arg == "batch" || arg == "map" || arg == "serve")
            return run_tool(argc, argv, i);
        if (!arg.starts_with("-")) break;  // the first positional word is the subcommand
        if (arg == "--index" || arg == "--format" || arg == "--data") ++i;
    }

    CLI::App app{
        "Which hospitals offering a treatment are nearest to a UK postcode, how far, and "
        "what number to ring.",
        "hospital-locator"};
    app.require_subcommand(1);
    Args a;
    // The common options, accepted before or after the subcommand.
    auto common = [&](CLI::App* sub) {
        sub->add_option("--index", a.index_file, "the index file (.hlx)")->capture_default_str();
        sub->add_option("--format", a.format,
                        "output: table (for people), json or csv (for programs)")
            ->check(CLI::IsMember({"table", "json", "csv"}))
            ->capture_default_str();
    };
    common(&app);
    app.add_subcommand("build", "build an index from the listings and datasets (see build --help)");
    app.add_subcommand(
        "batch",
        "nearest sites for every row of a file, with a summary and a map (see batch --help)");
    app.add_subcommand("map", "draw the catchments of the whole index (see map --help)");
    app.add_subcommand("serve", "answer queries over HTTP (see serve --help)");

    auto* nearest = app.add_subcommand("nearest", "the nearest sites offering a treatment");
    auto* query_opt = nearest->add_option(
        "query", a.query_words, "postcode, sector (\"CM15 8\") or outward code (\"CM15\")");
    nearest->add_option("--lat", a.lat,
                        "latitude, WGS84 degrees (with --lon, instead of a postcode)");
    nearest->add_option("--lon", a.lon, "longitude, WGS84 degrees");
    nearest->add_option("-k,--k", a.k, "how many sites (default 3)");
    nearest->add_option("--treatment", a.treatment, "treatment (default: the index's only one)");
    nearest->add_option("--max-miles", a.max_miles, "leave out sites farther than this");
    nearest->add_option("--max-km", a.max_km, "leave out sites farther than this");

    auto* lookup =
        app.add_subcommand("lookup", "a postcode's position, grid reference and quality");
    lookup->add_option("postcode", a.lookup_words, "postcode, sector or outward code")->required();

    auto* reverse = app.add_subcommand("reverse", "the nearest postcodes to a point");
    reverse->add_option("--lat", a.rlat, "latitude, WGS84 degrees")->required();
    reverse->add_option("--lon", a.rlon, "longitude, WGS84 degrees")->required();
    reverse->add_option("-k,--k,--limit", a.limit, "how many postcodes (default 1)");

    auto* info = app.add_subcommand("info", "what an index holds: sources, counts, checksum");
    info->add_flag("--verify", a.verify, "also recompute the payload checksum");
    auto* sites = app.add_subcommand("sites", "the sites in the index, with their phones");
    auto* treatments = app.add_subcommand("treatments", "the treatments in the index");
    for (auto* sub : {nearest, lookup, reverse, info, sites, treatments}) common(sub);

    return hloc::tools::run_command(app, argc, argv, [&] {
        const auto engine = hloc::Engine::open(a.index_file, {.verify_checksum = a.verify});
        if (*nearest) return run_nearest(engine, a, query_opt->count() > 0);
        if (*reverse) return run_reverse(engine, a);
        if (*lookup) {
            const auto text = join(a.lookup_words);
            const auto record = unwrap(engine.lookup(text));
            print(a.format, contract::to_pretty_text(contract::lookup_json(record, text)),
                  contract::lookup_csv(record), hloc::cli::lookup_table(record));
            return 0;
        }
        return run_listing(engine, a, info, sites);
    });
}
