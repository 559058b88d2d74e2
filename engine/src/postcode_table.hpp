// The postcode tables of a mapped index: units (packed rows in district order), sectors and
// districts with their centroids, and the quality-90 units that have no coordinates.
//
// find() resolves postcode text unit -> sector -> district, as far as needed to reach a
// located record, and words the note that says which fallback was used and why.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hloc/error.hpp"
#include "hloc/index_format.hpp"
#include "hloc/postcode.hpp"
#include "hloc/query.hpp"
#include "index_reader.hpp"

namespace hloc::detail {

class PostcodeTable {
  public:
    // source_name: where the postcodes came from ("Code-Point Open", "ONSPD"), for notes.
    PostcodeTable(const IndexReader& index, std::string source_name);

    // With `need_position` false a unit with no coordinates (quality 90) is itself the answer;
    // with it true, such a unit falls back to its sector or district.
    Result<PostcodeRecord> find(std::string_view input, bool need_position) const;

    bool has_northern_ireland() const { return has_northern_ireland_; }
    std::uint32_t located_count() const { return static_cast<std::uint32_t>(rows_.size()); }
    std::string row_postcode(std::uint32_t row) const;  // "CM15 8EH"
    LatLon row_position(std::uint32_t row) const;
    std::uint8_t row_quality(std::uint32_t row) const;
    PostcodeRecord unit_record(std::uint32_t row, std::string text) const;

  private:
    // The district's position in districts_, or districts_.size() when there is none.
    std::size_t district_slot(std::string_view outward) const;
    std::size_t district_bucket(std::uint32_t key) const;
    const format::DistrictRecord* find_district(std::string_view outward) const;
    std::optional<std::uint32_t> find_row(std::size_t district, std::uint32_t inward) const;
    std::optional<std::uint32_t> find_unit(const ParsedPostcode& p) const;
    const format::SectorRecord* find_sector(const format::DistrictRecord& d, char digit) const;
    const format::UnlocatedRecord* find_unlocated(std::string_view text) const;
    const format::TerminatedRecord* find_terminated(std::string_view text) const;
    PostcodeRecord terminated_record(const format::TerminatedRecord& t, std::string text) const;
    std::string no_coordinates(const std::string& text) const;
    std::string not_in_source(const std::string& what) const;
    Result<PostcodeRecord> fall_back(const ParsedPostcode& p,
                                     const format::DistrictRecord* district,
                                     std::string note) const;
    Error with_existing_suggestion(std::string_view input, Error error) const;

    std::string source_name_;
    bool has_northern_ireland_ = false;
    std::span<const format::DistrictRecord> districts_;
    std::span<const format::SectorRecord> sectors_;
    std::span<const std::uint64_t> rows_;
    std::span<const std::uint16_t> row_samples_;
    std::span<const format::UnitVector> vectors_;
    std::span<const format::UnlocatedRecord> unlocated_;
    std::span<const format::AdminDistrictRecord> admin_districts_;
    std::span<const std::uint16_t> row_admin_districts_;
    std::span<const format::TerminatedRecord> terminated_;
    // District outward codes as big-endian integers, hashed to their slots (open addressing,
    // at most half full: 64 KB for GB), and each district's rows (23 KB): a lookup probes once
    // or twice in cache, where a binary search took twelve steps, and reads no district record
    // from the mapping before its rows.
    struct RowRange {
        std::uint32_t first;
        std::uint32_t count;
    };
    std::vector<std::uint64_t> district_hash_;  // key << 32 | (slot + 1); 0 = empty
    unsigned district_hash_shift_ = 64;
    std::vector<RowRange> district_rows_;
};

}  // namespace hloc::detail
