// hospital-locator map: the catchments of a whole index, every located postcode coloured by
// its nearest site offering a treatment. Run as `hospital-locator map ...` or directly.
//
// Exit codes: 0 ok, 1 usage, 2 data/output error (the DESIGN.md error object on stderr).
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "command.hpp"
#include "map.hpp"
#include "options.hpp"
#include "output.hpp"
#include "paths.hpp"

namespace {

// Every located postcode, in index order, answered in chunks on every core.
void colour_every_postcode(const hloc::Engine& engine, const std::string& treatment,
                           unsigned threads, hloc::batch::CatchmentMap& map) {
    const std::uint32_t located = engine.located_count();
    constexpr std::uint32_t kChunk = 65536;
    std::vector<hloc::NearestQuery> queries;
    std::vector<hloc::Result<hloc::NearestAnswer>> answers;
    std::vector<std::pair<double, double>> grid;
    for (std::uint32_t begin = 0; begin < located; begin += kChunk) {
        const std::uint32_t end = std::min(located, begin + kChunk);
        queries.clear();
        grid.clear();
        for (std::uint32_t row = begin; row < end; ++row) {
            const auto r = engine.located_postcode(row);
            hloc::NearestQuery q;
            q.origin.postcode = r.postcode;
            q.origin.match = hloc::MatchLevel::unit;
            q.origin.position = r.position;
            q.treatment = treatment;
            q.k = 1;
            queries.push_back(std::move(q));
            grid.emplace_back(r.eastings_m, r.northings_m);
        }
        answers.assign(queries.size(), hloc::Error(hloc::ErrorCode::internal, "not answered"));
        engine.nearest_batch(queries, answers, threads);
        for (std::size_t i = 0; i < answers.size(); ++i) {
            const auto& a = answers[i];
            const std::int32_t site = a && !a->results.empty()
                                          ? static_cast<std::int32_t>(a->results.front().site_index)
                                          : -1;
            map.add_grid(grid[i].first, grid[i].second, site);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Draw the catchments of the whole index: every located postcode coloured by its nearest "
        "site offering a treatment, in British National Grid.",
        "hospital-locator map"};
    std::string index_file = hloc::paths::default_index().string();
    std::string data_dir, out_path, treatment;
    int width = 800;
    long long threads = 0;
    bool force = false;
    app.add_option("--index", index_file, "the index file (.hlx)")->capture_default_str();
    app.add_option("--data", data_dir, "accepted for symmetry with the other commands; unused");
    app.add_option("--out", out_path, "the picture: .svg or .png")->required();
    app.add_option("--treatment", treatment, "treatment (default: the index's only one)");
    app.add_option("--width", width, "width in pixels")->capture_default_str();
    app.add_option("--threads", threads, "worker threads (0 = all cores)")->capture_default_str();
    app.add_flag("--force", force, "replace an existing file");
    return hloc::tools::run_command(app, argc, argv, [&] {
        hloc::batch::init_process();
        const std::string kind = hloc::batch::map_format(out_path);
        if (width < 320 || width > 8000) {
            throw hloc::Error(hloc::ErrorCode::invalid_parameter,
                              "--width must be between 320 and 8000 pixels");
        }
        // The index is never the output, whatever --force says: the rename would replace it.
        std::error_code ec;
        if (out_path == index_file || (std::filesystem::exists(out_path, ec) &&
                                       std::filesystem::equivalent(index_file, out_path, ec))) {
            throw hloc::Error(hloc::ErrorCode::invalid_parameter,
                              "the output " + out_path + " is the index " + index_file +
                                  "; an index is never overwritten by map, even with --force");
        }
        hloc::batch::SafeOutput out(out_path, force);
        const auto start = std::chrono::steady_clock::now();
        const auto engine = hloc::Engine::open(index_file);
        const std::string chosen(engine.treatment(treatment).value().name);
        hloc::batch::CatchmentMap map(engine, chosen, hloc::batch::map_options(width));
        colour_every_postcode(engine, chosen, hloc::batch::checked_threads(threads), map);
        const std::uint32_t located = engine.located_count();
        map.set_titles("Nearest " + chosen + " site for every postcode",
                       hloc::batch::with_commas(located) +
                           " located postcodes, each coloured by the site nearest along the "
                           "WGS84 geodesic");
        map.write(out.temp_path(), kind);
        out.commit();
        hloc::batch::release_drawing_caches();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cerr << "map: " << hloc::batch::with_commas(located) << " postcodes in " << seconds
                  << " s -> " << out_path << " (" << map.width_px() << " x " << map.height_px()
                  << " px)\n";
        return 0;
    });
}
