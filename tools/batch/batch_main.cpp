// hospital-locator batch: the nearest sites for every row of a file, with a summary and a map.
// Run as `hospital-locator batch ...` (the CLI execs this program) or directly.
//
// Exit codes: 0 ok, 1 usage, 2 input/data/output error (the DESIGN.md error object on
// stderr), 128 + signal when interrupted. Whatever the exit, no partial output file is left.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "../common/paths.hpp"
#include "hloc/geodesy.hpp"
#include "input.hpp"
#include "map.hpp"
#include "options.hpp"
#include "output.hpp"
#include "pipeline.hpp"
#include "summary.hpp"

namespace {

using hloc::Error;
using hloc::ErrorCode;
namespace b = hloc::batch;


void write_text_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw Error(ErrorCode::io_error, "cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"The nearest sites offering a treatment for every row of a file (CSV, or any vector "
                 "layer GDAL reads), with a summary and a map.",
                 "hospital-locator batch"};
    std::string index_file = hloc::paths::default_index().string();
    std::string data_dir;
    b::InputOptions in;
    std::string out_path, format, summary_path, map_path, treatment;
    int k = 3;
    int map_width = 800;
    unsigned threads = 0;
    std::optional<double> max_miles, max_km;
    bool force = false, quiet = false;
    app.add_option("--index", index_file, "the index file (.hlx)")->capture_default_str();
    app.add_option("--data", data_dir, "accepted for symmetry with the other commands; unused");
    app.add_option("--in", in.path, "input: .csv (or - for standard input), or any vector layer GDAL opens")->required();
    app.add_option("--out", out_path, "output: .csv, .jsonl, .geojson or .gpkg (- = CSV on standard output)")->required();
    app.add_option("--format", format, "output format when the extension does not say: csv, jsonl, geojson, gpkg");
    app.add_option("-k,--k", k, "how many sites per row")->capture_default_str();
    app.add_option("--treatment", treatment, "treatment (default: the index's only one)");
    app.add_option("--postcode-column", in.postcode_column, "postcode column, by name or 1-based position");
    app.add_option("--header", in.header, "CSV: does line 1 name the columns?")
        ->check(CLI::IsMember({"auto", "yes", "no"}))
        ->capture_default_str();
    app.add_option("--layer", in.layer, "layer to read from a multi-layer input (default: the first)");
    app.add_flag("--use-geometry", in.use_geometry, "query by each feature's point, even if it has a postcode field");
    auto* miles = app.add_option("--max-miles", max_miles, "leave out sites farther than this");
    app.add_option("--max-km", max_km, "leave out sites farther than this")->excludes(miles);
    app.add_option("--summary", summary_path, "also write a summary: .json or .md");
    app.add_option("--map", map_path, "also draw a map of the rows coloured by nearest site: .svg or .png");
    app.add_option("--map-width", map_width, "map width in pixels")->capture_default_str();
    app.add_option("--threads", threads, "worker threads (0 = all cores)")->capture_default_str();
    app.add_flag("--force", force, "replace existing output files");
    app.add_flag("--quiet", quiet, "no progress line");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return e.get_exit_code() == 0 ? 0 : 1;
    }

    try {
        b::init_process();
        if (k < 1 || k > static_cast<int>(hloc::kMaxK)) {
            throw Error(ErrorCode::invalid_parameter,
                        "k must be between 1 and " + std::to_string(hloc::kMaxK) + " (got " + std::to_string(k) + ")");
        }
        b::BatchOptions options;
        options.k = static_cast<std::uint32_t>(k);
        if (max_miles) options.max_distance_m = *max_miles * hloc::kMetresPerMile;
        if (max_km) options.max_distance_m = *max_km * 1000.0;
        if (options.max_distance_m && !(*options.max_distance_m > 0)) {
            throw Error(ErrorCode::invalid_parameter, "the maximum distance must be more than 0");
        }
        options.format = b::output_format(out_path, format);
        if (out_path == "-" && options.format != b::OutputFormat::csv && options.format != b::OutputFormat::jsonl) {
            throw Error(ErrorCode::invalid_parameter, "standard output takes csv or jsonl, not a GeoJSON/GeoPackage file");
        }
        std::string summary_format;
        if (!summary_path.empty()) {
            const auto ext = std::filesystem::path(summary_path).extension().string();
            if (ext == ".json") summary_format = "json";
            else if (ext == ".md" || ext == ".markdown") summary_format = "md";
            else throw Error(ErrorCode::invalid_parameter, "--summary " + summary_path + ": use .json or .md");
        }
        const std::string map_kind = map_path.empty() ? "" : b::map_format(map_path);
        if (map_width < 320 || map_width > 8000) {
            throw Error(ErrorCode::invalid_parameter, "--map-width must be between 320 and 8000 pixels");
        }
        options.threads = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
        options.want_grid = !map_path.empty();
        options.progress = !quiet;

        // Every output is checked (directory, existing file, not an input) before any work.
        std::vector<std::string> taken = {in.path};
        auto claim = [&](const std::string& path) -> std::unique_ptr<b::SafeOutput> {
            if (path.empty() || path == "-") return nullptr;
            for (const auto& t : taken) {
                std::error_code ec;
                if (t == path || (std::filesystem::exists(path, ec) && std::filesystem::equivalent(t, path, ec))) {
                    throw Error(ErrorCode::invalid_parameter, "the same file " + path + " is given twice (input and output, or two outputs)");
                }
            }
            auto out = std::make_unique<b::SafeOutput>(path, force, std::vector<std::string>{in.path});
            taken.push_back(path);
            return out;
        };
        auto out_file = claim(out_path);
        auto summary_file = claim(summary_path);
        auto map_file = claim(map_path);

        const auto engine = hloc::Engine::open(index_file);
        options.treatment = b::pick_treatment(engine, treatment);
        auto input = b::open_input(in);

        std::unique_ptr<b::CatchmentMap> map;
        if (map_file) map = std::make_unique<b::CatchmentMap>(engine, options.treatment, b::map_options(map_width));
        b::Summary summary(engine);
        const auto start = std::chrono::steady_clock::now();
        b::run_batch(engine, *input, options, out_file ? out_file->temp_path() : "-", [&](const b::RowStat& row) {
            summary.add(row);
            if (map && row.has_position) {
                if (!std::isnan(row.eastings_m)) map->add_grid(row.eastings_m, row.northings_m, row.site);
                else map->add_wgs84(row.position, row.site);
            }
        });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        b::RunInfo run;
        run.input = in.path;
        run.output = out_path;
        run.treatment = options.treatment;
        run.query_by = input->query_by();
        run.k = options.k;
        run.seconds = seconds;
        run.threads = options.threads;
        if (summary_file) {
            write_text_file(summary_file->temp_path(), summary_format == "json" ? summary.to_json(run).dump(2) + "\n"
                                                                                : summary.to_markdown(run));
        }
        if (map) {
            const auto placed = summary.status_count(b::Status::ok) + summary.status_count(b::Status::approximate);
            const auto name = in.path == "-" ? std::string("standard input") : std::filesystem::path(in.path).filename().string();
            map->set_titles("Nearest " + options.treatment + " site for each row of " + name,
                            b::with_commas(placed) + " of " + b::with_commas(summary.rows()) +
                                " rows placed (the rest are invalid or not found: see the summary)");
            map->write(map_file->temp_path(), map_kind);
            hloc::batch::release_drawing_caches();
        }
        // All or nothing: the outputs appear together, once everything is written.
        if (out_file) out_file->commit();
        if (summary_file) summary_file->commit();
        if (map_file) map_file->commit();
        std::cerr << summary.short_text(run);
        return 0;
    } catch (const Error& e) {
        return b::fail(e);
    } catch (const std::exception& e) {
        return b::fail(Error(ErrorCode::internal, e.what()));
    }
}
