// hospital-locator-build: the ingest stage. A separate executable so that query processes
// never load GDAL, PROJ or libphonenumber (a process that links GDAL takes ~40 ms just to
// start); `hospital-locator build ...` runs this program.
#include <CLI/CLI.hpp>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "build.hpp"
#include "hloc/error.hpp"
#include "../common/json_format.hpp"
#include "../common/paths.hpp"

namespace {

std::vector<hloc::ingest::ListingSpec> default_listings() {
    std::vector<hloc::ingest::ListingSpec> out;
    const auto dir = hloc::paths::source_dir() / "data" / "listings";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".txt") out.push_back({entry.path().stem().string(), entry.path()});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.treatment < b.treatment; });
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Build a hospital-locator index (.hlx) from treatment listings, the site directory, "
                 "Code-Point Open and the OSTN15 grid.",
                 "hospital-locator build"};
    std::vector<std::string> listing_args;
    std::string sites = (hloc::paths::source_dir() / "data" / "sites.csv").string();
    std::optional<std::string> data;
    std::string out = hloc::paths::default_index().string();
    bool skip_unmatched = false, quiet = false;
    unsigned threads = 0;
    std::uint32_t synthetic = 0;
    app.add_option("--listing", listing_args,
                   "TREATMENT=FILE, repeatable (default: every data/listings/*.txt, treatment = file name)");
    app.add_option("--sites", sites, "the site directory CSV")->capture_default_str();
    app.add_option("--data", data, "directory holding codepo_gb.zip and the OSTN15 grid");
    app.add_option("--out", out, "the index file to write")->capture_default_str();
    app.add_flag("--skip-unmatched", skip_unmatched,
                 "skip (and report) listing blocks that match no site and have no postcode");
    app.add_option("--threads", threads, "worker threads (default: all cores)");
    app.add_option("--synthetic-sites", synthetic,
                   "also add N synthetic sites at pseudo-random postcodes as treatment 'synthetic' "
                   "(for scaling benchmarks)");
    app.add_flag("--quiet", quiet, "no progress messages");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return e.get_exit_code() == 0 ? 0 : (code == 0 ? 0 : 1);
    }

    const auto start = std::chrono::steady_clock::now();
    try {
        hloc::ingest::BuildOptions options;
        for (const auto& arg : listing_args) {
            const auto eq = arg.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
                std::cerr << "--listing expects TREATMENT=FILE, got '" << arg << "'\n";
                return 1;
            }
            options.listings.push_back({arg.substr(0, eq), arg.substr(eq + 1)});
        }
        if (listing_args.empty()) options.listings = default_listings();
        const auto data_dir = hloc::paths::data_dir(data);
        options.sites_csv = sites;
        options.codepoint_zip = data_dir / hloc::paths::kCodePointZip;
        options.grid = data_dir / hloc::paths::kGridFile;
        options.out = out;
        options.skip_unmatched = skip_unmatched;
        options.threads = threads;
        options.synthetic_sites = synthetic;
        if (!quiet) options.log = [](const std::string& m) { std::cerr << "build: " << m << "\n"; };

        // Library-wide state, set once here: GDAL's drivers, PROJ's search path (the data
        // directory first, so the OSTN15 grid is found there), no network grid downloads (a
        // missing grid must be an error, not a fetch), and GDAL's own messages kept quiet
        // because every failure is reported by us with file and line.
        GDALAllRegister();
        CPLSetConfigOption("PROJ_NETWORK", "OFF");
        CPLSetErrorHandler(CPLQuietErrorHandler);
        {
            char** current = OSRGetPROJSearchPaths();
            CPLStringList search;
            search.AddString(std::filesystem::absolute(data_dir).c_str());
            for (char** p = current; p && *p; ++p) search.AddString(*p);
            CSLDestroy(current);
            OSRSetPROJSearchPaths(search.List());
        }

        const auto report = hloc::ingest::build_index(options);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cout << "wrote " << options.out.string() << " (" << report.file_bytes << " bytes, checksum "
                  << report.checksum << ") in " << std::fixed << std::setprecision(2) << seconds << " s\n"
                  << "postcodes: " << report.postcodes << " from " << report.area_files
                  << " area files; located " << report.located << "; quality 90 (no coordinates, "
                  << "lookup only): " << report.unlocated << "\n"
                  << "sectors: " << report.sectors << "; districts: " << report.districts << "\n"
                  << "sites: " << report.sites << "\n";
        if (report.site_lines.size() <= 50) {
            for (const auto& line : report.site_lines) std::cout << "  " << line << "\n";
        }
        for (const auto& line : report.skipped_blocks) std::cout << "skipped: " << line << "\n";
        return 0;
    } catch (const hloc::Error& e) {
        std::cerr << hloc::api::error_json(e).dump() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << hloc::api::error_json(hloc::Error(hloc::ErrorCode::internal, e.what())).dump() << "\n";
        return 2;
    }
}
