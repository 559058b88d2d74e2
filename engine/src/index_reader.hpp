// The index file, mapped and checked: the header (magic, version, byte order, checksums,
// size), the section table, and every reference a query follows. Once an IndexReader is
// constructed no query can read outside the file, whatever its bytes (the payload checksum
// covers the contents of the rows themselves; see verify_payload).
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "hloc/error.hpp"
#include "hloc/index_format.hpp"
#include "mapped_file.hpp"

namespace hloc::detail {

class IndexReader {
  public:
    // Throws Error{bad_index} naming what was wrong, Error{io_error} when unreadable.
    IndexReader(const std::filesystem::path& path, bool resident);

    // Recomputes the payload checksum; throws Error{bad_index} on a mismatch.
    void verify_payload() const;

    // Error{bad_index} "index '<path>' is refused: <why>".
    Error corrupt(const std::string& why) const;

    std::string_view str(const format::StringRef& r) const {
        return {reinterpret_cast<const char*>(strings.data()) + r.offset, r.length};
    }

    std::string path;
    format::FileHeader header{};
    std::string_view metadata;
    std::span<const std::byte> strings;
    std::span<const format::DistrictRecord> districts;
    std::span<const format::SectorRecord> sectors;
    std::span<const std::uint64_t> rows;
    std::span<const std::uint16_t> row_samples;
    std::span<const format::UnitVector> vectors;
    std::span<const format::UnlocatedRecord> unlocated;
    std::span<const format::SiteRecord> site_records;
    std::span<const format::TreatmentRecord> treatment_records;
    std::span<const format::OfferRecord> offers;
    std::span<const format::UnitVector> site_vectors;
    std::span<const std::byte> site_tree_bytes;
    std::span<const std::byte> postcode_tree_bytes;
    // Empty in a file built before admin districts were stored (the sections are optional).
    std::span<const format::AdminDistrictRecord> admin_districts;
    std::span<const std::uint16_t> row_admin_districts;
    std::span<const format::TerminatedRecord> terminated;  // empty unless built from ONSPD

  private:
    void check_header();
    void map_sections();
    void check_postcode_references() const;
    void check_site_references() const;
    const format::SectionEntry* find_section(format::SectionId id) const;
    std::span<const std::byte> section_bytes(format::SectionId id, std::string_view name) const;
    template <class T>
    std::span<const T> section_array(format::SectionId id, std::string_view name) const;
    void check_str(const format::StringRef& r, const char* what, std::size_t index) const;

    MappedFile file_;
};

}  // namespace hloc::detail
