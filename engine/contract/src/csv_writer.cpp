#include "hloc/contract/csv_writer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "hloc/contract/json_writer.hpp"
#include "hloc/geodesy.hpp"

namespace hloc::contract {

void csv_append(std::string& out, std::string_view value) {
    // One pass over the bytes (find_first_of runs memchr per byte).
    bool needs_quotes = false;
    for (char c : value)
        needs_quotes = needs_quotes || c == ',' || c == '"' || c == '\r' || c == '\n';
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
        csv_append(line, fields[i]);
    }
    line += '\n';
    return line;
}

namespace {

// "00", "01", ... "99", for printing two digits at a time.
constexpr auto kDigitPairsArray = [] {
    std::array<char, 200> pairs{};
    for (int i = 0; i < 100; ++i) {
        pairs[2 * i] = static_cast<char>('0' + i / 10);
        pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
    return pairs;
}();
constexpr const char* kDigitPairs = kDigitPairsArray.data();

// round_to(value, d) is the double nearest n / 10^d, n = round(value * 10^d). While |n| < 1e15
// that double is within a fifth of 10^-d / 2 of n / 10^d, so its exact decimal rounding to d
// places (what "%.*f" and std::to_chars print) is n with a decimal point put in: printed here
// from the integer, backwards from `end`, at a fraction of to_chars' cost for doubles (a batch
// row has eight such numbers). Returns where the text starts (at most kFixedChars before
// `end`), or nullptr outside that range (and for NaN or more than 9 decimals).
constexpr std::ptrdiff_t kFixedChars = 24;  // room for a sign, 15 digits and a point
char* fixed_backwards(char* end, double value, int decimals) {
    static constexpr double kPowers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    constexpr std::int64_t kLimit = 1'000'000'000'000'000;  // 1e15
    const double scaled = decimals >= 0 && decimals <= 9 ? value * kPowers[decimals] : NAN;
    if (!(std::abs(scaled) < 1e15)) return nullptr;
    // n = std::round(scaled), half away from zero, without the libm call: below 2^52 the
    // truncation of a double is exact, and so is the rest.
    auto n = static_cast<std::int64_t>(scaled);
    const double rest = scaled - static_cast<double>(n);
    n += rest >= 0.5 ? 1 : (rest <= -0.5 ? -1 : 0);
    if (n <= -kLimit || n >= kLimit) return nullptr;
    // Digits from the last, two at a time.
    char* p = end;
    const bool negative = n < 0;
    auto digits = static_cast<std::uint64_t>(negative ? -n : n);
    const auto put_pair = [&](std::uint64_t two) {
        p -= 2;
        std::memcpy(p, kDigitPairs + 2 * two, 2);
    };
    int fraction = decimals;
    for (; fraction >= 2; fraction -= 2, digits /= 100) put_pair(digits % 100);
    if (fraction == 1) {
        *--p = static_cast<char>('0' + digits % 10);
        digits /= 10;
    }
    if (decimals > 0) *--p = '.';
    for (; digits >= 100; digits /= 100) put_pair(digits % 100);
    if (digits >= 10)
        put_pair(digits);
    else
        *--p = static_cast<char>('0' + digits);
    if (negative) *--p = '-';
    return p;
}

}  // namespace

void append_fixed(std::string& out, double value, int decimals) {
    char text[kFixedChars];
    if (char* start = fixed_backwards(text + kFixedChars, value, decimals)) {
        out.append(start, text + kFixedChars);
        return;
    }
    // std::to_chars prints the exact decimal rounding, as "%.*f" does, without printf's
    // parsing and locale work.
    char wide[64];
    const auto [end, ec] = std::to_chars(wide, wide + sizeof wide, round_to(value, decimals),
                                         std::chars_format::fixed, decimals);
    if (ec == std::errc()) {
        out.append(wide, end);
        return;
    }
    std::snprintf(wide, sizeof wide, "%.*f", decimals, round_to(value, decimals));
    out += wide;
}

std::string format_fixed(double value, int decimals) {
    std::string out;
    append_fixed(out, value, decimals);
    return out;
}

namespace {

// Fields as CSV text, each after a comma. Words the contract chooses (status, match) need no
// quoting; a site's id and name, and an offer's phone, come quoted once per index (a report
// writes millions of rows).
struct CsvSink {
    std::string& out;
    void word(std::string_view w) {
        out += ',';
        out += w;
    }
    void empty() { out += ','; }
    void fixed(double value, int decimals) {
        out += ',';
        append_fixed(out, value, decimals);
    }
    void site(std::string_view, std::string_view, const std::string& quoted) { out += quoted; }
    void phone(std::string_view, const std::string& quoted) { out += quoted; }
};

// The same text through a raw pointer, into room made for the longest row
// (NearestRow::row_bound_): a batch row's ~25 fields would otherwise each pay the string's
// capacity checks. A number beyond append_fixed's fast range is not written and clears ok():
// the caller then writes the row again through CsvSink.
struct RawCsvSink {
    char* p;
    bool ok = true;
    void put(std::string_view s) {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    }
    void word(std::string_view w) {
        *p++ = ',';
        put(w);
    }
    void empty() { *p++ = ','; }
    void fixed(double value, int decimals) {
        char digits[kFixedChars];
        char* start = fixed_backwards(digits + kFixedChars, value, decimals);
        if (start == nullptr) {
            ok = false;
            return;
        }
        *p++ = ',';
        put({start, static_cast<std::size_t>(digits + kFixedChars - start)});
    }
    void site(std::string_view, std::string_view, const std::string& quoted) { put(quoted); }
    void phone(std::string_view, const std::string& quoted) { put(quoted); }
};

// Fields as cells.
struct CellSink {
    std::vector<std::string>& out;
    void word(std::string_view w) { out.emplace_back(w); }
    void empty() { out.emplace_back(); }
    void fixed(double value, int decimals) { out.push_back(format_fixed(value, decimals)); }
    void site(std::string_view id, std::string_view name, const std::string&) {
        out.emplace_back(id);
        out.emplace_back(name);
    }
    void phone(std::string_view display, const std::string&) { out.emplace_back(display); }
};

constexpr int kFieldsPerSite = 5;

}  // namespace

std::vector<std::string> nearest_columns(std::uint32_t k) {
    std::vector<std::string> columns = {"status", "match", "lat", "lon"};
    for (std::uint32_t n = 1; n <= k; ++n) {
        const std::string p = "site_" + std::to_string(n) + "_";
        for (auto f : {"id", "name", "phone", "metres", "miles"}) columns.push_back(p + f);
    }
    return columns;
}

std::vector<std::string> batch_columns(const std::vector<std::string>& input_columns,
                                       std::uint32_t k) {
    std::vector<std::string> results = nearest_columns(k);
    results.emplace_back("error_code");
    results.emplace_back("error_message");
    const auto lower = [](std::string_view s) {
        std::string out(s);
        for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return out;
    };
    std::vector<std::string> out;
    for (std::size_t i = 0; i < input_columns.size(); ++i) {
        std::string name = input_columns[i];
        if (name.find_first_not_of(" \t") == std::string::npos)
            name = "column_" + std::to_string(i + 1);
        const auto clash = [&](const std::string& n) {
            return std::any_of(results.begin(), results.end(),
                               [&](const auto& r) { return lower(r) == lower(n); });
        };
        if (clash(name)) name = "input_" + name;
        out.push_back(name);
    }
    out.insert(out.end(), results.begin(), results.end());
    return out;
}

NearestRow::NearestRow(const Engine& engine, std::uint32_t k)
    : k_(k), columns_(nearest_columns(k)) {
    for (const auto& site : engine.sites()) {
        site_id_.push_back(site.id);
        site_name_.push_back(site.name);
        std::string quoted = ",";
        csv_append(quoted, site.id);
        quoted += ',';
        csv_append(quoted, site.name);
        site_csv_.push_back(std::move(quoted));
    }
    for (const auto& t : engine.treatments()) {
        for (std::uint32_t i = 0; i < t.site_count; ++i) {
            phone_.push_back(engine.phone(static_cast<std::uint32_t>(phone_.size())).display);
            std::string quoted = ",";
            csv_append(quoted, phone_.back());
            phone_csv_.push_back(std::move(quoted));
        }
    }
    // The longest row: the two words, two coordinates and, per site, its quoted id and name,
    // phone and two distances, each number after a comma (RawCsvSink).
    std::size_t longest_site = 0, longest_phone = 0, longest_word = 0;
    for (const auto& s : site_csv_) longest_site = std::max(longest_site, s.size());
    for (const auto& p : phone_csv_) longest_phone = std::max(longest_phone, p.size());
    for (int s = 0; s < kRowStatusCount; ++s) {
        longest_word = std::max(longest_word, status_name(static_cast<RowStatus>(s)).size());
    }
    for (auto m : {MatchLevel::unit, MatchLevel::sector, MatchLevel::district, MatchLevel::point,
                   MatchLevel::terminated}) {
        longest_word = std::max(longest_word, match_level_name(m).size());
    }
    const std::size_t number = 1 + static_cast<std::size_t>(kFixedChars);
    row_bound_ =
        2 * (1 + longest_word) + 2 * number +
        k_ * std::max<std::size_t>(longest_site + longest_phone + 2 * number, kFieldsPerSite);
}

template <class Sink>
void NearestRow::write(Sink& sink, const NearestAnswer& answer) const {
    sink.word(status_name(status_of(answer.origin.match)));
    sink.word(match_level_name(answer.origin.match));
    sink.fixed(answer.origin.position.lat_deg, 7);
    sink.fixed(answer.origin.position.lon_deg, 7);
    for (std::uint32_t n = 0; n < k_; ++n) {
        if (n >= answer.results.size()) {
            for (int i = 0; i < kFieldsPerSite; ++i) sink.empty();
            continue;
        }
        const auto& r = answer.results[n];
        sink.site(site_id_.at(r.site_index), site_name_.at(r.site_index),
                  site_csv_.at(r.site_index));
        sink.phone(phone_.at(r.offer_index), phone_csv_.at(r.offer_index));
        sink.fixed(r.distance_m, 1);
        sink.fixed(r.distance_m / kMetresPerMile, 3);
    }
}

void NearestRow::append_csv(std::string& out, const NearestAnswer& answer) const {
    // Into a scratch buffer, then one append: `out` grows by the row, not by the longest row.
    thread_local std::string scratch;
    if (scratch.size() < row_bound_) scratch.resize(row_bound_);
    RawCsvSink raw{scratch.data()};
    write(raw, answer);
    if (raw.ok) {
        out.append(scratch.data(), raw.p);
        return;
    }
    CsvSink sink{out};
    write(sink, answer);
}

void NearestRow::cells(std::vector<std::string>& out, const NearestAnswer& answer) const {
    CellSink sink{out};
    write(sink, answer);
}

void NearestRow::append_csv(std::string& out, RowStatus status) const {
    out += ',';
    out += status_name(status);
    out.append(columns_.size() - 1, ',');
}

void NearestRow::cells(std::vector<std::string>& out, RowStatus status) const {
    out.emplace_back(status_name(status));
    out.resize(out.size() + columns_.size() - 1);
}

void NearestRow::append_batch_csv(std::string& out, const NearestAnswer& answer) const {
    append_csv(out, answer);
    out += ",,\n";  // error_code, error_message
}

void NearestRow::append_batch_csv(std::string& out, RowStatus status, const Error& error) const {
    append_csv(out, status);
    out += ',';
    out += error_code_name(error.code());
    out += ',';
    csv_append(out, error.message());
    out += '\n';
}

std::string lookup_csv(const PostcodeRecord& record) {
    std::string out = "postcode,match,lat,lon,eastings,northings,grid,quality,country,terminated\n";
    csv_append(out, record.postcode);
    out += ',';
    out += match_level_name(record.match);
    for (auto [value, decimals] : {std::pair{record.position.lat_deg, 7},
                                   {record.position.lon_deg, 7},
                                   {record.eastings_m, 1},
                                   {record.northings_m, 1}}) {
        out += ',';
        if (record.located) append_fixed(out, value, decimals);
    }
    out += ',';
    if (record.located) out += record.grid;
    out += ',' + std::to_string(record.quality) + ',';
    csv_append(out, record.country);
    out += ',';
    out += record.terminated;
    out += '\n';
    return out;
}

std::string reverse_csv(const std::vector<ReverseHit>& hits) {
    std::string out = "rank,postcode,lat,lon,metres\n";
    int rank = 0;
    for (const auto& h : hits) {
        out += std::to_string(++rank) + ',';
        csv_append(out, h.postcode);
        for (auto [value, decimals] :
             {std::pair{h.position.lat_deg, 7}, {h.position.lon_deg, 7}, {h.distance_m, 3}}) {
            out += ',';
            append_fixed(out, value, decimals);
        }
        out += '\n';
    }
    return out;
}

}  // namespace hloc::contract
