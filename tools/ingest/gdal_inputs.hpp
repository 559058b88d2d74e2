// Inputs read through GDAL/OGR and transformed with OSR/PROJ: the site directory
// (data/sites.csv) and Code-Point Open (onspd.hpp reads the other postcode source). The only
// code, with phone.cpp and onspd.cpp, that sees these libraries; nothing here reaches the
// engine.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hloc/index_format.hpp"

class GDALDataset;
class OGRCoordinateTransformation;

namespace hloc::ingest {

struct DirectorySite {
    int line = 0;  // in the CSV file, 1-based, header = line 1
    std::string id, name, street, locality, town, postcode;
};

// Reads the site directory. Throws Error{bad_input} naming file, line and field.
std::vector<DirectorySite> read_directory(const std::string& path);

// British National Grid (EPSG:27700) -> WGS84 (EPSG:4326) through the OSTN15 NTv2 grid, the
// operation PROJ itself picks for this pair when the grid is installed ("OSGB36 to WGS 84 (9)").
// Built from that explicit pipeline so that a missing grid is an error, never a silent
// fallback to a Helmert transform (up to a few metres off).
//
// irish_grid() is Northern Ireland's Irish Grid (TM75, EPSG:29903) -> WGS84 by "TM75 to WGS
// 84 (2)", a 7-parameter Helmert transform of 1 m accuracy: the best operation PROJ 9.1 offers
// for the pair with Debian's proj-data (projinfo -s EPSG:29903 -t EPSG:4326). The better
// "TM75 to ETRS89 (3)" (0.41 m) needs OSi/LPS's tm75_etrs89.gsb, which PROJ does not ship.
// Pinned like the OSTN15 pipeline, so that it never changes silently.
class GridTransform {
  public:
    // grid_file: the OSTN15 grid (uk_os_OSTN15_NTv2_OSGBtoETRS.tif); its folder must be on
    // PROJ's search path (set once in main). Throws Error{bad_input} if it cannot be used.
    explicit GridTransform(const std::filesystem::path& grid_file);
    static GridTransform irish_grid();
    GridTransform(GridTransform&&) noexcept;
    ~GridTransform();

    // In place: eastings -> latitude, northings -> longitude (degrees). Throws on a failure.
    void to_wgs84(std::span<double> eastings_lat, std::span<double> northings_lon) const;
    static std::string pipeline(const std::string& grid_name);
    static std::string irish_grid_pipeline();
    const std::string& description() const { return pipeline_; }

  private:
    GridTransform(int source_epsg, std::string name, std::string pipeline);
    std::string name_;  // for errors: "OSTN15", "TM75 to WGS 84 (2)"
    std::string pipeline_;
    std::unique_ptr<OGRCoordinateTransformation> transform_;
};

// One postcode of either source (the name is Code-Point's, the first).
struct CodePointRow {
    std::array<char, 4> outward{};  // '\0'-padded
    std::uint32_t inward_code = 0;  // format::inward_code
    std::uint32_t eastings_m = 0;   // Irish Grid for Northern Ireland
    std::uint32_t northings_m = 0;
    std::uint8_t quality = 0;      // 10..60, or 90 (no coordinates); ONSPD: 10 * osgrdind
    std::uint32_t terminated = 0;  // ONSPD's doterm, YYYYMM; 0 for a live postcode
    format::Country country = format::Country::unknown;
    // Admin_district_code (column DC): a GSS code, or all '\0' where Code-Point leaves it empty.
    std::array<char, 9> admin_district{};
    double lat_deg = 0, lon_deg = 0;
};

// The row's postcode in canonical text: "CH4 7QP".
std::string postcode_text(const CodePointRow& row);

// The postcodes of a source, live and (ONSPD only) terminated.
struct CodePoint {
    std::string source = "Code-Point Open";  // or "ONSPD"
    std::vector<CodePointRow> located;       // live, sorted by outward, inward
    std::vector<CodePointRow> unlocated;     // live, quality 90, sorted likewise
    std::vector<CodePointRow> terminated;    // sorted likewise; quality 90 = no position
    std::size_t area_files = 0;
    std::int64_t newest_member_time = 0;  // seconds since 1970, the newest data file
    // ONSPD only.
    std::uint64_t northern_ireland = 0;  // live Northern Ireland postcodes
    std::uint64_t not_covered = 0;       // Channel Islands and Isle of Man rows, left out
    std::uint64_t non_geographic = 0;    // non-geographic codes (BX ...), left out
    std::string irish_transform;         // the Irish Grid operation, when there were NI rows
    // The largest distance, in metres, between a position we computed and ONSPD's own
    // lat/long, over Northern Ireland's rows and over Great Britain's (-1: no such row).
    double irish_vs_onspd_max_m = -1, gb_vs_onspd_max_m = -1;
};

// A whole number that is the whole of `s` (nullopt for "", "12x", " 12").
std::optional<long> parse_int(std::string_view s);
bool row_less(const CodePointRow& a, const CodePointRow& b);
// Sorts rows by postcode and throws Error{bad_input} naming `source` if one appears twice.
void sort_unique(std::vector<CodePointRow>& rows, const std::string& source);
format::Country country_of(std::string_view gss);
struct DatasetCloser {
    void operator()(GDALDataset* ds) const;
};
std::unique_ptr<GDALDataset, DatasetCloser> open_vector(const std::string& path,
                                                        std::initializer_list<const char*> options);

// Reads every Data/CSV/<area>.csv inside codepo_gb.zip through /vsizip/ and transforms the
// located rows. Throws Error{bad_input} naming the member file, line and field of a bad row.
CodePoint read_codepoint(const std::filesystem::path& zip, const std::filesystem::path& grid,
                         unsigned threads);

}  // namespace hloc::ingest
