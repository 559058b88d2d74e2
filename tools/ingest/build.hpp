// `hospital-locator build`: listings + site directory + Code-Point Open (or ONSPD) + OSTN15
// -> .hlx.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace hloc::ingest {

struct ListingSpec {
    std::string treatment;  // "kyphoplasty"
    std::filesystem::path file;
};

struct BuildOptions {
    std::vector<ListingSpec> listings;
    std::filesystem::path sites_csv;
    std::filesystem::path codepoint_zip;
    std::filesystem::path onspd;  // when set, the postcode source instead of Code-Point Open
    std::filesystem::path grid;
    std::filesystem::path out;
    bool skip_unmatched = false;  // report and skip listing blocks that match nothing
    unsigned threads = 0;         // 0 = all cores
    // Adds a treatment "synthetic" with this many sites placed at pseudo-random located
    // postcodes (fixed seed, so the same bytes every time): for scaling benchmarks and tests.
    std::uint32_t synthetic_sites = 0;
    std::function<void(const std::string&)> log = [](const std::string&) {};
};

struct BuildReport {
    std::uint64_t postcodes = 0, located = 0, unlocated = 0, sectors = 0, districts = 0;
    std::uint64_t sites = 0, area_files = 0, file_bytes = 0;
    std::string checksum;
    std::string source;  // "Code-Point Open" or "ONSPD"
    // ONSPD only: terminated postcodes, live Northern Ireland ones, rows left out as not
    // covered, and the largest distances from ONSPD's own lat/long (metres; -1: no row).
    std::uint64_t terminated = 0, northern_ireland = 0, not_covered = 0, non_geographic = 0;
    double gb_vs_onspd_max_m = -1, irish_vs_onspd_max_m = -1;
    std::vector<std::string> skipped_blocks;  // with --skip-unmatched: what was left out, and why
    std::vector<std::string> site_lines;      // one line per located site: how it was located
};

// Throws hloc::Error naming what was wrong; on any failure no output file is left behind.
BuildReport build_index(const BuildOptions& options);

}  // namespace hloc::ingest
