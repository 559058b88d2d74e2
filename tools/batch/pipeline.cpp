#include "pipeline.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "../common/csv_format.hpp"
#include "options.hpp"
#include "../common/json_format.hpp"

namespace hloc::batch {

std::string_view status_name(Status status) {
    switch (status) {
        case Status::ok: return "ok";
        case Status::approximate: return "approximate";
        case Status::invalid: return "invalid";
        case Status::not_found: return "not_found";
        case Status::not_covered: return "not_covered";
    }
    return "invalid";
}

Status status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::postcode_not_found:
        case ErrorCode::non_geographic_postcode: return Status::not_found;
        case ErrorCode::not_covered: return Status::not_covered;
        default: return Status::invalid;
    }
}

namespace {

using Clock = std::chrono::steady_clock;

struct Chunk {
    std::vector<InputRow> rows;
    std::vector<RowStat> stats;
    std::vector<std::string> texts;               // CSV / JSON Lines
    std::vector<std::vector<std::string>> cells;  // GeoJSON / GeoPackage
    std::size_t size = 0;
};

class Worker {
public:
    Worker(const Engine& engine, const BatchOptions& options, const std::vector<std::string>& columns,
           std::size_t input_columns)
        : engine_(engine), options_(options), columns_(columns), input_columns_(input_columns), appender_(engine) {}

    void process(const InputRow& row, RowStat& stat, std::string& text, std::vector<std::string>& cells) const {
        stat = RowStat{};
        stat.number = row.number;
        stat.input = row.point ? "" : row.postcode.substr(0, 64);
        std::optional<NearestAnswer> answer;
        std::optional<Error> error;
        const auto start = Clock::now();
        try {
            if (row.problem) {
                error = *row.problem;
            } else {
                auto origin = row.point ? engine_.locate_point(*row.point) : engine_.resolve(row.postcode);
                if (!origin) {
                    error = origin.error();
                } else {
                    NearestQuery q;
                    q.origin = std::move(origin).value();
                    q.treatment = options_.treatment;
                    q.k = options_.k;
                    q.max_distance_m = options_.max_distance_m;
                    auto found = engine_.nearest(q);
                    if (found) answer = std::move(found).value();
                    else error = found.error();
                }
            }
        } catch (const Error& e) {  // nothing escapes a worker thread
            error = e;
        } catch (const std::exception& e) {
            error = Error(ErrorCode::internal, e.what());
        }
        stat.elapsed_ns = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());

        std::vector<std::string> result;
        if (answer) {
            const auto match = answer->origin.match;
            stat.status = match == MatchLevel::sector || match == MatchLevel::district ? Status::approximate : Status::ok;
            stat.has_position = true;
            stat.position = answer->origin.position;
            if (!answer->results.empty()) {
                stat.site = static_cast<std::int32_t>(answer->results.front().site_index);
                stat.distance_m = answer->results.front().distance_m;
            }
            if (options_.want_grid && match != MatchLevel::point) {
                const auto record = engine_.lookup(answer->origin.postcode);
                if (record && record->located) {
                    stat.eastings_m = record->eastings_m;
                    stat.northings_m = record->northings_m;
                }
            }
            if (options_.format != OutputFormat::csv) {
                result = api::nearest_csv_row(engine_, *answer, options_.k);
                result.emplace_back();
                result.emplace_back();
            }
        } else {
            stat.status = status_for(error->code());
            stat.error = error->code();
            result.assign(columns_.size() - input_columns_, std::string());
            result[0] = status_name(stat.status);
            result[result.size() - 2] = error_code_name(error->code());
            result[result.size() - 1] = error->message();
        }

        if (options_.format == OutputFormat::csv) {
            text.clear();
            for (std::size_t i = 0; i < row.fields.size(); ++i) {
                if (i) text += ',';
                api::csv_append(text, row.fields[i]);
            }
            if (answer) {
                appender_.append(text, *answer, options_.k);
                text += ",,\n";  // error_code, error_message
            } else {
                for (const auto& f : result) {
                    text += ',';
                    api::csv_append(text, f);
                }
                text += '\n';
            }
        } else if (options_.format == OutputFormat::jsonl) {
            api::Json j;
            j["row"] = row.number;
            api::Json input = api::Json::object();
            for (std::size_t i = 0; i < row.fields.size(); ++i) input[columns_[i]] = row.fields[i];
            j["input"] = std::move(input);
            j["status"] = status_name(stat.status);
            if (answer) {
                // The DESIGN.md answer object, after the row's own fields.
                auto nearest = api::nearest_json(engine_, *answer);
                for (auto it = nearest.begin(); it != nearest.end(); ++it) j[it.key()] = std::move(*it);
            } else {
                j["error"] = api::error_json(*error)["error"];
            }
            text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            text += '\n';
        } else {
            cells = row.fields;
            cells.insert(cells.end(), result.begin(), result.end());
        }
    }

private:
    const Engine& engine_;
    const BatchOptions& options_;
    const std::vector<std::string>& columns_;
    std::size_t input_columns_;
    api::NearestCsvAppender appender_;
};

// Runs body(i) for i in [0, n) on `threads` threads (the caller's among them).
template <class Body>
void parallel_for(std::size_t n, unsigned threads, const Body& body) {
    std::atomic<std::size_t> next{0};
    constexpr std::size_t kGrain = 256;
    auto work = [&] {
        for (;;) {
            const std::size_t begin = next.fetch_add(kGrain);
            if (begin >= n) return;
            const std::size_t end = std::min(n, begin + kGrain);
            for (std::size_t i = begin; i < end; ++i) body(i);
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
}


}  // namespace

std::uint64_t run_batch(const Engine& engine, InputSource& input, const BatchOptions& options,
                        const std::string& out_path, const std::function<void(const RowStat&)>& observe) {
    const auto columns = output_columns(input.columns(), options.k);
    const std::size_t input_columns = input.columns().size();
    const unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    const Worker worker(engine, options, columns, input_columns);

    std::unique_ptr<TextFile> text_out;
    std::unique_ptr<OgrWriter> ogr_out;
    if (options.format == OutputFormat::csv || options.format == OutputFormat::jsonl) {
        text_out = std::make_unique<TextFile>(out_path);
        if (options.format == OutputFormat::csv) text_out->write(api::csv_line(columns));
    } else {
        ogr_out = std::make_unique<OgrWriter>(out_path, options.format, columns, input_columns, options.k);
    }

    // Chunks travel main thread -> writer thread; at most two wait, so memory stays bounded.
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::unique_ptr<Chunk>> queue, spare;
    bool done = false;
    std::exception_ptr writer_error;

    std::thread writer([&] {
        for (;;) {
            std::unique_ptr<Chunk> chunk;
            {
                std::unique_lock lock(mutex);
                changed.wait(lock, [&] { return !queue.empty() || done; });
                if (queue.empty()) return;
                chunk = std::move(queue.front());
                queue.pop_front();
            }
            try {
                if (!writer_error) {
                    if (text_out) {
                        text_out->write_all(chunk->texts.data(), chunk->size);
                    } else {
                        ogr_out->begin_chunk();
                        for (std::size_t i = 0; i < chunk->size; ++i) {
                            const auto& stat = chunk->stats[i];
                            // The point where the lat/lon columns say (7 decimals, 1.1 cm).
                            ogr_out->write(chunk->cells[i], stat.has_position, api::round_to(stat.position.lat_deg, 7),
                                           api::round_to(stat.position.lon_deg, 7));
                        }
                        ogr_out->end_chunk();
                    }
                    for (std::size_t i = 0; i < chunk->size; ++i) observe(chunk->stats[i]);
                }
            } catch (...) {
                std::lock_guard lock(mutex);
                writer_error = std::current_exception();
            }
            std::lock_guard lock(mutex);
            spare.push_back(std::move(chunk));
            changed.notify_all();
        }
    });
    auto stop_writer = [&] {
        {
            std::lock_guard lock(mutex);
            done = true;
        }
        changed.notify_all();
        writer.join();
    };

    const bool show_progress = options.progress && ::isatty(2);
    const auto start = Clock::now();
    auto last_report = start;
    std::uint64_t rows = 0;
    try {
        for (;;) {
            std::unique_ptr<Chunk> chunk;
            {
                std::unique_lock lock(mutex);
                changed.wait(lock, [&] { return queue.size() < 2 || writer_error; });
                if (writer_error) break;
                if (!spare.empty()) {
                    chunk = std::move(spare.front());
                    spare.pop_front();
                }
            }
            if (!chunk) chunk = std::make_unique<Chunk>();
            chunk->rows.resize(options.chunk_rows);
            std::size_t n = 0;
            while (n < options.chunk_rows && input.next(chunk->rows[n])) ++n;
            if (n == 0) break;
            chunk->size = n;
            chunk->stats.resize(n);
            chunk->texts.resize(n);
            chunk->cells.resize(ogr_out ? n : 0);
            parallel_for(n, threads, [&](std::size_t i) {
                thread_local std::vector<std::string> scratch;
                worker.process(chunk->rows[i], chunk->stats[i], chunk->texts[i], ogr_out ? chunk->cells[i] : scratch);
            });
            rows += n;
            {
                std::lock_guard lock(mutex);
                queue.push_back(std::move(chunk));
            }
            changed.notify_all();
            if (show_progress) {
                const auto now = Clock::now();
                if (now - last_report > std::chrono::milliseconds(200)) {
                    last_report = now;
                    const double seconds = std::chrono::duration<double>(now - start).count();
                    const double rate = static_cast<double>(rows) / std::max(seconds, 1e-9);
                    const double fraction = input.fraction_read();
                    std::string eta;
                    if (fraction > 0.001) {
                        eta = "  ETA " + std::to_string(static_cast<long>(seconds * (1 - fraction) / fraction + 0.5)) + " s";
                    }
                    std::fprintf(stderr, "\r  %s rows  %s rows/s%s   ", with_commas(rows).c_str(),
                                 with_commas(static_cast<std::uint64_t>(rate)).c_str(), eta.c_str());
                }
            }
        }
    } catch (...) {
        stop_writer();
        throw;
    }
    stop_writer();
    if (show_progress) std::fprintf(stderr, "\r%60s\r", "");
    if (writer_error) std::rethrow_exception(writer_error);
    if (text_out) text_out->close();
    if (ogr_out) ogr_out->close();
    return rows;
}

}  // namespace hloc::batch
