// The batch CSV shape of DESIGN.md: status, match, lat, lon, then for n = 1..k site_n_id,
// site_n_name, site_n_phone, site_n_metres, site_n_miles. Used by `nearest --format csv` and
// by batch reports, so both read the same.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hloc/engine.hpp"

namespace hloc::api {

std::vector<std::string> nearest_csv_columns(std::uint32_t k);
// Status "ok" for a unit or point, "approximate" for a sector/district fallback.
std::vector<std::string> nearest_csv_row(const Engine& engine, const NearestAnswer& answer,
                                         std::uint32_t k);
// RFC 4180 quoting where needed.
std::string csv_field(std::string_view value);
// The same, appended to `out` (no temporary string: batch reports write millions of fields).
void csv_append(std::string& out, std::string_view value);
std::string csv_line(const std::vector<std::string>& fields);
std::string format_fixed(double value, int decimals);

// nearest_csv_row's fields appended to `out` as CSV text, each after a comma: the same bytes
// as csv_append of each field, without building the row. Each site's id and name are quoted
// once per index rather than once per row (a batch report writes millions of rows).
class NearestCsvAppender {
public:
    explicit NearestCsvAppender(const Engine& engine);
    void append(std::string& out, const NearestAnswer& answer, std::uint32_t k) const;

private:
    const Engine& engine_;
    std::vector<std::string> site_fields_;  // ",id,name", quoted, by site index
};

}  // namespace hloc::api
