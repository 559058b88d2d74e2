#include "gdal_inputs.hpp"

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "hloc/error.hpp"
#include "hloc/postcode.hpp"

namespace hloc::ingest {

void DatasetCloser::operator()(GDALDataset* ds) const { GDALClose(ds); }
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

DatasetPtr open_vector(const std::string& path, std::initializer_list<const char*> options) {
    std::vector<const char*> opts(options);
    opts.push_back(nullptr);
    return DatasetPtr(static_cast<GDALDataset*>(GDALOpenEx(
        path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, opts.data(), nullptr)));
}

std::optional<long> parse_int(std::string_view s) {
    long v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string postcode_text(const CodePointRow& row) {
    std::string s(row.outward.data(), strnlen(row.outward.data(), row.outward.size()));
    s += ' ';
    s += static_cast<char>('0' + row.inward_code / 676);
    s += static_cast<char>('A' + (row.inward_code / 26) % 26);
    s += static_cast<char>('A' + row.inward_code % 26);
    return s;
}

std::vector<DirectorySite> read_directory(const std::string& path) {
    auto ds = open_vector(path, {"HEADERS=YES", "AUTODETECT_TYPE=NO"});
    if (!ds || ds->GetLayerCount() != 1) {
        throw Error(ErrorCode::bad_input, "cannot read site directory '" + path + "' as CSV");
    }
    OGRLayer* layer = ds->GetLayer(0);
    OGRFeatureDefn* defn = layer->GetLayerDefn();
    const std::array<const char*, 6> columns = {"id",       "name", "street",
                                                "locality", "town", "postcode"};
    std::array<int, 6> index{};
    for (std::size_t i = 0; i < columns.size(); ++i) {
        index[i] = defn->GetFieldIndex(columns[i]);
        if (index[i] < 0) {
            std::string seen;
            for (int f = 0; f < defn->GetFieldCount(); ++f) {
                seen += (f ? ", " : "") + std::string(defn->GetFieldDefn(f)->GetNameRef());
            }
            throw Error(ErrorCode::bad_input,
                        path + ": no column '" + columns[i] + "' (columns seen: " + seen + ")");
        }
    }
    std::vector<DirectorySite> sites;
    std::set<std::string> ids;
    for (auto& feature : *layer) {
        DirectorySite s;
        s.line = static_cast<int>(feature->GetFID()) + 1;
        const std::string where = path + ":" + std::to_string(s.line);
        std::array<std::string*, 6> fields = {&s.id,       &s.name, &s.street,
                                              &s.locality, &s.town, &s.postcode};
        for (std::size_t i = 0; i < fields.size(); ++i) {
            *fields[i] =
                feature->IsFieldSetAndNotNull(index[i]) ? feature->GetFieldAsString(index[i]) : "";
        }
        if (s.id.empty() || !std::all_of(s.id.begin(), s.id.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            })) {
            throw Error(ErrorCode::bad_input, where + ": field id '" + s.id +
                                                  "' must be lower-case letters, digits and '-'");
        }
        if (!ids.insert(s.id).second) {
            throw Error(ErrorCode::bad_input, where + ": site id '" + s.id + "' appears twice");
        }
        if (s.name.empty()) throw Error(ErrorCode::bad_input, where + ": field name is empty");
        if (!s.postcode.empty()) {
            auto pc = normalise_postcode(s.postcode);
            if (!pc)
                throw Error(ErrorCode::bad_input,
                            where + ": field postcode: " + pc.error().message());
            s.postcode = *pc;
        }
        sites.push_back(std::move(s));
    }
    if (sites.empty())
        throw Error(ErrorCode::bad_input, path + ": the site directory has no sites");
    return sites;
}

std::string GridTransform::pipeline(const std::string& grid_name) {
    // projinfo -s EPSG:27700 -t EPSG:4326, operation "Inverse of British National Grid +
    // OSGB36 to WGS 84 (9)", as listed once the OSTN15 grid is on PROJ's search path.
    return "+proj=pipeline +step +inv +proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 "
           "+x_0=400000 +y_0=-100000 +ellps=airy +step +proj=hgridshift +grids=" +
           grid_name +
           " +step +proj=unitconvert +xy_in=rad +xy_out=deg +step +proj=axisswap +order=2,1";
}

std::string GridTransform::irish_grid_pipeline() {
    // projinfo -s EPSG:29903 -t EPSG:4326, operation 1: "Inverse of Irish Grid + TM75 to WGS 84
    // (2)", 1 m.
    return "+proj=pipeline +step +inv +proj=tmerc +lat_0=53.5 +lon_0=-8 +k=1.000035 "
           "+x_0=200000 +y_0=250000 +a=6377340.189 +rf=299.3249646 +step +inv +proj=longlat "
           "+a=6377340.189 +rf=299.3249646 +step +proj=push +v_3 +step +proj=cart "
           "+a=6377340.189 +rf=299.3249646 +step +proj=helmert +x=482.5 +y=-130.6 +z=564.6 "
           "+rx=-1.042 +ry=-0.214 +rz=-0.631 +s=8.15 +convention=position_vector +step +inv "
           "+proj=cart +ellps=WGS84 +step +proj=pop +v_3 +step +proj=unitconvert +xy_in=rad "
           "+xy_out=deg +step +proj=axisswap +order=2,1";
}

GridTransform::GridTransform(int source_epsg, std::string name, std::string pipeline)
    : name_(std::move(name)), pipeline_(std::move(pipeline)) {
    OGRSpatialReference source, wgs84;
    source.importFromEPSG(source_epsg);
    wgs84.importFromEPSG(4326);
    OGRCoordinateTransformationOptions options;
    options.SetCoordinateOperation(pipeline_.c_str(), false);
    transform_.reset(OGRCreateCoordinateTransformation(&source, &wgs84, options));
    if (!transform_) {
        throw Error(ErrorCode::bad_input,
                    "PROJ cannot use the " + name_ + " transform: " + CPLGetLastErrorMsg());
    }
}

namespace {

const std::filesystem::path& existing_ostn15(const std::filesystem::path& grid_file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(grid_file, ec)) {
        throw Error(
            ErrorCode::bad_input,
            "the OSTN15 grid '" + grid_file.string() +
                "' was not found; without it British National Grid coordinates would be "
                "transformed with a Helmert fallback that is up to a few metres off. Put "
                "uk_os_OSTN15_NTv2_OSGBtoETRS.tif in the data directory (see data/README.md)");
    }
    return grid_file;
}

}  // namespace

GridTransform::GridTransform(const std::filesystem::path& grid_file)
    : GridTransform(27700, "OSTN15", pipeline(existing_ostn15(grid_file).filename().string())) {
    // A grid that PROJ found but cannot read fails here rather than on the first real row.
    double east = 340260, north = 364734;  // CH4 7QP
    to_wgs84({&east, 1}, {&north, 1});
}

GridTransform GridTransform::irish_grid() {
    GridTransform t(29903, "TM75 to WGS 84 (2)", irish_grid_pipeline());
    // Checked against cs2cs EPSG:29903 EPSG:4326 (333000 373000 -> 54.5877555 -5.9433994),
    // so that a PROJ that read the pipeline otherwise fails here, not in the answers.
    double east = 333000, north = 373000;
    t.to_wgs84({&east, 1}, {&north, 1});
    if (std::abs(east - 54.5877555) > 1e-6 || std::abs(north - -5.9433994) > 1e-6) {
        throw Error(ErrorCode::internal, "the Irish Grid transform gives " + std::to_string(east) +
                                             ", " + std::to_string(north) +
                                             " for 333000 373000, not cs2cs's 54.5877555, "
                                             "-5.9433994");
    }
    return t;
}

GridTransform::GridTransform(GridTransform&&) noexcept = default;
GridTransform::~GridTransform() = default;

void GridTransform::to_wgs84(std::span<double> eastings_lat,
                             std::span<double> northings_lon) const {
    if (eastings_lat.empty()) return;
    std::vector<int> ok(eastings_lat.size(), 0);
    // The overall result is false if any point failed; the per-point flags say which.
    if (eastings_lat.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw std::length_error("to_wgs84: too many points for one OSR transform call");
    }
    transform_->Transform(static_cast<int>(eastings_lat.size()), eastings_lat.data(),
                          northings_lon.data(), nullptr, ok.data());
    for (std::size_t i = 0; i < ok.size(); ++i) {
        if (!ok[i] || !std::isfinite(eastings_lat[i]) || !std::isfinite(northings_lon[i])) {
            throw Error(ErrorCode::bad_input,
                        "the " + name_ +
                            " transform failed for a point (is it outside the grid, or is "
                            "the grid file damaged?): " +
                            std::string(CPLGetLastErrorMsg()));
        }
    }
}

format::Country country_of(std::string_view gss) {
    if (gss == "E92000001") return format::Country::england;
    if (gss == "S92000003") return format::Country::scotland;
    if (gss == "W92000004") return format::Country::wales;
    if (gss == "N92000002") return format::Country::northern_ireland;
    return format::Country::unknown;
}

namespace {

void check_layout(const std::string& root, const std::string& zip_name) {
    const std::string doc = root + "/Doc/Code-Point_Open_Column_Headers.csv";
    VSILFILE* f = VSIFOpenL(doc.c_str(), "rb");
    if (f == nullptr) {
        throw Error(
            ErrorCode::bad_input,
            zip_name +
                " is not in the Code-Point Open layout: no Doc/Code-Point_Open_Column_Headers.csv");
    }
    const char* first = CPLReadLineL(f);
    const std::string header = first ? first : "";
    VSIFCloseL(f);
    if (!header.starts_with("PC,PQ,EA,NO,CY")) {
        throw Error(ErrorCode::bad_input, zip_name +
                                              ": Doc/Code-Point_Open_Column_Headers.csv starts '" +
                                              header + "', not 'PC,PQ,EA,NO,CY'");
    }
}

struct AreaResult {
    std::vector<CodePointRow> located, unlocated;
};

AreaResult read_area(OGRLayer* layer, const std::string& where_prefix, const GridTransform& grid) {
    AreaResult out;
    std::vector<double> e, n;
    for (auto& f : *layer) {
        const auto line = f->GetFID();
        auto fail = [&](const std::string& why) {
            return Error(ErrorCode::bad_input,
                         where_prefix + " line " + std::to_string(line) + ": " + why);
        };
        if (f->GetFieldCount() < 5) throw fail("fewer than 5 fields");
        for (int i = 0; i < 5; ++i) {
            if (!f->IsFieldSetAndNotNull(i))
                throw fail("field " + std::to_string(i + 1) + " is missing");
        }
        const std::string_view pc = f->GetFieldAsString(0);
        auto parsed = parse_postcode(pc);
        if (!parsed || parsed->level != PostcodeLevel::unit) {
            throw fail("field PC (postcode) '" + std::string(pc) + "' is not a postcode" +
                       (parsed ? std::string() : ": " + parsed.error().message()));
        }
        const auto quality = parse_int(f->GetFieldAsString(1));
        if (!quality || std::find(format::kQualityCodes.begin() + 1, format::kQualityCodes.end(),
                                  *quality) == format::kQualityCodes.end()) {
            throw fail("field PQ (positional quality) '" + std::string(f->GetFieldAsString(1)) +
                       "' is not one of 10, 20, 30, 40, 50, 60, 90");
        }
        const auto east = parse_int(f->GetFieldAsString(2));
        const auto north = parse_int(f->GetFieldAsString(3));
        if (!east || *east < 0 || *east > static_cast<long>(format::kMaxEastings)) {
            throw fail("field EA (eastings) '" + std::string(f->GetFieldAsString(2)) +
                       "' is not a whole number of metres in 0.." +
                       std::to_string(format::kMaxEastings));
        }
        if (!north || *north < 0 || *north > static_cast<long>(format::kMaxNorthings)) {
            throw fail("field NO (northings) '" + std::string(f->GetFieldAsString(3)) +
                       "' is not a whole number of metres in 0.." +
                       std::to_string(format::kMaxNorthings));
        }
        const auto country = country_of(f->GetFieldAsString(4));
        if (country == format::Country::unknown || country == format::Country::northern_ireland) {
            throw fail("field CY (country) '" + std::string(f->GetFieldAsString(4)) +
                       "' is not England, Scotland or Wales (E92000001, S92000003, W92000004)");
        }
        CodePointRow row;
        // DC, the ninth column; older or cut-down extracts may stop after CY.
        const std::string_view district =
            f->GetFieldCount() > 8 && f->IsFieldSetAndNotNull(8) ? f->GetFieldAsString(8) : "";
        if (!district.empty()) {
            if (!is_gss_code(district)) {
                throw fail("field DC (admin district code) '" + std::string(district) +
                           "' is not a GSS code (a capital letter and 8 digits, like E07000068)");
            }
            std::copy(district.begin(), district.end(), row.admin_district.begin());
        }
        std::copy(parsed->outward.begin(), parsed->outward.end(), row.outward.begin());
        row.inward_code = format::inward_code(parsed->sector_digit, parsed->unit_letters[0],
                                              parsed->unit_letters[1]);
        row.eastings_m = static_cast<std::uint32_t>(*east);
        row.northings_m = static_cast<std::uint32_t>(*north);
        row.quality = static_cast<std::uint8_t>(*quality);
        row.country = country;
        if (row.quality == 90) {
            out.unlocated.push_back(row);
        } else {
            if (row.eastings_m == 0 && row.northings_m == 0) {
                throw fail("eastings and northings are 0 but the positional quality is " +
                           std::to_string(row.quality) + ", not 90");
            }
            out.located.push_back(row);
            e.push_back(row.eastings_m);
            n.push_back(row.northings_m);
        }
    }
    grid.to_wgs84(e, n);
    for (std::size_t i = 0; i < out.located.size(); ++i) {
        out.located[i].lat_deg = e[i];
        out.located[i].lon_deg = n[i];
    }
    return out;
}

// The zip's Data/CSV/<area>.csv member names, sorted.
std::vector<std::string> area_files(const std::string& root, const std::string& zip_name) {
    std::vector<std::string> areas;
    char** names = VSIReadDir((root + "/Data/CSV").c_str());
    for (char** p = names; p && *p; ++p) {
        std::string name = *p;
        if (name.size() > 4 && name.ends_with(".csv")) areas.push_back(name);
    }
    CSLDestroy(names);
    std::sort(areas.begin(), areas.end());
    if (areas.empty()) {
        throw Error(ErrorCode::bad_input, zip_name + " has no Data/CSV/<area>.csv files");
    }
    return areas;
}

// Reads every area file on `threads` threads, each with its own transformation; results[i] is
// areas[i]'s. The first error any thread meets stops the others before their next file and
// is thrown here.
std::vector<AreaResult> read_areas(const std::string& root, const std::string& zip_name,
                                   const std::vector<std::string>& areas,
                                   const std::filesystem::path& grid, unsigned threads) {
    std::vector<AreaResult> results(areas.size());
    std::atomic<std::size_t> next{0};
    std::mutex error_mutex;
    std::optional<Error> first_error;
    auto work = [&] {
        try {
            GridTransform transform(grid);  // OGR transformations are not shared between threads
            for (;;) {
                const std::size_t i = next.fetch_add(1);
                if (i >= areas.size()) return;
                {
                    std::lock_guard lock(error_mutex);
                    if (first_error) return;
                }
                const std::string member = root + "/Data/CSV/" + areas[i];
                auto ds = open_vector(member, {"HEADERS=NO", "AUTODETECT_TYPE=NO"});
                if (!ds || ds->GetLayerCount() != 1) {
                    throw Error(ErrorCode::bad_input,
                                zip_name + ": cannot read Data/CSV/" + areas[i]);
                }
                results[i] =
                    read_area(ds->GetLayer(0), zip_name + ": Data/CSV/" + areas[i], transform);
            }
        } catch (const Error& e) {
            std::lock_guard lock(error_mutex);
            if (!first_error) first_error = e;
        } catch (const std::exception& e) {
            std::lock_guard lock(error_mutex);
            if (!first_error) first_error = Error(ErrorCode::internal, e.what());
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
    if (first_error) throw *first_error;
    return results;
}

// Seconds since 1970 of the newest area file in the zip: the data's date.
std::int64_t newest_member_time(const std::string& root, const std::vector<std::string>& areas) {
    std::int64_t newest = 0;
    for (const auto& area : areas) {
        VSIStatBufL st;
        if (VSIStatL((root + "/Data/CSV/" + area).c_str(), &st) == 0) {
            newest = std::max<std::int64_t>(newest, st.st_mtime);
        }
    }
    return newest;
}

}  // namespace

bool row_less(const CodePointRow& a, const CodePointRow& b) {
    if (a.outward != b.outward) return a.outward < b.outward;
    return a.inward_code < b.inward_code;
}

void sort_unique(std::vector<CodePointRow>& rows, const std::string& source) {
    std::sort(rows.begin(), rows.end(), row_less);
    const auto same_postcode = [](const CodePointRow& a, const CodePointRow& b) {
        return a.outward == b.outward && a.inward_code == b.inward_code;
    };
    const auto dup = std::adjacent_find(rows.begin(), rows.end(), same_postcode);
    if (dup != rows.end()) {
        throw Error(ErrorCode::bad_input,
                    source + ": postcode " + postcode_text(*dup) + " appears twice");
    }
}

CodePoint read_codepoint(const std::filesystem::path& zip, const std::filesystem::path& grid,
                         unsigned threads) {
    const std::string zip_name = zip.filename().string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(zip, ec)) {
        throw Error(ErrorCode::bad_input, "Code-Point Open '" + zip.string() + "' was not found");
    }
    const std::string root = "/vsizip/" + std::filesystem::absolute(zip).string();
    check_layout(root, zip_name);
    const std::vector<std::string> areas = area_files(root, zip_name);
    const std::vector<AreaResult> results = read_areas(root, zip_name, areas, grid, threads);

    CodePoint cp;
    cp.area_files = areas.size();
    cp.newest_member_time = newest_member_time(root, areas);
    for (const auto& r : results) {
        cp.located.insert(cp.located.end(), r.located.begin(), r.located.end());
        cp.unlocated.insert(cp.unlocated.end(), r.unlocated.begin(), r.unlocated.end());
    }
    sort_unique(cp.located, zip_name);
    sort_unique(cp.unlocated, zip_name);
    return cp;
}

}  // namespace hloc::ingest
