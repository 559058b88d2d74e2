#include "input.hpp"

#include <fcntl.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "csv_reader.hpp"
#include "hloc/contract/request.hpp"
#include "hloc/files.hpp"
#include "hloc/postcode.hpp"

namespace hloc::batch {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

Error not_a_file(const std::string& path, mode_t mode) {
    return Error(ErrorCode::io_error, "cannot read " + path + ": it is " +
                                          std::string(file_kind(mode)) + ", not a regular file");
}

// A CSV file, opened without blocking: open(O_RDONLY) on a FIFO waits for a writer, maybe
// forever, and a device (/dev/zero) never ends. Anything but a regular file is refused by what
// it is; standard input ("-") is read as it comes, a pipe by design.
std::FILE* open_regular_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        throw Error(ErrorCode::io_error, "cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw Error(ErrorCode::io_error, "cannot open " + path + ": " + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw not_a_file(path, st.st_mode);
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // a regular file: no effect
    std::FILE* file = ::fdopen(fd, "rb");
    if (!file) {
        const int err = errno;
        ::close(fd);
        throw Error(ErrorCode::io_error, "cannot open " + path + ": " + std::strerror(err));
    }
    return file;
}

// A whole unit postcode, or one that is well formed but outside the GB data: enough to say
// that a first record is data, not a header.
bool looks_like_postcode(std::string_view text) {
    const auto parsed = normalise_postcode(text);
    if (parsed) return true;
    const auto code = parsed.error().code();
    return code == ErrorCode::not_covered || code == ErrorCode::non_geographic_postcode;
}

std::string list_columns(const std::vector<std::string>& columns) {
    std::string out;
    for (const auto& c : columns) {
        if (!out.empty()) out += ", ";
        out += "\"" + c + "\"";
    }
    return out.empty() ? "none" : out;
}

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// --postcode-column given by name (any case) or 1-based position.
std::size_t chosen_column(const std::string& wanted, const std::vector<std::string>& columns,
                          const std::string& file) {
    if (all_digits(wanted)) {
        const auto position = std::stoull(wanted.size() > 9 ? "0" : wanted);
        if (position >= 1 && position <= columns.size()) return position - 1;
        throw Error(ErrorCode::bad_input, "--postcode-column " + wanted + ": " + file + " has " +
                                              std::to_string(columns.size()) + " columns (" +
                                              list_columns(columns) + ")");
    }
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (lower(trimmed(columns[i])) == lower(trimmed(wanted))) return i;
    }
    throw Error(ErrorCode::bad_input, "no column \"" + wanted + "\" in " + file +
                                          "; the columns are " + list_columns(columns));
}

// Strips one pair of quotes around a header cell, for a look at line 1 before it is parsed.
std::string unquoted(std::string_view s) {
    auto t = trimmed(s);
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
    return t;
}

// Without --delimiter, a comma, except where that cannot be what the file means: line 1 has no
// comma, so read with commas it is one column, and that column contains semicolons or tabs
// (not both). Split by that one instead, line 1 must then name or hold what the rows are
// queried by: a postcode or lat column, the --postcode-column or --lat-column named, or a
// postcode.
char chosen_delimiter(std::string_view line, const InputOptions& options) {
    if (line.find(',') != std::string_view::npos) return ',';
    const bool semicolons = line.find(';') != std::string_view::npos;
    const bool tabs = line.find('\t') != std::string_view::npos;
    if (semicolons == tabs) return ',';
    const char candidate = semicolons ? ';' : '\t';
    for (std::size_t begin = 0; begin <= line.size();) {
        auto end = line.find(candidate, begin);
        if (end == std::string_view::npos) end = line.size();
        const auto cell = unquoted(line.substr(begin, end - begin));
        const auto is = [&](const std::string& wanted) {
            return !wanted.empty() && !all_digits(wanted) && lower(cell) == lower(trimmed(wanted));
        };
        if (is(options.postcode_column) || is(options.lat_column) ||
            is_postcode_column_name(cell) || is_lat_column_name(cell) ||
            looks_like_postcode(cell)) {
            return candidate;
        }
        begin = end + 1;
    }
    return ',';
}

// A hint for a header that names no postcode column: was it meant to be split otherwise?
std::string delimiter_hint(const std::vector<std::string>& columns) {
    if (columns.size() != 1) return "";
    if (columns[0].find(';') != std::string::npos)
        return "; line 1 has semicolons and no comma: give --delimiter ';'";
    if (columns[0].find('\t') != std::string::npos)
        return "; line 1 has tabs and no comma: give --delimiter tab";
    return "";
}

class CsvSource final : public InputSource {
  public:
    CsvSource(const InputOptions& options)
        : name_(options.path == "-" ? "standard input" : options.path) {
        if (options.path == "-") {
            file_ = stdin;
        } else {
            file_ = open_regular_file(options.path);
            owned_ = true;
            struct stat st {};
            if (::fstat(fileno(file_), &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
        }
        reader_ = std::make_unique<CsvReader>(
            file_, name_,
            options.encoding.empty() ? TextEncoding::utf8 : parse_encoding(options.encoding));
        reader_->set_delimiter(!options.delimiter.empty()
                                   ? parse_delimiter(options.delimiter)
                                   : chosen_delimiter(reader_->peek_first_line(), options));
        has_first_ = reader_->next(first_);

        bool header = false;
        bool named = false;  // a column called postcode / pcd / post_code
        if (has_first_) {
            for (const auto& f : first_.fields)
                named = named || is_postcode_column_name(trimmed(f));
            const bool data_like =
                std::any_of(first_.fields.begin(), first_.fields.end(),
                            [](const std::string& f) { return looks_like_postcode(f); });
            if (options.header == "yes")
                header = true;
            else if (options.header == "no")
                header = false;
            else
                header = named || !data_like;
        }
        header_ = header;
        if (header) {
            columns_ = first_.fields;
            has_first_ = false;  // the header is not a row
        } else {
            for (std::size_t i = 1; i <= first_.fields.size(); ++i)
                columns_.push_back("column_" + std::to_string(i));
        }
        if (columns_.empty()) columns_.push_back("postcode");  // an empty file: no rows, one column

        choose_points(options);
        if (points_) {
            query_by_ = "columns " + columns_[lat_column_] + ", " + columns_[lon_column_];
        } else if (!options.postcode_column.empty()) {
            column_ = chosen_column(options.postcode_column, columns_, name_);
        } else if (header) {
            auto it = std::find_if(columns_.begin(), columns_.end(), [](const std::string& c) {
                return is_postcode_column_name(trimmed(c));
            });
            if (it == columns_.end()) {
                throw Error(
                    ErrorCode::bad_input,
                    "no postcode column in " + name_ +
                        " (line 1 reads as a header: " + list_columns(columns_) +
                        "); name a column postcode, pcd or post_code (or two, lat and lon), or "
                        "give --postcode-column NAME|N" +
                        delimiter_hint(columns_));
            }
            column_ = static_cast<std::size_t>(it - columns_.begin());
        } else {
            // No header: the first field of the first row that looks like a postcode.
            column_ = 0;
            for (std::size_t i = 0; i < first_.fields.size(); ++i) {
                if (looks_like_postcode(first_.fields[i])) {
                    column_ = i;
                    break;
                }
            }
        }
        if (!points_) query_by_ = "column " + columns_[column_] + (header ? "" : " (no header)");
    }

    ~CsvSource() override {
        if (owned_) std::fclose(file_);
    }

    bool next(InputRow& row) override {
        if (has_first_) {
            has_first_ = false;
            fill(first_, row);
            return true;
        }
        if (!reader_->next(record_)) return false;
        fill(record_, row);
        return true;
    }

    double fraction_read() const override {
        if (size_ == 0) return -1;
        return static_cast<double>(reader_->bytes_read()) / static_cast<double>(size_);
    }

  private:
    // Points come from lat and lon columns: named by --lat-column and --lon-column, or found by
    // name in the header. A postcode column wins over found ones, unless --use-geometry, as for
    // an OGR layer with both.
    void choose_points(const InputOptions& options) {
        if (!options.lat_column.empty() || !options.lon_column.empty()) {
            if (options.lat_column.empty() || options.lon_column.empty()) {
                throw Error(ErrorCode::invalid_parameter,
                            "give --lat-column and --lon-column together");
            }
            if (!options.postcode_column.empty()) {
                throw Error(ErrorCode::invalid_parameter,
                            "give --postcode-column, or --lat-column and --lon-column, not both");
            }
            lat_column_ = chosen_column(options.lat_column, columns_, name_);
            lon_column_ = chosen_column(options.lon_column, columns_, name_);
            points_ = true;
            return;
        }
        const auto lat = header_ ? find_column(is_lat_column_name) : columns_.size();
        const auto lon = header_ ? find_column(is_lon_column_name) : columns_.size();
        const bool found = lat < columns_.size() && lon < columns_.size();
        if (options.use_geometry && !found) {
            throw Error(ErrorCode::bad_input,
                        "--use-geometry: no lat and lon columns in " + name_ +
                            " (the columns are " + list_columns(columns_) +
                            "); name them lat or latitude and lon, lng, long or longitude, or give "
                            "--lat-column and --lon-column");
        }
        const bool postcode = !options.postcode_column.empty() ||
                              find_column(is_postcode_column_name) < columns_.size();
        if (found && (options.use_geometry || !postcode)) {
            lat_column_ = lat;
            lon_column_ = lon;
            points_ = true;
        }
    }

    std::size_t find_column(bool (*is_name)(std::string_view)) const {
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            if (is_name(trimmed(columns_[i]))) return i;
        }
        return columns_.size();
    }

    // A point's cells are read as the contract reads numbers in every shell.
    void read_point(InputRow& row) const {
        row.postcode.clear();
        if (row.problem) return;
        const auto lat = contract::parse_number("lat", row.fields[lat_column_]);
        if (!lat) {
            row.problem = lat.error();
            return;
        }
        const auto lon = contract::parse_number("lon", row.fields[lon_column_]);
        if (!lon) {
            row.problem = lon.error();
            return;
        }
        row.point = LatLon{lat.value(), lon.value()};
    }

    void fill(CsvRecord& record, InputRow& row) {
        row.number = ++rows_;
        row.line = record.line;
        row.point.reset();
        row.problem.reset();
        // Every row has the header's width: short rows are padded with empty fields. Fields
        // beyond it have no column in a streamed output, so a row with text there is invalid
        // and says so; empty ones (a trailing delimiter) hold nothing and are let go.
        const auto width = record.fields.size();
        const bool extra_text = std::any_of(
            record.fields.begin() + static_cast<std::ptrdiff_t>(std::min(width, columns_.size())),
            record.fields.end(), [](const std::string& f) { return !f.empty(); });
        record.fields.resize(std::max(width, columns_.size()));
        row.postcode = record.fields[column_];
        record.fields.resize(columns_.size());
        row.fields.swap(record.fields);
        if (record.truncated) {
            row.problem = Error(ErrorCode::bad_input,
                                "the row starting on line " + std::to_string(record.line) +
                                    " is longer than 1 MiB; it was cut short");
        } else if (extra_text) {
            row.problem = Error(
                ErrorCode::bad_input,
                "the row on line " + std::to_string(record.line) + " has " + std::to_string(width) +
                    " fields, the " + (header_ ? "header has " : "first row has ") +
                    std::to_string(columns_.size()) + "; the fields beyond are not read");
        }
        if (points_) read_point(row);
    }

    std::string name_;
    std::FILE* file_ = nullptr;
    bool owned_ = false;
    std::uint64_t size_ = 0;
    std::unique_ptr<CsvReader> reader_;
    CsvRecord first_, record_;
    bool has_first_ = false;
    bool header_ = false;  // line 1 names the columns
    std::size_t column_ = 0;
    bool points_ = false;  // queried by lat_column_ and lon_column_, not column_
    std::size_t lat_column_ = 0, lon_column_ = 0;
    std::uint64_t rows_ = 0;
};

class OgrSource final : public InputSource {
  public:
    explicit OgrSource(const InputOptions& options) : name_(options.path) {
        // GDAL opens by name and would block on a FIFO or read a device without end: those are
        // refused first. A directory may be a dataset (a File Geodatabase, a folder of
        // Shapefiles): GDAL is asked, and if it reads none the refusal says it is a directory.
        struct stat st {};
        const bool exists = ::stat(options.path.c_str(), &st) == 0;
        if (exists && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            throw not_a_file(options.path, st.st_mode);
        dataset_ = GDALOpenEx(options.path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr,
                              nullptr, nullptr);
        if (!dataset_) {
            std::error_code ec;
            if (!std::filesystem::exists(options.path, ec)) {
                throw Error(ErrorCode::io_error, "cannot open " + options.path + ": no such file");
            }
            if (exists && S_ISDIR(st.st_mode)) throw not_a_file(options.path, st.st_mode);
            throw Error(ErrorCode::bad_input,
                        "cannot read " + options.path +
                            " as CSV or as a vector layer: " + CPLGetLastErrorMsg());
        }
        if (!options.layer.empty()) {
            layer_ = GDALDatasetGetLayerByName(dataset_, options.layer.c_str());
            if (!layer_)
                throw Error(ErrorCode::bad_input, "no layer \"" + options.layer + "\" in " + name_);
        } else {
            if (GDALDatasetGetLayerCount(dataset_) < 1)
                throw Error(ErrorCode::bad_input, name_ + " has no layers");
            layer_ = GDALDatasetGetLayer(dataset_, 0);
        }
        OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer_);
        for (int i = 0; i < OGR_FD_GetFieldCount(defn); ++i) {
            columns_.emplace_back(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
        }
        const auto geometry_type = wkbFlatten(OGR_L_GetGeomType(layer_));
        const bool point_layer = geometry_type == wkbPoint;
        if (!options.postcode_column.empty() && !options.use_geometry) {
            column_ = static_cast<int>(chosen_column(options.postcode_column, columns_, name_));
        } else if (!options.use_geometry) {
            for (std::size_t i = 0; i < columns_.size(); ++i) {
                if (is_postcode_column_name(columns_[i])) {
                    column_ = static_cast<int>(i);
                    break;
                }
            }
        }
        if (column_ < 0) {
            if (!point_layer && !(options.use_geometry && geometry_type != wkbNone)) {
                throw Error(ErrorCode::bad_input,
                            "no postcode column in " + name_ +
                                " (fields: " + list_columns(columns_) +
                                ") and it is not a point layer; give --postcode-column NAME|N");
            }
            // Points are queried in WGS84 latitude/longitude, whatever the layer's CRS.
            OGRSpatialReferenceH source = OGR_L_GetSpatialRef(layer_);
            if (source) {
                wgs84_ = OSRNewSpatialReference(nullptr);
                OSRImportFromEPSG(wgs84_, 4326);
                OSRSetAxisMappingStrategy(wgs84_, OAMS_TRADITIONAL_GIS_ORDER);
                OGRSpatialReferenceH src = OSRClone(source);
                OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
                transform_ = OCTNewCoordinateTransformation(src, wgs84_);
                OSRDestroySpatialReference(src);
                if (!transform_) {
                    throw Error(ErrorCode::bad_input,
                                "cannot transform " + name_ + "'s coordinates to WGS84");
                }
            }
            query_by_ = "point geometry";
        } else {
            query_by_ = "field " + columns_[static_cast<std::size_t>(column_)];
        }
        total_ = OGR_L_GetFeatureCount(layer_, FALSE);
        OGR_L_ResetReading(layer_);
    }

    ~OgrSource() override {
        if (transform_) OCTDestroyCoordinateTransformation(transform_);
        if (wgs84_) OSRDestroySpatialReference(wgs84_);
        if (dataset_) GDALClose(dataset_);
    }

    bool next(InputRow& row) override {
        OGRFeatureH feature = OGR_L_GetNextFeature(layer_);
        if (!feature) return false;
        row.number = ++rows_;
        row.line = static_cast<std::uint64_t>(OGR_F_GetFID(feature));
        row.point.reset();
        row.problem.reset();
        row.fields.assign(columns_.size(), std::string());
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            const int f = static_cast<int>(i);
            if (OGR_F_IsFieldSetAndNotNull(feature, f))
                row.fields[i] = OGR_F_GetFieldAsString(feature, f);
        }
        if (column_ >= 0) {
            row.postcode = row.fields[static_cast<std::size_t>(column_)];
        } else {
            row.postcode.clear();
            OGRGeometryH g = OGR_F_GetGeometryRef(feature);
            if (!g || OGR_G_IsEmpty(g)) {
                row.problem = Error(ErrorCode::invalid_parameter,
                                    "feature " + std::to_string(row.line) + " has no geometry");
            } else if (wkbFlatten(OGR_G_GetGeometryType(g)) != wkbPoint) {
                row.problem = Error(ErrorCode::invalid_parameter,
                                    "feature " + std::to_string(row.line) + " is a " +
                                        OGR_G_GetGeometryName(g) + ", not a point");
            } else {
                double x = OGR_G_GetX(g, 0), y = OGR_G_GetY(g, 0), z = 0;
                if (transform_ && !OCTTransform(transform_, 1, &x, &y, &z)) {
                    row.problem =
                        Error(ErrorCode::invalid_parameter, "feature " + std::to_string(row.line) +
                                                                " cannot be transformed to WGS84");
                } else {
                    row.point = LatLon{y, x};
                }
            }
        }
        OGR_F_Destroy(feature);
        return true;
    }

    double fraction_read() const override {
        return total_ > 0 ? static_cast<double>(rows_) / static_cast<double>(total_) : -1;
    }

  private:
    std::string name_;
    GDALDatasetH dataset_ = nullptr;
    OGRLayerH layer_ = nullptr;
    OGRSpatialReferenceH wgs84_ = nullptr;
    OGRCoordinateTransformationH transform_ = nullptr;
    int column_ = -1;
    std::uint64_t rows_ = 0;
    GIntBig total_ = -1;
};

bool is_csv_path(const std::string& path) {
    if (path == "-") return true;
    const auto ext = lower(std::filesystem::path(path).extension().string());
    return ext == ".csv" || ext == ".txt" || ext.empty();
}

}  // namespace

bool is_lat_column_name(std::string_view name) {
    const auto n = lower(name);
    return n == "lat" || n == "latitude";
}

bool is_lon_column_name(std::string_view name) {
    const auto n = lower(name);
    return n == "lon" || n == "lng" || n == "long" || n == "longitude";
}

bool is_postcode_column_name(std::string_view name) {
    const auto n = lower(name);
    return n == "postcode" || n == "pcd" || n == "post_code" || n == "postcodes" || n == "pcds" ||
           n == "post code";
}

std::unique_ptr<InputSource> open_input(const InputOptions& options) {
    if (is_csv_path(options.path)) return std::make_unique<CsvSource>(options);
    // GDAL decodes its own formats; an option that would be ignored is refused instead.
    for (const auto& [option, value] :
         {std::pair{"--encoding", &options.encoding}, std::pair{"--delimiter", &options.delimiter},
          std::pair{"--lat-column", &options.lat_column},
          std::pair{"--lon-column", &options.lon_column}}) {
        if (value->empty()) continue;
        throw Error(ErrorCode::invalid_parameter,
                    std::string(option) +
                        " applies to CSV input (.csv, .txt or standard input), not " +
                        options.path);
    }
    return std::make_unique<OgrSource>(options);
}

}  // namespace hloc::batch
