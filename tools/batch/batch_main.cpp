// hospital-locator batch: the nearest sites for every row of a file, with a summary and a map.
// Run as `hospital-locator batch ...` (the CLI execs this program) or directly.
//
// Exit codes: 0 ok, 1 usage, 2 input/data/output error (the DESIGN.md error object on
// stderr), 128 + signal when interrupted. Whatever the exit, no partial output file is left.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "command.hpp"
#include "hloc/contract/request.hpp"
#include "hloc/parallel.hpp"
#include "input.hpp"
#include "map.hpp"
#include "options.hpp"
#include "output.hpp"
#include "paths.hpp"
#include "pipeline.hpp"
#include "summary.hpp"

namespace {

using hloc::Error;
using hloc::ErrorCode;
namespace b = hloc::batch;
namespace contract = hloc::contract;

void write_text_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw Error(ErrorCode::io_error, "cannot write " + path);
}

struct Args {
    std::string index_file = hloc::paths::default_index().string();
    std::string data_dir;
    b::InputOptions in;
    std::string out_path, format, summary_path, map_path, treatment;
    std::string bands = "10,25,50,100", district_names;
    // Numbers stay text until the contract reads them, as in every other shell.
    std::optional<std::string> k, max_miles, max_km;
    int map_width = 800;
    long long threads = 0;
    bool force = false, quiet = false;
};

void add_options(CLI::App& app, Args& a) {
    app.add_option("--index", a.index_file, "the index file (.hlx)")->capture_default_str();
    app.add_option("--data", a.data_dir, "accepted for symmetry with the other commands; unused");
    app.add_option("--in", a.in.path,
                   "input: .csv (or - for standard input), or any vector layer GDAL opens")
        ->required();
    app.add_option("--out", a.out_path,
                   "output: .csv, .jsonl, .geojson or .gpkg (- = CSV on standard output)")
        ->required();
    app.add_option("--format", a.format,
                   "output format when the extension does not say: csv, jsonl, geojson, gpkg");
    app.add_option("-k,--k", a.k, "how many sites per row (default 3)");
    app.add_option("--treatment", a.treatment, "treatment (default: the index's only one)");
    app.add_option("--postcode-column", a.in.postcode_column,
                   "postcode column, by name or 1-based position");
    app.add_option("--header", a.in.header, "CSV: does line 1 name the columns?")
        ->check(CLI::IsMember({"auto", "yes", "no"}))
        ->capture_default_str();
    app.add_option("--encoding", a.in.encoding,
                   "CSV: the text's encoding, utf-8 (default, with or without a byte order mark), "
                   "windows-1252 (Excel's \"CSV (Comma delimited)\") or latin-1")
        ->check(CLI::IsMember({"utf-8", "windows-1252", "latin-1"}, CLI::ignore_case));
    app.add_option("--delimiter", a.in.delimiter,
                   "CSV: what separates fields, , or ; or tab (default: a comma, or what line 1 "
                   "can only mean)")
        ->check(CLI::IsMember({",", ";", "tab"}));
    app.add_option("--layer", a.in.layer,
                   "layer to read from a multi-layer input (default: the first)");
    app.add_flag("--use-geometry", a.in.use_geometry,
                 "query by each feature's point (CSV: its lat and lon columns), even if it has a "
                 "postcode field");
    app.add_option("--lat-column", a.in.lat_column,
                   "CSV: query by points, latitude (WGS84 degrees) from this column, by name or "
                   "1-based position");
    app.add_option("--lon-column", a.in.lon_column,
                   "CSV: longitude (WGS84 degrees) from this column, with --lat-column");
    app.add_option("--max-miles", a.max_miles, "leave out sites farther than this");
    app.add_option("--max-km", a.max_km, "leave out sites farther than this");
    app.add_option("--summary", a.summary_path,
                   "also write a summary: .json, .md, or .html (a page with the map in it)");
    app.add_option("--bands", a.bands,
                   "summary: access bands, the distances in miles whose share of rows is given")
        ->capture_default_str();
    app.add_option("--district-names", a.district_names,
                   "summary: names of the admin district codes, from a code list GDAL reads "
                   "(Code-Point's Doc/Codelist.xlsx, an ONS CSV of codes and names)");
    app.add_option("--map", a.map_path,
                   "also draw a map of the rows coloured by nearest site: .svg or .png");
    app.add_option("--map-width", a.map_width, "map width in pixels")->capture_default_str();
    app.add_option("--threads", a.threads, "worker threads (0 = all cores, at most 256)")
        ->capture_default_str();
    app.add_flag("--force", a.force, "replace existing output files");
    app.add_flag("--quiet", a.quiet, "no progress line");
}

std::optional<double> number(std::string_view name, const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    return contract::parse_number(name, *text).value();
}

// k, the distance limit and the treatment, through the contract like every other shell.
contract::NearestOptions nearest_options(const hloc::Engine& engine, const Args& a) {
    contract::NearestRequest request;
    request.k = number("k", a.k);
    request.max_miles = number("max_miles", a.max_miles);
    request.max_km = number("max_km", a.max_km);
    request.treatment = a.treatment;
    return contract::validate_options(engine, request).value();
}

std::string summary_format(const std::string& path) {
    if (path.empty()) return "";
    const auto ext = std::filesystem::path(path).extension().string();
    if (ext == ".json") return "json";
    if (ext == ".md" || ext == ".markdown") return "md";
    if (ext == ".html" || ext == ".htm") return "html";
    throw Error(ErrorCode::invalid_parameter, "--summary " + path + ": use .json, .md or .html");
}

// The outputs of a run, each checked (directory, existing file, not an input) before any work
// and renamed into place together once everything is written. The index and the input are
// never an output, whatever --force says: the rename would replace the file being read.
class Outputs {
  public:
    Outputs(const Args& a) : a_(a), taken_{a.in.path} {
        if (!a.district_names.empty()) taken_.push_back(a.district_names);
        claim_index(a.out_path);
        claim_index(a.summary_path);
        claim_index(a.map_path);
        report = claim(a.out_path);
        summary = claim(a.summary_path);
        map = claim(a.map_path);
    }
    void commit() {
        for (auto* f : {report.get(), summary.get(), map.get()}) {
            if (f) f->commit();
        }
    }
    std::unique_ptr<b::SafeOutput> report, summary, map;

  private:
    void claim_index(const std::string& path) const {
        if (path.empty() || path == "-") return;
        std::error_code ec;
        if (path == a_.index_file || (std::filesystem::exists(path, ec) &&
                                      std::filesystem::equivalent(a_.index_file, path, ec))) {
            throw Error(ErrorCode::invalid_parameter,
                        "the output " + path + " is the index " + a_.index_file +
                            "; an index is never overwritten by batch, even with --force");
        }
    }
    std::unique_ptr<b::SafeOutput> claim(const std::string& path) {
        if (path.empty() || path == "-") return nullptr;
        for (const auto& t : taken_) {
            std::error_code ec;
            if (t == path ||
                (std::filesystem::exists(path, ec) && std::filesystem::equivalent(t, path, ec))) {
                throw Error(
                    ErrorCode::invalid_parameter,
                    "the same file " + path + " is given twice (input and output, or two outputs)");
            }
        }
        auto out =
            std::make_unique<b::SafeOutput>(path, a_.force, std::vector<std::string>{a_.in.path});
        taken_.push_back(path);
        return out;
    }
    const Args& a_;
    std::vector<std::string> taken_;
};

void title_map(b::CatchmentMap& map, const b::Summary& summary, const Args& a,
               const std::string& treatment) {
    const auto placed =
        summary.status_count(b::RowStatus::ok) + summary.status_count(b::RowStatus::approximate);
    const auto name = a.in.path == "-" ? std::string("standard input")
                                       : std::filesystem::path(a.in.path).filename().string();
    map.set_titles("Nearest " + treatment + " site for each row of " + name,
                   b::with_commas(placed) + " of " + b::with_commas(summary.rows()) +
                       " rows placed (the rest are invalid or not found: see the summary)");
}

int run(const Args& a) {
    b::init_process();
    b::BatchOptions options;
    options.format = b::output_format(a.out_path, a.format);
    if (a.out_path == "-" && options.format != b::OutputFormat::csv &&
        options.format != b::OutputFormat::jsonl) {
        throw Error(ErrorCode::invalid_parameter,
                    "standard output takes csv or jsonl, not a GeoJSON/GeoPackage file");
    }
    const auto summary_kind = summary_format(a.summary_path);
    if (!a.map_path.empty()) (void)b::map_format(a.map_path);
    if (a.map_width < 320 || a.map_width > 8000) {
        throw Error(ErrorCode::invalid_parameter,
                    "--map-width must be between 320 and 8000 pixels");
    }
    options.threads = hloc::worker_count(b::checked_threads(a.threads));
    // An HTML summary embeds the map, so it draws one whether or not --map asks for a file.
    const bool draw = !a.map_path.empty() || summary_kind == "html";
    options.want_grid = draw;
    options.want_areas = !a.summary_path.empty();   // the per-country and district tables
    options.want_timing = !a.summary_path.empty();  // its slowest rows
    b::SummaryOptions summary_options;
    summary_options.bands_miles = b::parse_bands(a.bands);
    if (!a.district_names.empty()) {
        summary_options.district_names = b::read_district_names(a.district_names);
        summary_options.district_names_file = a.district_names;
    }
    options.progress = !a.quiet;
    Outputs outputs(a);

    const auto engine = hloc::Engine::open(a.index_file);
    options.nearest = nearest_options(engine, a);
    auto input = b::open_input(a.in);
    std::unique_ptr<b::CatchmentMap> map;
    if (draw)
        map = std::make_unique<b::CatchmentMap>(engine, options.nearest.treatment,
                                                b::map_options(a.map_width));
    b::Summary summary(engine, std::move(summary_options));
    const auto start = std::chrono::steady_clock::now();
    b::run_batch(engine, *input, options, outputs.report ? outputs.report->temp_path() : "-",
                 [&](const b::RowStat& row) {
                     summary.add(row);
                     if (map && row.has_position) {
                         if (!std::isnan(row.eastings_m))
                             map->add_grid(row.eastings_m, row.northings_m, row.site);
                         else
                             map->add_wgs84(row.position, row.site);
                     }
                 });
    b::RunInfo run;
    run.input = a.in.path;
    run.output = a.out_path;
    run.treatment = options.nearest.treatment;
    run.query_by = input->query_by();
    run.k = options.nearest.k;
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.threads = options.threads;
    if (map) title_map(*map, summary, a, options.nearest.treatment);
    if (outputs.summary) {
        std::string text;
        if (summary_kind == "json")
            text = contract::to_pretty_text(summary.to_json(run)) + "\n";
        else if (summary_kind == "html")
            text = summary.to_html(run, map->png_bytes(), map->width_px(), map->height_px());
        else
            text = summary.to_markdown(run);
        write_text_file(outputs.summary->temp_path(), text);
    }
    if (outputs.map) map->write(outputs.map->temp_path(), b::map_format(a.map_path));
    if (map) b::release_drawing_caches();
    outputs.commit();  // all or nothing: the outputs appear together
    std::cerr << summary.short_text(run);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "The nearest sites offering a treatment for every row of a file (CSV, or any vector "
        "layer GDAL reads), with a summary and a map.",
        "hospital-locator batch"};
    Args a;
    add_options(app, a);
    return hloc::tools::run_command(app, argc, argv, [&] { return run(a); });
}
