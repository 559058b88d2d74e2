#include "pipeline.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "hloc/contract/csv_writer.hpp"
#include "hloc/contract/json_writer.hpp"
#include "hloc/contract/request.hpp"
#include "hloc/parallel.hpp"
#include "options.hpp"

namespace hloc::batch {

namespace {

using Clock = std::chrono::steady_clock;

struct Chunk {
    std::vector<InputRow> rows;
    std::vector<RowStat> stats;
    std::vector<std::string> texts;               // CSV / JSON Lines
    std::vector<std::vector<std::string>> cells;  // GeoJSON / GeoPackage
    std::size_t size = 0;
};

// A row's answer, or why there is none.
struct Outcome {
    std::optional<NearestAnswer> answer;
    std::optional<Error> error;
};

// One output format's rows. Chosen once per run, so the worker never asks which format it is.
class RowWriter {
  public:
    virtual ~RowWriter() = default;
    virtual void write(const InputRow& row, const RowStat& stat, const Outcome& outcome,
                       std::string& text, std::vector<std::string>& cells) const = 0;
};

// The input's fields, then the contract's nearest row, then error_code and error_message.
class CsvRows final : public RowWriter {
  public:
    CsvRows(const Engine& engine, std::uint32_t k) : row_(engine, k) {}
    void write(const InputRow& row, const RowStat& stat, const Outcome& outcome, std::string& text,
               std::vector<std::string>&) const override {
        text.clear();
        for (std::size_t i = 0; i < row.fields.size(); ++i) {
            if (i) text += ',';
            contract::csv_append(text, row.fields[i]);
        }
        if (outcome.answer)
            row_.append_batch_csv(text, *outcome.answer);
        else
            row_.append_batch_csv(text, stat.status, *outcome.error);
    }

  private:
    contract::NearestRow row_;
};

// {"row": n, "input": {column: field}, "status": ..., then the answer's members or "error"}.
class JsonLinesRows final : public RowWriter {
  public:
    JsonLinesRows(const Engine& engine, const std::vector<std::string>& columns)
        : json_(engine), columns_(columns) {}
    void write(const InputRow& row, const RowStat& stat, const Outcome& outcome, std::string& text,
               std::vector<std::string>&) const override {
        contract::Json input = contract::Json::object();
        for (std::size_t i = 0; i < row.fields.size(); ++i) input[columns_[i]] = row.fields[i];
        text = "{\"row\":" + std::to_string(row.number) + ",\"input\":" + contract::to_text(input) +
               ",\"status\":\"" + std::string(contract::status_name(stat.status)) + "\",";
        if (outcome.answer) {
            json_.append_nearest_members(text, *outcome.answer);
        } else {
            text += "\"error\":";
            text += contract::to_text(contract::error_json(*outcome.error)["error"]);
        }
        text += "}\n";
    }

  private:
    contract::JsonWriter json_;
    const std::vector<std::string>& columns_;
};

// Attribute cells for GeoJSON and GeoPackage features: the CSV row's fields, one per column.
class CellRows final : public RowWriter {
  public:
    CellRows(const Engine& engine, std::uint32_t k) : row_(engine, k) {}
    void write(const InputRow& row, const RowStat& stat, const Outcome& outcome, std::string&,
               std::vector<std::string>& cells) const override {
        cells = row.fields;
        if (outcome.answer) {
            row_.cells(cells, *outcome.answer);
            cells.emplace_back();
            cells.emplace_back();
            return;
        }
        row_.cells(cells, stat.status);
        cells.emplace_back(error_code_name(outcome.error->code()));
        cells.emplace_back(outcome.error->message());
    }

  private:
    contract::NearestRow row_;
};

std::unique_ptr<RowWriter> row_writer(const Engine& engine, const BatchOptions& options,
                                      const std::vector<std::string>& columns) {
    switch (options.format) {
        case OutputFormat::csv:
            return std::make_unique<CsvRows>(engine, options.nearest.k);
        case OutputFormat::jsonl:
            return std::make_unique<JsonLinesRows>(engine, columns);
        default:
            return std::make_unique<CellRows>(engine, options.nearest.k);
    }
}

class Worker {
  public:
    Worker(const Engine& engine, const BatchOptions& options, const RowWriter& writer)
        : engine_(engine), options_(options), writer_(writer) {}

    void process(const InputRow& row, RowStat& stat, std::string& text,
                 std::vector<std::string>& cells) const {
        stat = RowStat{};
        stat.number = row.number;
        stat.input = row.point ? "" : std::string(contract::clipped(row.postcode, 64));
        // Two clock reads a row are a few per cent of a whole-GB run: only when a summary
        // file will list the slowest rows.
        const auto start = options_.want_timing ? Clock::now() : Clock::time_point();
        const Outcome outcome = answer(row);
        if (options_.want_timing) {
            stat.elapsed_ns = static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
        }
        if (outcome.answer)
            describe(*outcome.answer, stat);
        else {
            stat.status = contract::status_for(outcome.error->code());
            stat.error = outcome.error->code();
        }
        writer_.write(row, stat, outcome, text, cells);
    }

  private:
    Outcome answer(const InputRow& row) const {
        try {  // nothing escapes a worker thread
            if (row.problem) return {std::nullopt, *row.problem};
            contract::NearestRequest request;
            if (row.point) {
                request.lat = row.point->lat_deg;
                request.lon = row.point->lon_deg;
            } else {
                request.postcode = row.postcode;
            }
            auto origin = contract::resolve_origin(engine_, request);
            if (!origin) return {std::nullopt, origin.error()};
            auto query = contract::make_query(options_.nearest, std::move(origin).value());
            query.bearings = options_.format == OutputFormat::jsonl;  // the only one printing them
            auto found = engine_.nearest(query);
            if (!found) return {std::nullopt, found.error()};
            return {std::move(found).value(), std::nullopt};
        } catch (const Error& e) {
            return {std::nullopt, e};
        } catch (const std::exception& e) {
            return {std::nullopt, Error(ErrorCode::internal, e.what())};
        }
    }

    void describe(const NearestAnswer& answer, RowStat& stat) const {
        const auto match = answer.origin.match;
        stat.status = contract::status_of(match);
        stat.has_position = true;
        stat.position = answer.origin.position;
        if (!answer.results.empty()) {
            stat.site = static_cast<std::int32_t>(answer.results.front().site_index);
            stat.distance_m = answer.results.front().distance_m;
        }
        if ((options_.want_grid || options_.want_areas) && match != MatchLevel::point) {
            const auto record = engine_.lookup(answer.origin.postcode);
            if (record && record->located) {
                stat.eastings_m = record->eastings_m;
                stat.northings_m = record->northings_m;
            }
            if (record) {
                stat.country = record->country;
                stat.admin_district = record->admin_district;
            }
        }
    }

    const Engine& engine_;
    const BatchOptions& options_;
    const RowWriter& writer_;
};

// The output file of a run: text (CSV, JSON Lines) or an OGR layer (GeoJSON, GeoPackage).
class Output {
  public:
    Output(const std::string& path, const BatchOptions& options,
           const std::vector<std::string>& columns, std::size_t input_columns) {
        if (options.format == OutputFormat::csv || options.format == OutputFormat::jsonl) {
            text_ = std::make_unique<TextFile>(path);
            if (options.format == OutputFormat::csv) text_->write(contract::csv_line(columns));
        } else {
            ogr_ = std::make_unique<OgrWriter>(path, options.format, columns, input_columns,
                                               options.nearest.k);
        }
    }
    bool wants_cells() const { return ogr_ != nullptr; }

    void write(const Chunk& chunk) {
        if (text_) {
            text_->write_all(chunk.texts.data(), chunk.size);
            return;
        }
        ogr_->begin_chunk();
        for (std::size_t i = 0; i < chunk.size; ++i) {
            const auto& stat = chunk.stats[i];
            // The point where the lat/lon columns say (7 decimals, 1.1 cm).
            ogr_->write(chunk.cells[i], stat.has_position,
                        contract::round_to(stat.position.lat_deg, 7),
                        contract::round_to(stat.position.lon_deg, 7));
        }
        ogr_->end_chunk();
    }

    void close() {
        if (text_) text_->close();
        if (ogr_) ogr_->close();
    }

  private:
    std::unique_ptr<TextFile> text_;
    std::unique_ptr<OgrWriter> ogr_;
};

// Chunks travel from the reading thread to the writer thread; at most two wait, so memory
// stays bounded. A write error stops the run; it is rethrown by finish().
class WriterThread {
  public:
    WriterThread(Output& output, const std::function<void(const RowStat&)>& observe)
        : output_(output), observe_(observe), thread_([this] { run(); }) {}
    ~WriterThread() { stop(); }

    // A chunk to fill: a spare one when the writer is done with it. Null after a write error.
    std::unique_ptr<Chunk> next_empty() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return queue_.size() < 2 || error_; });
        if (error_) return nullptr;
        if (spare_.empty()) return std::make_unique<Chunk>();
        auto chunk = std::move(spare_.front());
        spare_.pop_front();
        return chunk;
    }

    void push(std::unique_ptr<Chunk> chunk) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(chunk));
        }
        changed_.notify_all();
    }

    void finish() {
        stop();
        if (error_) std::rethrow_exception(error_);
    }

  private:
    void run() {
        for (;;) {
            std::unique_ptr<Chunk> chunk;
            {
                std::unique_lock lock(mutex_);
                changed_.wait(lock, [&] { return !queue_.empty() || done_; });
                if (queue_.empty()) return;
                chunk = std::move(queue_.front());
                queue_.pop_front();
            }
            try {
                if (!error_) {
                    output_.write(*chunk);
                    for (std::size_t i = 0; i < chunk->size; ++i) observe_(chunk->stats[i]);
                }
            } catch (...) {
                std::lock_guard lock(mutex_);
                error_ = std::current_exception();
            }
            std::lock_guard lock(mutex_);
            spare_.push_back(std::move(chunk));
            changed_.notify_all();
        }
    }

    void stop() {
        if (!thread_.joinable()) return;
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        changed_.notify_all();
        thread_.join();
    }

    Output& output_;
    const std::function<void(const RowStat&)>& observe_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::unique_ptr<Chunk>> queue_, spare_;
    bool done_ = false;
    std::exception_ptr error_;
    std::thread thread_;  // last: starts once everything it reads is constructed
};

// "  1,234 rows  56,789 rows/s  ETA 3 s" on a terminal, at most five times a second.
class Progress {
  public:
    explicit Progress(bool wanted) : shown_(wanted && ::isatty(2)) {}
    void update(std::uint64_t rows, double fraction_read) {
        if (!shown_) return;
        const auto now = Clock::now();
        if (now - last_ < std::chrono::milliseconds(200)) return;
        last_ = now;
        const double seconds = std::chrono::duration<double>(now - start_).count();
        const double rate = static_cast<double>(rows) / std::max(seconds, 1e-9);
        std::string eta;
        if (fraction_read > 0.001) {
            eta = "  ETA " +
                  std::to_string(
                      static_cast<long>(seconds * (1 - fraction_read) / fraction_read + 0.5)) +
                  " s";
        }
        std::fprintf(stderr, "\r  %s rows  %s rows/s%s   ", with_commas(rows).c_str(),
                     with_commas(static_cast<std::uint64_t>(rate)).c_str(), eta.c_str());
    }
    ~Progress() {
        if (shown_) std::fprintf(stderr, "\r%60s\r", "");
    }

  private:
    bool shown_;
    Clock::time_point start_ = Clock::now(), last_ = start_;
};

}  // namespace

std::uint64_t run_batch(const Engine& engine, InputSource& input, const BatchOptions& options,
                        const std::string& out_path,
                        const std::function<void(const RowStat&)>& observe) {
    const auto columns = contract::batch_columns(input.columns(), options.nearest.k);
    const auto writer = row_writer(engine, options, columns);
    const Worker worker(engine, options, *writer);
    Output output(out_path, options, columns, input.columns().size());
    WriterThread writing(output, observe);
    Progress progress(options.progress);
    std::uint64_t rows = 0;
    while (auto chunk = writing.next_empty()) {
        chunk->rows.resize(options.chunk_rows);
        std::size_t n = 0;
        while (n < options.chunk_rows && input.next(chunk->rows[n])) ++n;
        if (n == 0) break;
        chunk->size = n;
        chunk->stats.resize(n);
        chunk->texts.resize(n);
        chunk->cells.resize(output.wants_cells() ? n : 0);
        parallel_for(n, options.threads, 256, [&](std::size_t begin, std::size_t end) {
            thread_local std::vector<std::string> unused_cells;
            for (std::size_t i = begin; i < end; ++i) {
                auto& cells = output.wants_cells() ? chunk->cells[i] : unused_cells;
                worker.process(chunk->rows[i], chunk->stats[i], chunk->texts[i], cells);
            }
        });
        rows += n;
        writing.push(std::move(chunk));
        progress.update(rows, input.fraction_read());
    }
    writing.finish();
    output.close();
    return rows;
}

}  // namespace hloc::batch
