// Batch outputs: CSV and JSON Lines written as text, GeoJSON and GeoPackage through GDAL.
// Every output goes to a temporary file beside its target and is renamed into place only when
// complete, so a failed or interrupted run leaves no half report.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace hloc::batch {

enum class OutputFormat { csv, jsonl, geojson, gpkg };

// From --format when given (csv, jsonl, geojson, gpkg), else from the extension (.csv, .jsonl,
// .ndjson, .geojson, .gpkg); "-" is CSV on standard output. Throws Error{invalid_parameter}.
OutputFormat output_format(const std::string& path, const std::string& format);

// SIGINT, SIGTERM and SIGHUP remove every registered temporary file and exit 128 + signal.
void install_signal_cleanup();

// A file written under a temporary name in the target's directory, renamed on commit().
// The constructor refuses a target that exists (unless `force`), a directory that does not
// exist or cannot be written, and a target that is one of `inputs`.
class SafeOutput {
  public:
    SafeOutput(std::string target, bool force, const std::vector<std::string>& inputs = {});
    SafeOutput(const SafeOutput&) = delete;
    SafeOutput& operator=(const SafeOutput&) = delete;
    ~SafeOutput();  // removes the temporary file unless committed

    const std::string& target() const { return target_; }
    const std::string& temp_path() const { return temp_; }
    void commit();  // throws Error{io_error}

  private:
    std::string target_, temp_;
    int slot_ = -1;
    bool committed_ = false;
};

// A buffered file (or standard output) that reports write errors (a full disk) as Error{io_error}.
class TextFile {
  public:
    explicit TextFile(const std::string& path);  // "-" = standard output
    ~TextFile();
    void write(const std::string& text);
    // Many pieces at once, straight from their strings (writev), without a buffer copy.
    void write_all(const std::string* texts, std::size_t count);
    void close();  // flushes; throws on any error seen

  private:
    std::FILE* file_ = nullptr;
    std::string path_;
    bool owned_ = false;
    std::vector<char> buffer_;
};

// GeoJSON or GeoPackage through GDAL: one point feature per row at the query location (WGS84),
// no geometry for rows that have none; attributes as the CSV columns, numbers as reals.
class OgrWriter {
  public:
    OgrWriter(const std::string& path, OutputFormat format, const std::vector<std::string>& columns,
              std::size_t input_columns, std::uint32_t k);
    ~OgrWriter();
    void begin_chunk();
    // `cells` has one value per column; an empty cell is a null field.
    void write(const std::vector<std::string>& cells, bool has_point, double lat_deg,
               double lon_deg);
    void end_chunk();
    void close();

  private:
    void* dataset_ = nullptr;
    void* layer_ = nullptr;
    void* defn_ = nullptr;
    std::vector<bool> real_;
    std::string path_;
};

// Valid UTF-8, with each invalid byte replaced by U+FFFD (GDAL drivers and JSON need it).
std::string valid_utf8(std::string_view text);

}  // namespace hloc::batch
