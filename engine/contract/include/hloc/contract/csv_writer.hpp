// The CSV shapes of DESIGN.md. A nearest row is status, match, lat, lon, then for n = 1..k
// site_n_id, site_n_name, site_n_phone, site_n_metres, site_n_miles: `nearest --format csv`,
// batch CSV and the attribute columns of batch GeoJSON/GeoPackage all come from NearestRow,
// so every output of a row reads the same. RFC 4180 quoting where a field needs it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hloc/contract/status.hpp"
#include "hloc/engine.hpp"

namespace hloc::contract {

// RFC 4180: quoted (and quotes doubled) when the field holds a comma, quote, CR or LF.
void csv_append(std::string& out, std::string_view field);
std::string csv_line(const std::vector<std::string>& fields);  // with "\n"
// Fixed decimals, exactly rounded ("%.*f" without printf's locale work).
std::string format_fixed(double value, int decimals);
void append_fixed(std::string& out, double value, int decimals);

// The row's column names for k sites.
std::vector<std::string> nearest_columns(std::uint32_t k);

// A batch's columns (`hospital-locator batch`, the Python module's NearestBatch.to_csv): the
// input's (renamed "input_<name>" where they would clash with a result column, "column_<n>"
// where blank), then nearest_columns(k), then error_code and error_message.
std::vector<std::string> batch_columns(const std::vector<std::string>& input_columns,
                                       std::uint32_t k);

class NearestRow {
  public:
    NearestRow(const Engine& engine, std::uint32_t k);

    const std::vector<std::string>& columns() const { return columns_; }

    // The row's fields as CSV text, each after a comma (the caller writes what comes first).
    void append_csv(std::string& out, const NearestAnswer& answer) const;
    // A row with no answer: its status, then empty fields.
    void append_csv(std::string& out, RowStatus status) const;
    // The same fields as separate cells (GeoJSON / GeoPackage attributes).
    void cells(std::vector<std::string>& out, const NearestAnswer& answer) const;
    void cells(std::vector<std::string>& out, RowStatus status) const;
    // The rest of a batch CSV line once the input's fields are written: the answer's fields
    // and two empty error fields, or the failed row's status, empty fields, its error's code
    // and message; then "\n".
    void append_batch_csv(std::string& out, const NearestAnswer& answer) const;
    void append_batch_csv(std::string& out, RowStatus status, const Error& error) const;

  private:
    template <class Sink>
    void write(Sink& sink, const NearestAnswer& answer) const;

    std::uint32_t k_;
    std::vector<std::string> columns_;
    // Views into the index, looked up once: a report writes millions of rows.
    std::vector<std::string_view> site_id_, site_name_;  // by site index
    std::vector<std::string> site_csv_;                  // ",id,name" quoted once, by site index
    std::vector<std::string_view> phone_;                // display form, by offer index
    std::vector<std::string> phone_csv_;                 // ",phone" quoted once, by offer index
    std::size_t row_bound_ = 0;  // the most bytes append_csv(answer) can write
};

// `lookup --format csv` and `reverse --format csv`.
std::string lookup_csv(const PostcodeRecord& record);
std::string reverse_csv(const std::vector<ReverseHit>& hits);

}  // namespace hloc::contract
