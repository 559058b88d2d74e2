#include "csv_format.hpp"

#include <charconv>
#include <cstdio>

#include "hloc/geodesy.hpp"
#include "json_format.hpp"

namespace hloc::api {

std::string format_fixed(double value, int decimals) {
    // std::to_chars prints the exact decimal rounding, as "%.*f" does, without printf's
    // parsing and locale work: batch reports format ~15 numbers per row.
    char text[64];
    const auto [end, ec] = std::to_chars(text, text + sizeof text, round_to(value, decimals),
                                         std::chars_format::fixed, decimals);
    if (ec != std::errc()) {
        std::snprintf(text, sizeof text, "%.*f", decimals, round_to(value, decimals));
        return text;
    }
    return std::string(text, end);
}

std::vector<std::string> nearest_csv_columns(std::uint32_t k) {
    std::vector<std::string> cols = {"status", "match", "lat", "lon"};
    for (std::uint32_t n = 1; n <= k; ++n) {
        const std::string p = "site_" + std::to_string(n) + "_";
        for (auto f : {"id", "name", "phone", "metres", "miles"}) cols.push_back(p + f);
    }
    return cols;
}

std::vector<std::string> nearest_csv_row(const Engine& engine, const NearestAnswer& answer,
                                         std::uint32_t k) {
    const bool exact = answer.origin.match == MatchLevel::unit || answer.origin.match == MatchLevel::point;
    std::vector<std::string> row = {exact ? "ok" : "approximate",
                                    std::string(match_level_name(answer.origin.match)),
                                    format_fixed(answer.origin.position.lat_deg, 7),
                                    format_fixed(answer.origin.position.lon_deg, 7)};
    for (std::uint32_t n = 0; n < k; ++n) {
        if (n < answer.results.size()) {
            const auto& r = answer.results[n];
            const auto site = engine.site(r.site_index);
            row.emplace_back(site.id);
            row.emplace_back(site.name);
            row.emplace_back(engine.phone(r.offer_index).display);
            row.push_back(format_fixed(r.distance_m, 1));
            row.push_back(format_fixed(r.distance_m / kMetresPerMile, 3));
        } else {
            for (int i = 0; i < 5; ++i) row.emplace_back();
        }
    }
    return row;
}

std::string csv_field(std::string_view value) {
    std::string out;
    csv_append(out, value);
    return out;
}

void csv_append(std::string& out, std::string_view value) {
    // One pass over the bytes (find_first_of runs memchr per byte).
    bool needs_quotes = false;
    for (char c : value) needs_quotes = needs_quotes || c == ',' || c == '"' || c == '\r' || c == '\n';
    if (!needs_quotes) {
        out.append(value);
        return;
    }
    out += '"';
    for (char c : value) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

std::string csv_line(const std::vector<std::string>& fields) {
    std::string line;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) line += ',';
        line += csv_field(fields[i]);
    }
    line += '\n';
    return line;
}

namespace {

void append_fixed(std::string& out, double value, int decimals) {
    char text[64];
    const auto [end, ec] = std::to_chars(text, text + sizeof text, round_to(value, decimals),
                                         std::chars_format::fixed, decimals);
    if (ec != std::errc()) {
        out += format_fixed(value, decimals);
        return;
    }
    out.append(text, end);
}

}  // namespace

NearestCsvAppender::NearestCsvAppender(const Engine& engine) : engine_(engine) {
    for (std::uint32_t i = 0; i < engine.site_count(); ++i) {
        const auto site = engine.site(i);
        std::string fields = ",";
        csv_append(fields, site.id);
        fields += ',';
        csv_append(fields, site.name);
        site_fields_.push_back(std::move(fields));
    }
}

void NearestCsvAppender::append(std::string& out, const NearestAnswer& answer, std::uint32_t k) const {
    // Field for field as nearest_csv_row; numbers and the two words never need quotes.
    const bool exact = answer.origin.match == MatchLevel::unit || answer.origin.match == MatchLevel::point;
    out += exact ? ",ok," : ",approximate,";
    out += match_level_name(answer.origin.match);
    out += ',';
    append_fixed(out, answer.origin.position.lat_deg, 7);
    out += ',';
    append_fixed(out, answer.origin.position.lon_deg, 7);
    for (std::uint32_t n = 0; n < k; ++n) {
        if (n < answer.results.size()) {
            const auto& r = answer.results[n];
            out += site_fields_[r.site_index];
            out += ',';
            csv_append(out, engine_.phone(r.offer_index).display);
            out += ',';
            append_fixed(out, r.distance_m, 1);
            out += ',';
            append_fixed(out, r.distance_m / kMetresPerMile, 3);
        } else {
            out += ",,,,,";
        }
    }
}

}  // namespace hloc::api
