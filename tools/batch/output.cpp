#include "output.hpp"

#include <cpl_string.h>
#include <fcntl.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "hloc/contract/csv_writer.hpp"
#include "hloc/error.hpp"

namespace hloc::batch {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Temporary files the signal handler removes. Fixed storage: a handler may only call
// async-signal-safe functions, so nothing here allocates once registered.
constexpr int kSlots = 8;
constexpr std::size_t kPathMax = 4096;
char g_temp_paths[kSlots][kPathMax];
std::atomic<bool> g_slot_used[kSlots];

// SQLite (GeoPackage) keeps side files while a file is open.
constexpr const char* kSideSuffixes[] = {"-journal", "-wal", "-shm"};

void remove_with_side_files(const char* path) {
    ::unlink(path);
    char side[kPathMax + 16];
    const std::size_t n = std::strlen(path);
    for (const char* suffix : kSideSuffixes) {
        std::memcpy(side, path, n);
        std::memcpy(side + n, suffix, std::strlen(suffix) + 1);
        ::unlink(side);
    }
}

extern "C" void on_fatal_signal(int sig) {
    for (int i = 0; i < kSlots; ++i) {
        if (g_slot_used[i].load()) remove_with_side_files(g_temp_paths[i]);
    }
    const char* what = sig == SIGINT    ? "interrupted (SIGINT)"
                       : sig == SIGTERM ? "terminated (SIGTERM)"
                                        : "hung up (SIGHUP)";
    const char* tail = ": stopped, no output written\n";
    [[maybe_unused]] auto r1 = ::write(2, what, std::strlen(what));
    [[maybe_unused]] auto r2 = ::write(2, tail, std::strlen(tail));
    ::_exit(128 + sig);
}

int register_temp(const std::string& path) {
    if (path.size() >= kPathMax) return -1;
    for (int i = 0; i < kSlots; ++i) {
        bool expected = false;
        if (g_slot_used[i].load()) continue;
        std::memcpy(g_temp_paths[i], path.c_str(), path.size() + 1);
        if (g_slot_used[i].compare_exchange_strong(expected, true)) return i;
    }
    return -1;
}

}  // namespace

void install_signal_cleanup() {
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

OutputFormat output_format(const std::string& path, const std::string& format) {
    std::string f = lower(format);
    if (f.empty()) {
        if (path == "-") return OutputFormat::csv;
        const auto ext = lower(fs::path(path).extension().string());
        if (ext == ".csv") return OutputFormat::csv;
        if (ext == ".jsonl" || ext == ".ndjson") return OutputFormat::jsonl;
        if (ext == ".geojson" || ext == ".json") return OutputFormat::geojson;
        if (ext == ".gpkg") return OutputFormat::gpkg;
        throw Error(ErrorCode::invalid_parameter,
                    "cannot tell the output format from \"" + path +
                        "\": use .csv, .jsonl, .geojson or .gpkg, or --format");
    }
    if (f == "csv") return OutputFormat::csv;
    if (f == "jsonl" || f == "ndjson") return OutputFormat::jsonl;
    if (f == "geojson") return OutputFormat::geojson;
    if (f == "gpkg" || f == "geopackage") return OutputFormat::gpkg;
    throw Error(ErrorCode::invalid_parameter,
                "--format " + format + ": use csv, jsonl, geojson or gpkg");
}

SafeOutput::SafeOutput(std::string target, bool force, const std::vector<std::string>& inputs)
    : target_(std::move(target)) {
    const fs::path t(target_);
    const fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw Error(ErrorCode::io_error, "cannot write " + target_ + ": the directory " +
                                             dir.string() + " does not exist");
    }
    if (::access(dir.c_str(), W_OK) != 0) {
        throw Error(ErrorCode::io_error, "cannot write " + target_ + ": the directory " +
                                             dir.string() + " is not writable (" +
                                             std::strerror(errno) + ")");
    }
    for (const auto& in : inputs) {
        if (in != "-" && fs::exists(t, ec) && fs::equivalent(t, fs::path(in), ec)) {
            throw Error(ErrorCode::invalid_parameter,
                        "the output " + target_ + " is the input " + in);
        }
    }
    if (fs::is_directory(t, ec))
        throw Error(ErrorCode::io_error, "cannot write " + target_ + ": it is a directory");
    if (fs::exists(t, ec) && !force) {
        throw Error(ErrorCode::io_error, target_ + " already exists; give --force to replace it");
    }
    // Same directory (so rename is atomic), hidden, and the target's extension (GDAL drivers
    // look at it).
    std::string name = ".";
    name += t.stem().string();
    name += ".tmp-";
    name += std::to_string(::getpid());
    name += t.extension().string();
    temp_ = (dir / name).string();
    remove_with_side_files(temp_.c_str());
    slot_ = register_temp(temp_);
}

SafeOutput::~SafeOutput() {
    if (!committed_) remove_with_side_files(temp_.c_str());
    if (slot_ >= 0) g_slot_used[slot_].store(false);
}

void SafeOutput::commit() {
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
        throw Error(ErrorCode::io_error,
                    "cannot rename " + temp_ + " to " + target_ + ": " + std::strerror(errno));
    }
    committed_ = true;
    if (slot_ >= 0) g_slot_used[slot_].store(false);
    slot_ = -1;
}

TextFile::TextFile(const std::string& path) : path_(path), buffer_(1 << 20) {
    if (path == "-") {
        file_ = stdout;
    } else {
        file_ = std::fopen(path.c_str(), "wb");
        if (!file_)
            throw Error(ErrorCode::io_error, "cannot write " + path + ": " + std::strerror(errno));
        owned_ = true;
    }
    std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
}

TextFile::~TextFile() {
    if (owned_ && file_) std::fclose(file_);
}

void TextFile::write(const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
        throw Error(ErrorCode::io_error,
                    "cannot write " + (path_ == "-" ? std::string("standard output") : path_) +
                        ": " + std::strerror(errno));
    }
}

void TextFile::write_all(const std::string* texts, std::size_t count) {
    if (std::fflush(file_) != 0) {
        throw Error(ErrorCode::io_error, "cannot write " + path_ + ": " + std::strerror(errno));
    }
    const int fd = fileno(file_);
    constexpr std::size_t kBatch = 1024;  // IOV_MAX on Linux
    std::vector<iovec> iov;
    iov.reserve(kBatch);
    for (std::size_t begin = 0; begin < count; begin += kBatch) {
        const std::size_t end = std::min(count, begin + kBatch);
        iov.clear();
        for (std::size_t i = begin; i < end; ++i) {
            if (!texts[i].empty())
                iov.push_back({const_cast<char*>(texts[i].data()), texts[i].size()});
        }
        std::size_t at = 0;
        while (at < iov.size()) {
            const ssize_t n = ::writev(fd, iov.data() + at, static_cast<int>(iov.size() - at));
            if (n < 0) {
                if (errno == EINTR) continue;
                throw Error(ErrorCode::io_error,
                            "cannot write " +
                                (path_ == "-" ? std::string("standard output") : path_) + ": " +
                                std::strerror(errno));
            }
            // A short write: skip what went out, resume inside the first piece not finished.
            auto left = static_cast<std::size_t>(n);
            while (at < iov.size() && left >= iov[at].iov_len) left -= iov[at++].iov_len;
            if (at < iov.size()) {
                iov[at].iov_base = static_cast<char*>(iov[at].iov_base) + left;
                iov[at].iov_len -= left;
            }
        }
    }
}

void TextFile::close() {
    const bool flushed = std::fflush(file_) == 0;
    const int flush_errno = errno;
    bool closed = true;
    if (owned_) {
        closed = std::fclose(file_) == 0;
        file_ = nullptr;
    }
    if (!flushed || !closed) {
        throw Error(ErrorCode::io_error,
                    "cannot write " + path_ + ": " + std::strerror(flushed ? errno : flush_errno));
    }
}

OgrWriter::OgrWriter(const std::string& path, OutputFormat format,
                     const std::vector<std::string>& columns, std::size_t input_columns,
                     std::uint32_t /*k*/)
    : path_(path) {
    const char* driver_name = format == OutputFormat::gpkg ? "GPKG" : "GeoJSON";
    GDALDriverH driver = GDALGetDriverByName(driver_name);
    if (!driver)
        throw Error(ErrorCode::internal, std::string("GDAL has no ") + driver_name + " driver");
    dataset_ = GDALCreate(driver, path.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
    if (!dataset_)
        throw Error(ErrorCode::io_error, "cannot create " + path + ": " + CPLGetLastErrorMsg());
    OGRSpatialReferenceH wgs84 = OSRNewSpatialReference(nullptr);
    OSRImportFromEPSG(wgs84, 4326);
    OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    char** options = nullptr;
    if (format == OutputFormat::geojson) {
        options = CSLSetNameValue(options, "COORDINATE_PRECISION", "7");
        options = CSLSetNameValue(options, "RFC7946", "YES");
    }
    layer_ = GDALDatasetCreateLayer(dataset_, "nearest", wgs84, wkbPoint, options);
    CSLDestroy(options);
    OSRDestroySpatialReference(wgs84);
    if (!layer_)
        throw Error(ErrorCode::io_error,
                    "cannot create a layer in " + path + ": " + CPLGetLastErrorMsg());
    // Result columns that hold numbers are reals; input columns and the rest are text.
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto& name = columns[i];
        const bool real =
            i >= input_columns && (name == "lat" || name == "lon" || name.ends_with("_metres") ||
                                   name.ends_with("_miles"));
        real_.push_back(real);
        OGRFieldDefnH field = OGR_Fld_Create(name.c_str(), real ? OFTReal : OFTString);
        const OGRErr err = OGR_L_CreateField(static_cast<OGRLayerH>(layer_), field, TRUE);
        OGR_Fld_Destroy(field);
        if (err != OGRERR_NONE)
            throw Error(ErrorCode::io_error, "cannot add field " + name + " to " + path);
    }
    defn_ = OGR_L_GetLayerDefn(static_cast<OGRLayerH>(layer_));
}

OgrWriter::~OgrWriter() {
    if (dataset_) GDALClose(static_cast<GDALDatasetH>(dataset_));
}

void OgrWriter::begin_chunk() {
    GDALDatasetStartTransaction(static_cast<GDALDatasetH>(dataset_), FALSE);
}

void OgrWriter::end_chunk() {
    if (GDALDatasetCommitTransaction(static_cast<GDALDatasetH>(dataset_)) == OGRERR_FAILURE) {
        throw Error(ErrorCode::io_error, "cannot write " + path_ + ": " + CPLGetLastErrorMsg());
    }
}

void OgrWriter::write(const std::vector<std::string>& cells, bool has_point, double lat_deg,
                      double lon_deg) {
    OGRFeatureH feature = OGR_F_Create(static_cast<OGRFeatureDefnH>(defn_));
    for (std::size_t i = 0; i < cells.size() && i < real_.size(); ++i) {
        if (cells[i].empty()) continue;
        const int f = static_cast<int>(i);
        if (real_[i])
            OGR_F_SetFieldDouble(feature, f, std::strtod(cells[i].c_str(), nullptr));
        else
            OGR_F_SetFieldString(feature, f, valid_utf8(cells[i]).c_str());
    }
    if (has_point) {
        OGRGeometryH point = OGR_G_CreateGeometry(wkbPoint);
        OGR_G_SetPoint_2D(point, 0, lon_deg, lat_deg);
        OGR_F_SetGeometryDirectly(feature, point);
    }
    const OGRErr err = OGR_L_CreateFeature(static_cast<OGRLayerH>(layer_), feature);
    OGR_F_Destroy(feature);
    if (err != OGRERR_NONE)
        throw Error(ErrorCode::io_error, "cannot write " + path_ + ": " + CPLGetLastErrorMsg());
}

void OgrWriter::close() {
    CPLErrorReset();
    GDALClose(static_cast<GDALDatasetH>(dataset_));
    dataset_ = nullptr;
    if (CPLGetLastErrorType() >= CE_Failure) {
        throw Error(ErrorCode::io_error, "cannot write " + path_ + ": " + CPLGetLastErrorMsg());
    }
}

std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
        bool ok = len > 0 && i + len <= s.size();
        for (std::size_t j = 1; ok && j < len; ++j)
            ok = (static_cast<unsigned char>(s[i + j]) & 0xC0) == 0x80;
        if (ok && len == 2) ok = c >= 0xC2;  // no overlong forms
        if (ok && len == 3) {
            const auto c1 = static_cast<unsigned char>(s[i + 1]);
            ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
        }
        if (ok && len == 4) {
            const auto c1 = static_cast<unsigned char>(s[i + 1]);
            ok = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
        }
        if (ok && c == 0) ok = false;  // NUL would end a C string early
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

}  // namespace hloc::batch
