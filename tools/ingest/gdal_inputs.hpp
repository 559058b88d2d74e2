// Inputs read through GDAL/OGR and transformed with OSR/PROJ: the site directory
// (data/sites.csv) and Code-Point Open. The only code, with phone.cpp, that sees these
// libraries; nothing here reaches the engine.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hloc/index_format.hpp"

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
class GridTransform {
  public:
    // grid_file: the OSTN15 grid (uk_os_OSTN15_NTv2_OSGBtoETRS.tif); its folder must be on
    // PROJ's search path (set once in main). Throws Error{bad_input} if it cannot be used.
    explicit GridTransform(const std::filesystem::path& grid_file);
    GridTransform(GridTransform&&) noexcept;
    ~GridTransform();

    // In place: eastings -> latitude, northings -> longitude (degrees). Throws on a failure.
    void to_wgs84(std::span<double> eastings_lat, std::span<double> northings_lon) const;
    static std::string pipeline(const std::string& grid_name);
    const std::string& description() const { return pipeline_; }

  private:
    std::string pipeline_;
    std::unique_ptr<OGRCoordinateTransformation> transform_;
};

struct CodePointRow {
    std::array<char, 4> outward{};  // '\0'-padded
    std::uint32_t inward_code = 0;  // format::inward_code
    std::uint32_t eastings_m = 0;
    std::uint32_t northings_m = 0;
    std::uint8_t quality = 0;  // 10..60, or 90 (no coordinates)
    format::Country country = format::Country::unknown;
    // Admin_district_code (column DC): a GSS code, or all '\0' where Code-Point leaves it empty.
    std::array<char, 9> admin_district{};
    double lat_deg = 0, lon_deg = 0;
};

// The row's postcode in canonical text: "CH4 7QP".
std::string postcode_text(const CodePointRow& row);

struct CodePoint {
    std::vector<CodePointRow> located;    // sorted by outward, inward
    std::vector<CodePointRow> unlocated;  // quality 90, sorted likewise
    std::size_t area_files = 0;
    std::int64_t newest_member_time = 0;  // seconds since 1970, the newest area file in the zip
};

// Reads every Data/CSV/<area>.csv inside codepo_gb.zip through /vsizip/ and transforms the
// located rows. Throws Error{bad_input} naming the member file, line and field of a bad row.
CodePoint read_codepoint(const std::filesystem::path& zip, const std::filesystem::path& grid,
                         unsigned threads);

}  // namespace hloc::ingest
