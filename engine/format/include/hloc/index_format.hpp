// The .hlx index file: one immutable, versioned, checksummed file, memory-mapped at run time.
//
// Layout (all integers little-endian, the only byte order we build on; the header records it):
//
//   [0, 4096)           FileHeader (magic, version, endianness, section table, checksums)
//   [4096, file_size)   the payload: sections, each starting on a 64-byte boundary
//
// payload_checksum is XXH3-64 over the whole payload; header_checksum covers the header with
// that field zeroed. The writer (tools/ingest) writes to a temporary name and renames; it writes
// sections in a fixed order from sorted data, so the same inputs give the same bytes.
//
// Coordinates are WGS84 (ETRS89 realised through OSTN15; the two agree to well under a metre
// in Great Britain and we make no distinction). Eastings/northings are British National Grid
// (OSGB36, EPSG:27700) metres, exactly as Code-Point Open or ONSPD give them; for Northern
// Ireland (Country::northern_ireland, from ONSPD only) they are Irish Grid (TM75, EPSG:29903).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace hloc::format {

inline constexpr std::array<char, 8> kMagic = {'H', 'L', 'O', 'C', 'I', 'D', 'X', '\n'};
// Version 2 widened the section table from 16 to 32 entries (it was full) and added
// Country::northern_ireland and the `terminated` section.
inline constexpr std::uint32_t kFormatVersion = 2;
inline constexpr std::uint32_t kEndianTag = 0x01020304;  // reads 0x04030201 on a big-endian host
inline constexpr std::uint32_t kHeaderBytes = 4096;
inline constexpr std::uint32_t kSectionAlignment = 64;
inline constexpr std::uint32_t kMaxSections = 32;

enum class SectionId : std::uint32_t {
    metadata = 1,          // UTF-8 text: "key\tvalue\n" lines (sources, counts, transform)
    strings = 2,           // string table: bytes referred to by StringRef
    districts = 3,         // DistrictRecord[], sorted by outward code
    sectors = 4,           // SectorRecord[], grouped by district, sorted by digit
    postcodes = 5,         // uint64 packed rows (see PackedRow), grouped by district
    unit_vectors = 6,      // UnitVector[], parallel to postcodes
    unlocated = 7,         // UnlocatedRecord[]: quality-90 postcodes, sorted by text
    sites = 8,             // SiteRecord[], sorted by site id
    treatments = 9,        // TreatmentRecord[], sorted by name
    treatment_sites = 10,  // OfferRecord[]: a site offering a treatment, with the phone to show
    site_vectors = 11,     // UnitVector per OfferRecord: the site trees' points
    site_trees = 12,       // serialised KD-trees, one per treatment (TreeHeader ...)
    postcode_tree = 13,    // serialised KD-tree over all rows of `postcodes`
    row_samples = 14,      // uint16 inward code of every kRowSampleStride-th row of `postcodes`
    // Optional: a section is found by id, and an index may lack these.
    admin_districts = 15,      // AdminDistrictRecord[], sorted by code
    row_admin_districts = 16,  // uint16 per row of `postcodes`: 1 + index into admin_districts,
                               // 0 where the source gives no admin district code
    terminated = 17,           // TerminatedRecord[], sorted by text (ONSPD only)
};

// One sampled inward code per this many rows: a lookup binary-searches the samples (218 KB for
// GB, which stays in cache) and then reads one 16-row block (two cache lines) of `postcodes`,
// instead of ~10 scattered probes into 14 MB.
inline constexpr std::uint32_t kRowSampleStride = 16;

struct SectionEntry {
    std::uint32_t id;  // SectionId
    std::uint32_t reserved;
    std::uint64_t offset;  // from the start of the file
    std::uint64_t size;    // bytes
    std::uint64_t count;   // records (or bytes, for text sections)
};
static_assert(sizeof(SectionEntry) == 32);

struct FileHeader {
    std::array<char, 8> magic;
    std::uint32_t format_version;
    std::uint32_t endian_tag;
    std::uint32_t header_bytes;
    std::uint32_t section_count;
    std::uint64_t file_size;
    std::uint64_t payload_checksum;  // XXH3-64 of bytes [header_bytes, file_size)
    std::uint64_t header_checksum;   // XXH3-64 of this struct with header_checksum == 0
    std::array<SectionEntry, kMaxSections> sections;
};
static_assert(sizeof(FileHeader) == 48 + 32 * kMaxSections);
static_assert(sizeof(FileHeader) <= kHeaderBytes);
static_assert(std::is_trivially_copyable_v<FileHeader>);

// A local authority district as Code-Point Open's Admin_district_code column gives it: the GSS
// code of a non-metropolitan district, metropolitan district, London borough or unitary
// authority ("E07000068", "W06000015", "S12000049").
struct AdminDistrictRecord {
    std::array<char, 9> code;
    std::array<char, 7> reserved;
};
static_assert(sizeof(AdminDistrictRecord) == 16);
inline constexpr std::size_t kMaxAdminDistricts = 65535;  // row_admin_districts holds 1 + index

// A string in the `strings` section.
struct StringRef {
    std::uint32_t offset;
    std::uint32_t length;
};

// A point on the unit sphere, from geodetic latitude/longitude (not geocentric), each
// component scaled by kUnitScale and rounded. Quantisation moves a point by at most
// ~2.6 mm (sqrt(3) * 0.5 / kUnitScale * 6,378 km), well inside the 1 cm we promise.
struct UnitVector {
    std::int32_t x, y, z;
};
inline constexpr double kUnitScale = 2147483647.0;  // 2^31 - 1

// Positional quality codes of Code-Point Open (10 best ... 60, 90 = no coordinates). ONSPD's
// osgrdind n is stored as 10 n, the same scale; its 8 (a terminated postcode's last position
// from before Gridlink) occurs only in TerminatedRecord, which stores the code itself.
inline constexpr std::array<std::uint8_t, 8> kQualityCodes = {0, 10, 20, 30, 40, 50, 60, 90};

// Countries of the rows, from their GSS codes. Northern Ireland comes from ONSPD only.
enum class Country : std::uint8_t {
    unknown = 0,
    england = 1,
    scotland = 2,
    wales = 3,
    northern_ireland = 4
};

// One located postcode in 64 bits, so that rows sort by inward code within a district:
//   [63..51] inward code  digit*676 + (letter1-'A')*26 + (letter2-'A')   (< 6760)
//   [50..31] eastings_m   (< 2^20 = 1,048,576 m)
//   [30..10] northings_m  (< 2^21 = 2,097,152 m)
//   [ 9.. 7] quality index into kQualityCodes
//   [ 6.. 5] Country, its low two bits
//   [ 4]     Country, its high bit (Northern Ireland)
struct PackedRow {
    static constexpr std::uint64_t pack(std::uint32_t inward_code, std::uint32_t eastings_m,
                                        std::uint32_t northings_m, std::uint32_t quality_index,
                                        Country country) {
        const auto c = static_cast<std::uint64_t>(country);
        return (std::uint64_t{inward_code} << 51) | (std::uint64_t{eastings_m} << 31) |
               (std::uint64_t{northings_m} << 10) | (std::uint64_t{quality_index} << 7) |
               ((c & 3u) << 5) | ((c >> 2) << 4);
    }
    static constexpr std::uint32_t inward_code(std::uint64_t row) {
        return static_cast<std::uint32_t>(row >> 51);
    }
    static constexpr std::uint32_t eastings_m(std::uint64_t row) {
        return static_cast<std::uint32_t>((row >> 31) & 0xFFFFF);
    }
    static constexpr std::uint32_t northings_m(std::uint64_t row) {
        return static_cast<std::uint32_t>((row >> 10) & 0x1FFFFF);
    }
    static constexpr std::uint32_t quality_index(std::uint64_t row) {
        return static_cast<std::uint32_t>((row >> 7) & 0x7);
    }
    static constexpr Country country(std::uint64_t row) {
        return static_cast<Country>(((row >> 5) & 0x3) | (((row >> 4) & 0x1) << 2));
    }
};
inline constexpr std::uint32_t kMaxEastings = (1u << 20) - 1;
inline constexpr std::uint32_t kMaxNorthings = (1u << 21) - 1;

// digit*676 + letter*26 + letter, for an inward code "9AA".
constexpr std::uint32_t inward_code(char digit, char l1, char l2) {
    return static_cast<std::uint32_t>(digit - '0') * 676 +
           static_cast<std::uint32_t>(l1 - 'A') * 26 + static_cast<std::uint32_t>(l2 - 'A');
}

// The mean position of the located postcodes of a sector or district.
struct Centroid {
    double lat_deg;
    double lon_deg;
    double eastings_m;  // mean of the members' eastings (British National Grid)
    double northings_m;
    std::uint32_t located_count;  // 0: no located member, no position
    std::uint32_t reserved;
};
static_assert(sizeof(Centroid) == 40);

struct DistrictRecord {
    std::array<char, 4> outward;  // "SW1A", "B1" padded with '\0'
    std::uint32_t first_row;      // its rows in `postcodes`: [first_row, first_row + row_count)
    std::uint32_t row_count;
    std::uint32_t first_sector;  // its sectors in `sectors`
    std::uint32_t sector_count;
    std::uint8_t country;  // Country of most members
    std::array<std::uint8_t, 3> reserved;
    Centroid centroid;
};
static_assert(sizeof(DistrictRecord) == 64);

struct SectorRecord {
    std::uint32_t district;  // index into `districts`
    std::uint8_t digit;      // '0'..'9'
    std::uint8_t country;
    std::array<std::uint8_t, 2> reserved;
    Centroid centroid;
};
static_assert(sizeof(SectorRecord) == 48);

// A postcode that Code-Point lists with quality 90: no coordinates, findable by lookup only.
struct UnlocatedRecord {
    std::array<char, 8> text;  // canonical text, '\0'-padded ("PO24 1AA")
    std::uint8_t quality;      // always 90 today; kept as read
    std::uint8_t country;
    std::array<std::uint8_t, 6> reserved;
};
static_assert(sizeof(UnlocatedRecord) == 16);

// A postcode Royal Mail has terminated (ONSPD's doterm), with its last position: findable by
// lookup, and a query origin, but in no centroid and not in the postcode tree.
struct TerminatedRecord {
    std::array<char, 8> text;  // canonical text, '\0'-padded ("AB1 0AA")
    UnitVector position;       // as for live rows; meaningful only when located
    std::uint32_t eastings_m;  // British National Grid, or Irish Grid in Northern Ireland
    std::uint32_t northings_m;
    std::uint32_t terminated;  // YYYYMM, as ONSPD's doterm
    std::uint8_t quality;      // 10 * osgrdind: 10..60, 80 (before Gridlink), 90 (no position)
    std::uint8_t country;
    std::uint8_t located;  // 0: no grid reference (osgrdind 9), lookup only
    std::array<std::uint8_t, 5> reserved;
};
static_assert(sizeof(TerminatedRecord) == 40);

enum class LocatedBy : std::uint8_t { postcode = 0, directory = 1 };
enum class PhoneSource : std::uint8_t { listing = 0, provider = 1 };

struct SiteRecord {
    StringRef id, name, street, locality, town, postcode;
    double lat_deg;
    double lon_deg;
    std::uint8_t located_by;  // LocatedBy
    std::uint8_t quality;     // Code-Point positional quality of its postcode
    std::array<std::uint8_t, 6> reserved;
};
static_assert(sizeof(SiteRecord) == 6 * 8 + 16 + 8);

// A site offering a treatment. The phone belongs here, not to the site: each treatment's
// listing decides which number to show.
struct OfferRecord {
    std::uint32_t site;         // index into `sites`
    std::uint8_t phone_source;  // PhoneSource
    std::array<std::uint8_t, 3> reserved;
    StringRef phone_display, phone_e164, phone_uri;
};
static_assert(sizeof(OfferRecord) == 32);

struct TreatmentRecord {
    StringRef name;
    std::uint32_t first_site;  // its OfferRecords in treatment_sites (and site_vectors)
    std::uint32_t site_count;
    std::uint64_t tree_offset;  // its tree inside the site_trees section
    std::uint64_t tree_size;
};
static_assert(sizeof(TreatmentRecord) == 32);

// A nanoflann KD-tree flattened: TreeHeader, uint32 vacc[point_count], TreeNode[node_count]
// in pre-order. nanoflann's own saveIndex writes raw pointers and padding, so its bytes differ
// from run to run; this form is deterministic and checked node by node when loaded.
struct TreeHeader {
    std::uint32_t point_count;
    std::uint32_t node_count;
    std::uint32_t leaf_max_size;
    std::uint32_t reserved;
    std::array<std::array<std::int32_t, 2>, 3> bbox;  // [dim][low, high], in UnitVector units
};
static_assert(sizeof(TreeHeader) == 40);

struct TreeNode {
    // bit 0: has child1, bit 1: has child2 (neither: leaf), bits 2-3: split dimension
    std::uint32_t flags;
    // a leaf: [first, second) into vacc; a split: divlow, divhigh (UnitVector units)
    std::int32_t first;
    std::int32_t second;
};
static_assert(sizeof(TreeNode) == 12);

constexpr std::uint64_t align_up(std::uint64_t n, std::uint64_t alignment) {
    return (n + alignment - 1) / alignment * alignment;
}

}  // namespace hloc::format
