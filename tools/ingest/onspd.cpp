#include "onspd.hpp"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>

#include "hloc/error.hpp"
#include "hloc/geodesy.hpp"
#include "hloc/postcode.hpp"

namespace hloc::ingest {
namespace {

// ONSPD's countries that no source gives a position: the Channel Islands, the Isle of Man.
constexpr std::array<std::string_view, 2> kNotCoveredCountries = {"L93000001", "M83000003"};

// The columns read, by ONSPD's names; the rest of its ~50 are not needed.
struct Columns {
    int pcds = -1, doterm = -1, oseast1m = -1, osnrth1m = -1, osgrdind = -1, ctry = -1;
    int lat = -1, lon = -1;
    int oslaua = -1;  // optional: the local authority district
};

Columns find_columns(OGRFeatureDefn* defn, const std::string& name) {
    Columns c;
    std::string missing;
    auto need = [&](const char* column, int& index) {
        index = defn->GetFieldIndex(column);
        if (index >= 0) return;
        if (!missing.empty()) missing += ", ";
        missing += column;
    };
    need("pcds", c.pcds);
    need("doterm", c.doterm);
    need("oseast1m", c.oseast1m);
    need("osnrth1m", c.osnrth1m);
    need("osgrdind", c.osgrdind);
    need("ctry", c.ctry);
    need("lat", c.lat);
    need("long", c.lon);
    c.oslaua = defn->GetFieldIndex("oslaua");
    if (!missing.empty()) {
        std::string seen;
        for (int f = 0; f < defn->GetFieldCount(); ++f) {
            if (f > 0) seen += ',';
            seen += defn->GetFieldDefn(f)->GetNameRef();
        }
        throw Error(ErrorCode::bad_input, name + " is not in the ONSPD layout: no column " +
                                              missing + " (header: " + seen + ")");
    }
    return c;
}

std::optional<double> decimal(std::string_view s) {
    // from_chars for double is in libstdc++ 12.
    double v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

// The data member of a release zip, or the CSV given; and its name for messages.
struct CsvSource {
    std::string path, name;
};

CsvSource locate_csv(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        throw Error(ErrorCode::bad_input, "ONSPD '" + file.string() + "' was not found");
    }
    std::string ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (ext == ".csv") return {file.string(), file.filename().string()};
    if (ext != ".zip") {
        throw Error(ErrorCode::bad_input, "ONSPD '" + file.string() +
                                              "' must be the release zip (.zip) or its UK CSV "
                                              "(.csv)");
    }
    const std::string root = "/vsizip/" + std::filesystem::absolute(file).string();
    std::vector<std::string> found;
    char** names = VSIReadDirRecursive(root.c_str());
    for (char** p = names; p && *p; ++p) {
        const std::string member = *p;
        const auto base = member.substr(member.find_last_of('/') + 1);
        if (member.starts_with("Data/") && base.starts_with("ONSPD_") && base.ends_with("_UK.csv"))
            found.push_back(member);
    }
    CSLDestroy(names);
    if (found.size() != 1) {
        throw Error(
            ErrorCode::bad_input,
            file.filename().string() + (found.empty() ? " has no Data/ONSPD_<MON>_<YEAR>_UK.csv"
                                                      : " has several Data/ONSPD_*_UK.csv files"));
    }
    return {root + "/" + found[0], file.filename().string() + ": " + found[0]};
}

std::uint32_t termination(std::string_view text, const std::string& where) {
    if (text.empty()) return 0;
    const auto v = parse_int(text);
    const long month = v ? *v % 100 : 0;
    if (text.size() != 6 || !v || month < 1 || month > 12 || *v / 100 < 1900) {
        throw Error(ErrorCode::bad_input, where + ": field doterm (date of termination) '" +
                                              std::string(text) +
                                              "' is not a year and month, YYYYMM, or empty");
    }
    return static_cast<std::uint32_t>(*v);
}

// A located row waiting for its transform, with ONSPD's own lat/long to compare.
struct Pending {
    CodePointRow* row;
    double onspd_lat, onspd_lon;
};

struct Rows {
    std::vector<CodePointRow> live, terminated;
    std::uint64_t northern_ireland = 0, not_covered = 0, non_geographic = 0;
};

// One data row: into `out`, or counted as not covered. Throws naming the line and field.
void read_row(OGRFeature& f, const Columns& c, const std::string& where, Rows& out) {
    auto text = [&](int index) -> std::string_view {
        return f.IsFieldSetAndNotNull(index) ? f.GetFieldAsString(index) : "";
    };
    auto fail = [&](const std::string& why) {
        return Error(ErrorCode::bad_input, where + ": " + why);
    };

    const std::string_view ctry = text(c.ctry);
    if (std::find(kNotCoveredCountries.begin(), kNotCoveredCountries.end(), ctry) !=
        kNotCoveredCountries.end()) {
        ++out.not_covered;
        return;
    }
    const auto country = country_of(ctry);
    if (country == format::Country::unknown) {
        throw fail("field ctry (country) '" + std::string(ctry) +
                   "' is not England, Scotland, Wales, Northern Ireland, the Channel Islands or "
                   "the Isle of Man (E92000001, S92000003, W92000004, N92000002, L93000001, "
                   "M83000003)");
    }
    const std::string_view pc = text(c.pcds);
    auto parsed = parse_postcode(pc);
    if (!parsed && parsed.error().code() == ErrorCode::non_geographic_postcode) {
        ++out.non_geographic;  // a mail-handling code (BX ...): no place to measure from
        return;
    }
    if (!parsed || parsed->level != PostcodeLevel::unit) {
        throw fail("field pcds (postcode) '" + std::string(pc) + "' is not a postcode" +
                   (parsed ? std::string() : ": " + parsed.error().message()));
    }
    const bool bt = postcode_area(parsed->outward) == kNorthernIrelandArea;
    if (bt != (country == format::Country::northern_ireland)) {
        throw fail("postcode " + parsed->text() + " and field ctry '" + std::string(ctry) +
                   "' disagree: BT postcodes, and only they, are in Northern Ireland");
    }
    CodePointRow row;
    std::copy(parsed->outward.begin(), parsed->outward.end(), row.outward.begin());
    row.inward_code =
        format::inward_code(parsed->sector_digit, parsed->unit_letters[0], parsed->unit_letters[1]);
    row.country = country;
    row.terminated = termination(text(c.doterm), where);
    const auto indicator = parse_int(text(c.osgrdind));
    if (!indicator || *indicator < 1 || *indicator > 9 || *indicator == 7 ||
        (*indicator == 8 && row.terminated == 0)) {
        throw fail("field osgrdind (positional quality) '" + std::string(text(c.osgrdind)) +
                   "' is not 1 to 6, 8 (terminated postcodes only) or 9");
    }
    row.quality = static_cast<std::uint8_t>(*indicator * 10);
    if (row.quality != 90) {
        const auto east = parse_int(text(c.oseast1m));
        const auto north = parse_int(text(c.osnrth1m));
        if (!east || *east < 0 || *east > static_cast<long>(format::kMaxEastings)) {
            throw fail("field oseast1m (eastings) '" + std::string(text(c.oseast1m)) +
                       "' is not a whole number of metres in 0.." +
                       std::to_string(format::kMaxEastings));
        }
        if (!north || *north < 0 || *north > static_cast<long>(format::kMaxNorthings)) {
            throw fail("field osnrth1m (northings) '" + std::string(text(c.osnrth1m)) +
                       "' is not a whole number of metres in 0.." +
                       std::to_string(format::kMaxNorthings));
        }
        if (*east == 0 && *north == 0) {
            throw fail("oseast1m and osnrth1m are 0 but osgrdind is " + std::to_string(*indicator) +
                       ", not 9");
        }
        row.eastings_m = static_cast<std::uint32_t>(*east);
        row.northings_m = static_cast<std::uint32_t>(*north);
        const auto lat = decimal(text(c.lat)), lon = decimal(text(c.lon));
        if (!lat || !lon) {
            throw fail("fields lat, long '" + std::string(text(c.lat)) + "', '" +
                       std::string(text(c.lon)) + "' are not numbers");
        }
        // Kept in the row until the transform replaces them; compared there.
        row.lat_deg = *lat;
        row.lon_deg = *lon;
    }
    if (c.oslaua >= 0) {
        const std::string_view district = text(c.oslaua);
        // ONSPD writes a pseudo-code ("E99999999") where there is none.
        if (is_gss_code(district) && !district.ends_with("99999999")) {
            std::copy(district.begin(), district.end(), row.admin_district.begin());
        }
    }
    if (row.terminated != 0) {
        out.terminated.push_back(row);
    } else {
        if (country == format::Country::northern_ireland) ++out.northern_ireland;
        out.live.push_back(row);
    }
}

// Transforms the located rows of one grid in place, returning the largest distance between a
// computed position and ONSPD's own lat/long (-1 when there is no row).
double transform(std::vector<CodePointRow*>& rows, const GridTransform& grid) {
    std::vector<double> lat(rows.size()), lon(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        lat[i] = rows[i]->eastings_m;
        lon[i] = rows[i]->northings_m;
    }
    grid.to_wgs84(lat, lon);
    double largest = -1;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const LatLon onspd{rows[i]->lat_deg, rows[i]->lon_deg};
        rows[i]->lat_deg = lat[i];
        rows[i]->lon_deg = lon[i];
        largest = std::max(largest, geodesic_inverse({lat[i], lon[i]}, onspd).distance_m);
    }
    return largest;
}

}  // namespace

CodePoint read_onspd(const std::filesystem::path& file, const std::filesystem::path& ostn15_grid) {
    const GridTransform gb(ostn15_grid);  // fails before the long read if the grid is missing
    const CsvSource csv = locate_csv(file);
    auto ds = open_vector(csv.path, {"HEADERS=YES", "AUTODETECT_TYPE=NO"});
    if (!ds || ds->GetLayerCount() != 1) {
        throw Error(ErrorCode::bad_input, "cannot read " + csv.name + " as CSV");
    }
    OGRLayer* layer = ds->GetLayer(0);
    const Columns columns = find_columns(layer->GetLayerDefn(), csv.name);
    Rows rows;
    for (auto& f : *layer) {
        // GDAL numbers data rows from 1; the header is line 1.
        read_row(*f, columns, csv.name + " line " + std::to_string(f->GetFID() + 1), rows);
    }

    CodePoint cp;
    cp.source = "ONSPD";
    cp.area_files = 1;
    VSIStatBufL st;
    if (VSIStatL(csv.path.c_str(), &st) == 0) cp.newest_member_time = st.st_mtime;
    cp.northern_ireland = rows.northern_ireland;
    cp.not_covered = rows.not_covered;
    cp.non_geographic = rows.non_geographic;
    std::vector<CodePointRow*> on_gb, on_irish;
    for (auto* list : {&rows.live, &rows.terminated}) {
        for (auto& r : *list) {
            if (r.quality == 90) continue;
            (r.country == format::Country::northern_ireland ? on_irish : on_gb).push_back(&r);
        }
    }
    cp.gb_vs_onspd_max_m = transform(on_gb, gb);
    if (!on_irish.empty()) {
        const auto irish = GridTransform::irish_grid();
        cp.irish_vs_onspd_max_m = transform(on_irish, irish);
        cp.irish_transform =
            "EPSG:29903 -> EPSG:4326 via TM75 to WGS 84 (2), 1 m: " + irish.description();
    }
    for (auto& r : rows.live) (r.quality == 90 ? cp.unlocated : cp.located).push_back(r);
    cp.terminated = std::move(rows.terminated);
    sort_unique(cp.located, csv.name);
    sort_unique(cp.unlocated, csv.name);
    sort_unique(cp.terminated, csv.name);
    // A postcode is live or terminated, never both; a live one never answers as terminated.
    std::vector<CodePointRow> both;
    for (const auto* live : {&cp.located, &cp.unlocated}) {
        std::set_intersection(live->begin(), live->end(), cp.terminated.begin(),
                              cp.terminated.end(), std::back_inserter(both), row_less);
    }
    if (!both.empty()) {
        throw Error(ErrorCode::bad_input, csv.name + ": postcode " + postcode_text(both[0]) +
                                              " is listed both live and terminated");
    }
    if (cp.located.empty()) {
        throw Error(ErrorCode::bad_input, csv.name + " has no live postcode with a grid reference");
    }
    return cp;
}

}  // namespace hloc::ingest
