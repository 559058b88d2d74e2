// Batch inputs: a CSV file (or standard input) read by CsvReader, or any vector layer GDAL/OGR
// opens (GeoPackage, GeoJSON, Shapefile, XLSX, ...). Each record becomes one InputRow, in order;
// a row whose own content is unusable carries the problem with it instead of being dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hloc/error.hpp"
#include "hloc/query.hpp"

namespace hloc::batch {

struct InputOptions {
    std::string path;             // "-" = standard input (CSV)
    std::string postcode_column;  // name (any case) or 1-based position; "" = find it
    std::string header = "auto";  // CSV: "auto", "yes" or "no"
    std::string encoding;         // CSV: "utf-8" (also when ""), "windows-1252" or "latin-1"
    std::string delimiter;        // CSV: ",", ";" or "tab"; "" = a comma, unless line 1 says
    std::string layer;            // OGR: layer name; "" = the first
    bool use_geometry = false;    // query by each feature's point (CSV: lat, lon), not a postcode
    std::string lat_column;       // CSV: name (any case) or 1-based position; "" = find it
    std::string lon_column;
};

struct InputRow {
    std::uint64_t number = 0;         // 1-based data row
    std::uint64_t line = 0;           // CSV: line it starts on; OGR: feature id
    std::vector<std::string> fields;  // as many as InputSource::columns()
    std::string postcode;             // the text to resolve, when querying by postcode
    std::optional<LatLon> point;      // WGS84, when querying by geometry
    std::optional<Error> problem;     // the row cannot be queried: this is why
};

class InputSource {
  public:
    virtual ~InputSource() = default;
    // Names of the input columns, echoed first in every output row.
    const std::vector<std::string>& columns() const { return columns_; }
    // What the rows are queried by, for the summary ("column postcode", "point geometry").
    const std::string& query_by() const { return query_by_; }
    virtual bool next(InputRow& row) = 0;
    // Fraction of the input read, or a negative number when unknown (standard input).
    virtual double fraction_read() const = 0;

  protected:
    std::vector<std::string> columns_;
    std::string query_by_;
};

// Throws Error{io_error} for a missing or unreadable input, or one that is not a regular file (a
// FIFO, a device, a socket, a directory GDAL reads no dataset from: refused without blocking;
// "-" is standard input, read whatever it is), Error{bad_input} for one that
// cannot be parsed or has no usable postcode column (the message lists the columns seen).
std::unique_ptr<InputSource> open_input(const InputOptions& options);

// Column names that mean "the postcode", in any case.
bool is_postcode_column_name(std::string_view name);
// lat or latitude; lon, lng, long or longitude; in any case.
bool is_lat_column_name(std::string_view name);
bool is_lon_column_name(std::string_view name);

}  // namespace hloc::batch
