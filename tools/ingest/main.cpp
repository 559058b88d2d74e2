// hospital-locator-build: the ingest stage. A separate executable so that query processes
// never load GDAL, PROJ or libphonenumber (a process that links GDAL takes ~40 ms just to
// start); `hospital-locator build ...` runs this program.
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <optional>

#include "build.hpp"
#include "command.hpp"
#include "hloc/error.hpp"
#include "paths.hpp"

namespace {

std::vector<hloc::ingest::ListingSpec> default_listings() {
    std::vector<hloc::ingest::ListingSpec> out;
    const auto dir = hloc::paths::source_dir() / "data" / "listings";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".txt")
            out.push_back({entry.path().stem().string(), entry.path()});
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.treatment < b.treatment; });
    return out;
}

struct Arguments {
    std::vector<std::string> listings;  // TREATMENT=FILE
    std::string sites = (hloc::paths::source_dir() / "data" / "sites.csv").string();
    std::optional<std::string> data;
    std::string onspd;
    std::string out = hloc::paths::default_index().string();
    bool skip_unmatched = false, quiet = false;
    unsigned threads = 0;
    std::uint32_t synthetic_sites = 0;
};

void add_options(CLI::App& app, Arguments& args) {
    app.add_option(
        "--listing", args.listings,
        "TREATMENT=FILE, repeatable (default: every data/listings/*.txt, treatment = file name)");
    app.add_option("--sites", args.sites, "the site directory CSV")->capture_default_str();
    app.add_option("--data", args.data, "directory holding codepo_gb.zip and the OSTN15 grid");
    app.add_option("--onspd", args.onspd,
                   "build from the ONS Postcode Directory instead of Code-Point Open: its release "
                   "zip or its UK CSV (adds Northern Ireland and terminated postcodes)")
        ->check(CLI::ExistingFile);
    app.add_option("--out", args.out, "the index file to write")->capture_default_str();
    app.add_flag("--skip-unmatched", args.skip_unmatched,
                 "skip (and report) listing blocks that match no site and have no postcode");
    app.add_option("--threads", args.threads, "worker threads (default: all cores)");
    app.add_option("--synthetic-sites", args.synthetic_sites,
                   "also add N synthetic sites at pseudo-random postcodes as treatment 'synthetic' "
                   "(for scaling benchmarks)");
    app.add_flag("--quiet", args.quiet, "no progress messages");
}

// The --listing arguments, or every data/listings/*.txt when there are none; nullopt (after
// saying why on stderr) for an argument that is not TREATMENT=FILE.
std::optional<std::vector<hloc::ingest::ListingSpec>> listing_specs(
    const std::vector<std::string>& args) {
    if (args.empty()) return default_listings();
    std::vector<hloc::ingest::ListingSpec> specs;
    for (const auto& arg : args) {
        const auto eq = arg.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
            std::cerr << "--listing expects TREATMENT=FILE, got '" << arg << "'\n";
            return std::nullopt;
        }
        specs.push_back({arg.substr(0, eq), arg.substr(eq + 1)});
    }
    return specs;
}

hloc::ingest::BuildOptions build_options(const Arguments& args,
                                         std::vector<hloc::ingest::ListingSpec> listings,
                                         const std::filesystem::path& data_dir) {
    hloc::ingest::BuildOptions options;
    options.listings = std::move(listings);
    options.sites_csv = args.sites;
    options.codepoint_zip = data_dir / hloc::paths::kCodePointZip;
    options.onspd = args.onspd;
    options.grid = data_dir / hloc::paths::kGridFile;
    options.out = args.out;
    options.skip_unmatched = args.skip_unmatched;
    options.threads = args.threads;
    options.synthetic_sites = args.synthetic_sites;
    if (!args.quiet) {
        options.log = [](const std::string& m) { std::cerr << "build: " << m << "\n"; };
    }
    return options;
}

// Library-wide state, set once here: GDAL's drivers, PROJ's search path (the data directory
// first, so the OSTN15 grid is found there), no network grid downloads (a missing grid must be
// an error, not a fetch), and GDAL's own messages kept quiet because every failure is reported
// by us with file and line.
void set_up_gdal_and_proj(const std::filesystem::path& data_dir) {
    GDALAllRegister();
    CPLSetConfigOption("PROJ_NETWORK", "OFF");
    CPLSetErrorHandler(CPLQuietErrorHandler);
    char** current = OSRGetPROJSearchPaths();
    CPLStringList search;
    search.AddString(std::filesystem::absolute(data_dir).c_str());
    for (char** p = current; p && *p; ++p) search.AddString(*p);
    CSLDestroy(current);
    OSRSetPROJSearchPaths(search.List());
}

void print_report(const std::filesystem::path& out, const hloc::ingest::BuildReport& report,
                  double seconds) {
    std::cout << "wrote " << out.string() << " (" << report.file_bytes << " bytes, checksum "
              << report.checksum << ") in " << std::fixed << std::setprecision(2) << seconds
              << " s\n"
              << "postcodes (" << report.source << "): " << report.postcodes << " from "
              << report.area_files << (report.area_files == 1 ? " file" : " area files")
              << "; located " << report.located << "; quality 90 (no coordinates, "
              << "lookup only): " << report.unlocated << "\n";
    if (report.source == "ONSPD") {
        std::cout << "terminated: " << report.terminated
                  << "; Northern Ireland (live): " << report.northern_ireland
                  << "; left out as not covered (Channel Islands, Isle of Man): "
                  << report.not_covered << "; non-geographic, left out: " << report.non_geographic
                  << "\n"
                  << std::setprecision(3)
                  << "largest distance from ONSPD's own lat/long: " << report.gb_vs_onspd_max_m
                  << " m in Great Britain, " << report.irish_vs_onspd_max_m
                  << " m in Northern Ireland (-1: no rows)\n";
    }
    std::cout << "sectors: " << report.sectors << "; districts: " << report.districts << "\n"
              << "sites: " << report.sites << "\n";
    if (report.site_lines.size() <= 50) {
        for (const auto& line : report.site_lines) std::cout << "  " << line << "\n";
    }
    for (const auto& line : report.skipped_blocks) std::cout << "skipped: " << line << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Build a hospital-locator index (.hlx) from treatment listings, the site directory, "
        "Code-Point Open (or ONSPD) and the OSTN15 grid.",
        "hospital-locator build"};
    Arguments args;
    add_options(app, args);
    return hloc::tools::run_command(app, argc, argv, [&] {
        const auto start = std::chrono::steady_clock::now();
        auto listings = listing_specs(args.listings);
        if (!listings) return 1;
        const auto data_dir = hloc::paths::data_dir(args.data, args.onspd.empty());
        const auto options = build_options(args, std::move(*listings), data_dir);
        set_up_gdal_and_proj(data_dir);
        const auto report = hloc::ingest::build_index(options);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        print_report(options.out, report, std::chrono::duration<double>(elapsed).count());
        return 0;
    });
}
