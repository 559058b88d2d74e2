#include "postcode_table.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "hloc/unit_vector.hpp"
#include "text.hpp"

namespace hloc::detail {

namespace fmt = format;

namespace {

std::string_view country_name(std::uint8_t country) {
    switch (static_cast<fmt::Country>(country)) {
        case fmt::Country::england:
            return "England";
        case fmt::Country::scotland:
            return "Scotland";
        case fmt::Country::wales:
            return "Wales";
        case fmt::Country::northern_ireland:
            return "Northern Ireland";
        case fmt::Country::unknown:
            break;
    }
    return "";
}

std::string outward_text(const fmt::DistrictRecord& d) {
    return std::string(d.outward.data(), strnlen(d.outward.data(), d.outward.size()));
}

std::string inward_text(std::uint32_t code) {
    std::string s(3, ' ');
    s[0] = static_cast<char>('0' + code / 676);
    s[1] = static_cast<char>('A' + (code / 26) % 26);
    s[2] = static_cast<char>('A' + code % 26);
    return s;
}

std::uint32_t district_key(const std::array<char, 4>& outward) {
    return (std::uint32_t{static_cast<std::uint8_t>(outward[0])} << 24) |
           (std::uint32_t{static_cast<std::uint8_t>(outward[1])} << 16) |
           (std::uint32_t{static_cast<std::uint8_t>(outward[2])} << 8) |
           std::uint32_t{static_cast<std::uint8_t>(outward[3])};
}

// A record of a table sorted by its canonical text (quality-90 units, terminated postcodes).
template <class Record>
const Record* find_by_text(std::span<const Record> records, std::string_view text) {
    std::array<char, 8> key{};
    if (text.size() > key.size()) return nullptr;
    std::memcpy(key.data(), text.data(), text.size());
    auto it =
        std::lower_bound(records.begin(), records.end(), key,
                         [](const Record& r, const std::array<char, 8>& k) { return r.text < k; });
    if (it == records.end() || it->text != key) return nullptr;
    return &*it;
}

// The grid of a row's eastings and northings: Irish Grid in Northern Ireland.
std::string_view grid_of(std::uint8_t country) {
    return static_cast<fmt::Country>(country) == fmt::Country::northern_ireland ? "EPSG:29903"
                                                                                : "EPSG:27700";
}

// ONSPD's YYYYMM as "YYYY-MM".
std::string month_text(std::uint32_t yyyymm) {
    const auto month = std::to_string(yyyymm % 100);
    return std::to_string(yyyymm / 100) + (month.size() < 2 ? "-0" : "-") + month;
}

PostcodeRecord centroid_record(std::string text, MatchLevel level, const fmt::Centroid& c,
                               std::uint8_t country) {
    PostcodeRecord r;
    r.postcode = std::move(text);
    r.match = level;
    r.located = c.located_count > 0;
    r.position = {c.lat_deg, c.lon_deg};
    r.eastings_m = c.eastings_m;
    r.northings_m = c.northings_m;
    r.quality = 0;
    r.country = country_name(country);
    r.grid = grid_of(country);
    r.postcode_count = c.located_count;
    return r;
}

}  // namespace

PostcodeTable::PostcodeTable(const IndexReader& index, std::string source_name)
    : source_name_(std::move(source_name)),
      districts_(index.districts),
      sectors_(index.sectors),
      rows_(index.rows),
      row_samples_(index.row_samples),
      vectors_(index.vectors),
      unlocated_(index.unlocated),
      admin_districts_(index.admin_districts),
      row_admin_districts_(index.row_admin_districts),
      terminated_(index.terminated) {
    std::size_t buckets = 16;
    while (buckets < 2 * districts_.size()) buckets *= 2;
    district_hash_.assign(buckets, 0);
    district_hash_shift_ = 64 - static_cast<unsigned>(std::countr_zero(buckets));
    district_rows_.reserve(districts_.size());
    for (const auto& d : districts_) {
        const auto key = district_key(d.outward);
        const auto slot = static_cast<std::uint64_t>(district_rows_.size());
        for (auto i = district_bucket(key);; i = (i + 1) & (buckets - 1)) {
            auto& entry = district_hash_[i];
            if (entry == 0) {
                entry = std::uint64_t{key} << 32 | (slot + 1);
                break;
            }
            if (entry >> 32 == key) break;  // a repeated code: its first slot answers
        }
        district_rows_.push_back({d.first_row, d.row_count});
        if (d.country == static_cast<std::uint8_t>(fmt::Country::northern_ireland)) {
            has_northern_ireland_ = true;
        }
    }
}

std::string PostcodeTable::no_coordinates(const std::string& text) const {
    return in_quotes(text) + " has no coordinates in " + source_name_ + " (positional quality 90)";
}

std::string PostcodeTable::not_in_source(const std::string& what) const {
    return what + " is not in " + source_name_;
}

std::size_t PostcodeTable::district_slot(std::string_view outward) const {
    std::array<char, 4> text{};
    if (outward.size() > text.size()) return districts_.size();
    std::memcpy(text.data(), outward.data(), outward.size());
    const auto key = district_key(text);
    const std::size_t mask = district_hash_.size() - 1;
    for (auto i = district_bucket(key);; i = (i + 1) & mask) {
        const auto entry = district_hash_[i];
        if (entry == 0) return districts_.size();
        if (entry >> 32 == key) return static_cast<std::size_t>(entry & 0xffff'ffffu) - 1;
    }
}

std::size_t PostcodeTable::district_bucket(std::uint32_t key) const {
    return static_cast<std::size_t>((key * 0x9e37'79b9'7f4a'7c15u) >> district_hash_shift_);
}

const fmt::DistrictRecord* PostcodeTable::find_district(std::string_view outward) const {
    const auto slot = district_slot(outward);
    return slot < districts_.size() ? &districts_[slot] : nullptr;
}

std::optional<std::uint32_t> PostcodeTable::find_row(std::size_t district,
                                                     std::uint32_t inward) const {
    // The last sampled row at or before the answer, among the district's samples, then one
    // block of kRowSampleStride rows: two dependent reads of the mapping, not ten.
    const std::size_t first = district_rows_[district].first;
    const std::size_t end = first + district_rows_[district].count;
    constexpr std::size_t stride = fmt::kRowSampleStride;
    // Samples of rows inside the district: rows s*stride for s in [s_lo, s_hi).
    const std::size_t s_lo = (first + stride - 1) / stride, s_hi = (end + stride - 1) / stride;
    std::size_t lo = first, hi = std::min(end, s_lo * stride);  // the rows before its first sample
    if (s_lo < s_hi) {
        const auto begin = row_samples_.begin() + static_cast<long>(s_lo);
        const auto it =
            std::upper_bound(begin, row_samples_.begin() + static_cast<long>(s_hi), inward);
        if (it != begin) {  // the last sample <= inward starts the block that holds it
            lo = static_cast<std::size_t>(it - row_samples_.begin() - 1) * stride;
            hi = std::min(end, lo + stride);
        }
    }
    // The caller will read the row's unit vector and admin district next: fetch their blocks
    // now, so that those cache misses overlap the block's instead of following it.
    __builtin_prefetch(&vectors_[lo]);
    __builtin_prefetch(&vectors_[std::min(hi, lo + 8)]);
    if (!row_admin_districts_.empty()) __builtin_prefetch(&row_admin_districts_[lo]);
    for (std::size_t i = lo; i < hi; ++i) {
        const auto c = fmt::PackedRow::inward_code(rows_[i]);
        if (c == inward) return static_cast<std::uint32_t>(i);
        if (c > inward) return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> PostcodeTable::find_unit(const ParsedPostcode& p) const {
    const auto slot = district_slot(p.outward);
    if (slot == districts_.size()) return std::nullopt;
    return find_row(slot, fmt::inward_code(p.sector_digit, p.unit_letters[0], p.unit_letters[1]));
}

const fmt::SectorRecord* PostcodeTable::find_sector(const fmt::DistrictRecord& d,
                                                    char digit) const {
    for (std::uint32_t s = d.first_sector; s < d.first_sector + d.sector_count; ++s) {
        if (sectors_[s].digit == static_cast<std::uint8_t>(digit)) return &sectors_[s];
    }
    return nullptr;
}

const fmt::UnlocatedRecord* PostcodeTable::find_unlocated(std::string_view text) const {
    return find_by_text(unlocated_, text);
}

std::string PostcodeTable::row_postcode(std::uint32_t row) const {
    // Searched in district_rows_ (in cache), not in the mapped 64-byte records.
    auto it = std::upper_bound(district_rows_.begin(), district_rows_.end(), row,
                               [](std::uint32_t r, const RowRange& d) { return r < d.first; });
    const auto& d = districts_[static_cast<std::size_t>(it - district_rows_.begin()) - 1];
    return outward_text(d) + ' ' + inward_text(fmt::PackedRow::inward_code(rows_[row]));
}

LatLon PostcodeTable::row_position(std::uint32_t row) const {
    return from_unit_vector(vectors_[row]);
}

std::uint8_t PostcodeTable::row_quality(std::uint32_t row) const {
    return fmt::kQualityCodes[fmt::PackedRow::quality_index(rows_[row])];
}

PostcodeRecord PostcodeTable::unit_record(std::uint32_t row, std::string text) const {
    const auto packed = rows_[row];
    PostcodeRecord r;
    r.postcode = std::move(text);
    r.match = MatchLevel::unit;
    r.located = true;
    r.position = row_position(row);
    r.eastings_m = fmt::PackedRow::eastings_m(packed);
    r.northings_m = fmt::PackedRow::northings_m(packed);
    r.quality = row_quality(row);
    const auto country = static_cast<std::uint8_t>(fmt::PackedRow::country(packed));
    r.country = country_name(country);
    r.grid = grid_of(country);
    if (!row_admin_districts_.empty()) {
        if (const auto n = row_admin_districts_[row]; n != 0) {  // in range: checked at open
            const auto& code = admin_districts_[n - 1].code;
            r.admin_district.assign(code.begin(), code.end());
        }
    }
    return r;
}

const fmt::TerminatedRecord* PostcodeTable::find_terminated(std::string_view text) const {
    return find_by_text(terminated_, text);
}

PostcodeRecord PostcodeTable::terminated_record(const fmt::TerminatedRecord& t,
                                                std::string text) const {
    PostcodeRecord r;
    r.postcode = std::move(text);
    r.match = MatchLevel::terminated;
    r.located = t.located != 0;
    if (r.located) {
        r.position = from_unit_vector(t.position);
        r.eastings_m = t.eastings_m;
        r.northings_m = t.northings_m;
    }
    r.grid = grid_of(t.country);
    r.quality = t.quality;
    r.country = country_name(t.country);
    r.terminated = month_text(t.terminated);
    r.note = in_quotes(r.postcode) + " was terminated by Royal Mail in " + r.terminated +
             (r.located ? "; its last position is used" : " and has no grid reference");
    return r;
}

Result<PostcodeRecord> PostcodeTable::find(std::string_view input, bool need_position) const {
    auto parsed = parse_postcode(input);
    if (!parsed) return with_existing_suggestion(input, parsed.error());
    const auto& p = *parsed;
    // An outward code starting "BT" is in area BT: a prefix test, cheaper than postcode_area().
    if (!has_northern_ireland_ && p.outward.starts_with(kNorthernIrelandArea)) {
        return Error(ErrorCode::not_covered,
                     in_quotes(input) +
                         " is in Northern Ireland, which this index does not cover: " +
                         "it was built from " + source_name_ +
                         " (Great Britain only); an index built from ONSPD covers it");
    }
    if (p.level != PostcodeLevel::unit) return fall_back(p, find_district(p.outward), "");
    std::string text = p.text();
    // A live postcode first: it never answers as terminated.
    if (auto row = find_unit(p)) return unit_record(*row, std::move(text));
    const auto* u = find_unlocated(text);
    if (u != nullptr && !need_position) {
        PostcodeRecord r;
        r.postcode = text;
        r.match = MatchLevel::unit;
        r.located = false;
        r.quality = u->quality;
        r.country = country_name(u->country);
        r.postcode_count = 0;
        r.note = no_coordinates(text);
        return r;
    }
    if (u == nullptr) {
        if (const auto* t = find_terminated(text)) {
            auto r = terminated_record(*t, text);
            if (r.located || !need_position) return r;
            return fall_back(p, find_district(p.outward), std::move(r.note));
        }
    }
    const std::string note = u != nullptr ? no_coordinates(text) : not_in_source(in_quotes(text));
    return fall_back(p, find_district(p.outward), note);
}

// The sector's centroid, else the district's, with `note` (why the unit was not used) extended
// to say which centroid stands in for it; or postcode_not_found saying what was looked for.
Result<PostcodeRecord> PostcodeTable::fall_back(const ParsedPostcode& p,
                                                const fmt::DistrictRecord* district,
                                                std::string note) const {
    if (p.level != PostcodeLevel::district && district != nullptr) {
        if (const auto* s = find_sector(*district, p.sector_digit);
            s != nullptr && s->centroid.located_count > 0) {
            auto r = centroid_record(p.sector_text(), MatchLevel::sector, s->centroid, s->country);
            if (!note.empty()) {
                r.note =
                    note + "; the centroid of its sector " + in_quotes(r.postcode) + " is used";
            }
            return r;
        }
        if (note.empty()) note = not_in_source("sector " + in_quotes(p.sector_text()));
    }
    if (district != nullptr && district->centroid.located_count > 0) {
        auto r =
            centroid_record(p.outward, MatchLevel::district, district->centroid, district->country);
        if (!note.empty()) {
            r.note = note + "; the centroid of its district " + in_quotes(p.outward) + " is used";
        }
        return r;
    }
    const auto district_text = in_quotes(p.outward);
    if (p.level == PostcodeLevel::district) {
        return Error(ErrorCode::postcode_not_found,
                     district == nullptr
                         ? not_in_source("postcode district " + district_text)
                         : "postcode district " + district_text + " has no located postcode");
    }
    if (district == nullptr) {
        return Error(
            ErrorCode::postcode_not_found,
            not_in_source(in_quotes(p.text())) + ", and neither is its district " + district_text);
    }
    return Error(ErrorCode::postcode_not_found, note +
                                                    ", and neither its sector nor its district " +
                                                    district_text + " has a located postcode");
}

// For an O/0 or I/1 slip with several possible corrections, suggest one that exists in the
// data (the parser, which has no data, suggests the first well-formed one).
Error PostcodeTable::with_existing_suggestion(std::string_view input, Error error) const {
    if (error.code() != ErrorCode::invalid_postcode) return error;
    const auto suggestions = postcode_suggestions(input);
    if (suggestions.size() < 2) return error;
    for (const auto& s : suggestions) {
        auto p = parse_postcode(s);
        if (p && p->level == PostcodeLevel::unit && find_unit(*p)) return error.with_suggestion(s);
    }
    return error;
}

}  // namespace hloc::detail
