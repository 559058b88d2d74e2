#include "index_reader.hpp"

#include <algorithm>
#include <cstring>

#include "hloc/checksum.hpp"

namespace hloc::detail {

namespace fmt = format;

IndexReader::IndexReader(const std::filesystem::path& p, bool resident)
    : path(p.string()), file_(p, resident) {
    check_header();
    map_sections();
    check_postcode_references();
    check_site_references();
}

Error IndexReader::corrupt(const std::string& why) const {
    return Error(ErrorCode::bad_index, "index '" + path + "' is refused: " + why);
}

void IndexReader::verify_payload() const {
    const auto actual = checksum(file_.bytes().subspan(header.header_bytes));
    if (actual != header.payload_checksum) {
        throw corrupt("its payload checksum is " + checksum_hex(actual) + ", the header says " +
                      checksum_hex(header.payload_checksum) + " (the file is corrupt)");
    }
}

void IndexReader::check_header() {
    const auto bytes = file_.bytes();
    if (bytes.size() < sizeof(fmt::FileHeader)) {
        throw corrupt("it is " + std::to_string(bytes.size()) +
                      " bytes, shorter than an index header (" +
                      std::to_string(sizeof(fmt::FileHeader)) + " bytes)");
    }
    std::memcpy(&header, bytes.data(), sizeof header);
    if (header.magic != fmt::kMagic)
        throw corrupt("it is not a hospital-locator index (bad magic)");
    if (header.endian_tag != fmt::kEndianTag) {
        throw corrupt("it was written with the other byte order");
    }
    if (header.format_version != fmt::kFormatVersion) {
        throw corrupt("it is format version " + std::to_string(header.format_version) +
                      ", this program reads version " + std::to_string(fmt::kFormatVersion) +
                      "; rebuild it with this version's 'hospital-locator build'");
    }
    auto copy = header;
    copy.header_checksum = 0;
    if (checksum(std::as_bytes(std::span(&copy, 1))) != header.header_checksum) {
        throw corrupt("its header checksum does not match (the header is corrupt)");
    }
    if (header.file_size != bytes.size()) {
        throw corrupt("it is " + std::to_string(bytes.size()) + " bytes but its header says " +
                      std::to_string(header.file_size) + " (truncated or appended to)");
    }
    if (header.header_bytes != fmt::kHeaderBytes || header.section_count > fmt::kMaxSections) {
        throw corrupt("its header has an impossible size or section count");
    }
}

const fmt::SectionEntry* IndexReader::find_section(fmt::SectionId id) const {
    for (std::uint32_t i = 0; i < header.section_count; ++i) {
        if (header.sections[i].id == static_cast<std::uint32_t>(id)) return &header.sections[i];
    }
    return nullptr;
}

std::span<const std::byte> IndexReader::section_bytes(fmt::SectionId id,
                                                      std::string_view name) const {
    const auto* s = find_section(id);
    if (s == nullptr) throw corrupt("section '" + std::string(name) + "' is missing");
    if (s->offset < header.header_bytes || s->offset > header.file_size ||
        s->size > header.file_size - s->offset || s->offset % fmt::kSectionAlignment != 0) {
        throw corrupt("section '" + std::string(name) + "' lies outside the file");
    }
    return file_.bytes().subspan(s->offset, s->size);
}

template <class T>
std::span<const T> IndexReader::section_array(fmt::SectionId id, std::string_view name) const {
    const auto bytes = section_bytes(id, name);
    const auto* s = find_section(id);
    if (bytes.size() % sizeof(T) != 0 || bytes.size() / sizeof(T) != s->count) {
        throw corrupt("section '" + std::string(name) + "' has " + std::to_string(bytes.size()) +
                      " bytes, not " + std::to_string(s->count) + " records of " +
                      std::to_string(sizeof(T)));
    }
    return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
}

void IndexReader::map_sections() {
    using S = fmt::SectionId;
    const auto meta = section_bytes(S::metadata, "metadata");
    metadata = {reinterpret_cast<const char*>(meta.data()), meta.size()};
    strings = section_bytes(S::strings, "strings");
    districts = section_array<fmt::DistrictRecord>(S::districts, "districts");
    sectors = section_array<fmt::SectorRecord>(S::sectors, "sectors");
    rows = section_array<std::uint64_t>(S::postcodes, "postcodes");
    row_samples = section_array<std::uint16_t>(S::row_samples, "row_samples");
    vectors = section_array<fmt::UnitVector>(S::unit_vectors, "unit_vectors");
    unlocated = section_array<fmt::UnlocatedRecord>(S::unlocated, "unlocated");
    site_records = section_array<fmt::SiteRecord>(S::sites, "sites");
    treatment_records = section_array<fmt::TreatmentRecord>(S::treatments, "treatments");
    offers = section_array<fmt::OfferRecord>(S::treatment_sites, "treatment_sites");
    site_vectors = section_array<fmt::UnitVector>(S::site_vectors, "site_vectors");
    site_tree_bytes = section_bytes(S::site_trees, "site_trees");
    postcode_tree_bytes = section_bytes(S::postcode_tree, "postcode_tree");
    if (find_section(S::admin_districts) != nullptr ||
        find_section(S::row_admin_districts) != nullptr) {
        admin_districts =
            section_array<fmt::AdminDistrictRecord>(S::admin_districts, "admin_districts");
        row_admin_districts =
            section_array<std::uint16_t>(S::row_admin_districts, "row_admin_districts");
    }
    if (find_section(S::terminated) != nullptr) {
        terminated = section_array<fmt::TerminatedRecord>(S::terminated, "terminated");
    }
}

void IndexReader::check_str(const fmt::StringRef& r, const char* what, std::size_t index) const {
    if (r.offset > strings.size() || r.length > strings.size() - r.offset) {
        throw corrupt(std::string(what) + " " + std::to_string(index) +
                      " points outside the string table");
    }
}

// Districts own consecutive row ranges and sector ranges, in outward-code order.
void IndexReader::check_postcode_references() const {
    if (vectors.size() != rows.size()) throw corrupt("unit_vectors and postcodes differ in length");
    if (row_samples.size() != (rows.size() + fmt::kRowSampleStride - 1) / fmt::kRowSampleStride) {
        throw corrupt("row_samples does not match postcodes");
    }
    std::uint64_t next_row = 0;
    for (std::size_t i = 0; i < districts.size(); ++i) {
        const auto& d = districts[i];
        if (i > 0 && !(districts[i - 1].outward < d.outward)) {
            throw corrupt("districts are not in order at record " + std::to_string(i));
        }
        if (d.first_row != next_row || d.row_count > rows.size() - next_row) {
            throw corrupt("district " + std::to_string(i) + " has a bad row range");
        }
        next_row += d.row_count;
        if (d.first_sector > sectors.size() || d.sector_count > sectors.size() - d.first_sector) {
            throw corrupt("district " + std::to_string(i) + " has a bad sector range");
        }
        for (std::uint32_t s = d.first_sector; s < d.first_sector + d.sector_count; ++s) {
            if (sectors[s].district != i)
                throw corrupt("sector " + std::to_string(s) + " is misfiled");
        }
    }
    if (next_row != rows.size()) throw corrupt("districts do not cover every postcode row");
    for (std::size_t i = 1; i < terminated.size(); ++i) {
        if (!(terminated[i - 1].text < terminated[i].text)) {
            throw corrupt("terminated postcodes are not in order at record " + std::to_string(i));
        }
    }
    if (admin_districts.empty() && row_admin_districts.empty()) return;
    if (row_admin_districts.size() != rows.size()) {
        throw corrupt("row_admin_districts and postcodes differ in length");
    }
    const auto beyond = std::find_if(row_admin_districts.begin(), row_admin_districts.end(),
                                     [&](std::uint16_t n) { return n > admin_districts.size(); });
    if (beyond != row_admin_districts.end()) {
        throw corrupt("postcode row " + std::to_string(beyond - row_admin_districts.begin()) +
                      " names an admin district that does not exist");
    }
}

// Sites in id order; every string, offer, site and tree range inside its section.
void IndexReader::check_site_references() const {
    if (site_vectors.size() != offers.size()) {
        throw corrupt("site_vectors and treatment_sites differ in length");
    }
    for (std::size_t i = 0; i < site_records.size(); ++i) {
        const auto& s = site_records[i];
        for (const auto* r : {&s.id, &s.name, &s.street, &s.locality, &s.town, &s.postcode}) {
            check_str(*r, "site", i);
        }
        if (i > 0 && !(str(site_records[i - 1].id) < str(s.id))) {
            throw corrupt("sites are not in id order at record " + std::to_string(i));
        }
    }
    for (std::size_t i = 0; i < treatment_records.size(); ++i) {
        const auto& t = treatment_records[i];
        check_str(t.name, "treatment", i);
        if (t.first_site > offers.size() || t.site_count > offers.size() - t.first_site) {
            throw corrupt("treatment " + std::to_string(i) + " has a bad site range");
        }
        if (t.tree_offset > site_tree_bytes.size() ||
            t.tree_size > site_tree_bytes.size() - t.tree_offset) {
            throw corrupt("treatment " + std::to_string(i) + " has a bad tree range");
        }
    }
    for (std::size_t i = 0; i < offers.size(); ++i) {
        const auto& o = offers[i];
        if (o.site >= site_records.size())
            throw corrupt("a treatment lists a site that does not exist");
        for (const auto* r : {&o.phone_display, &o.phone_e164, &o.phone_uri})
            check_str(*r, "offer", i);
    }
}

}  // namespace hloc::detail
