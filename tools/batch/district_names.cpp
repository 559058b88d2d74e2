#include "district_names.hpp"

#include <gdal.h>
#include <ogr_api.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "hloc/error.hpp"
#include "hloc/postcode.hpp"

namespace hloc::batch {

namespace {

struct DatasetCloser {
    void operator()(GDALDatasetH ds) const { GDALClose(ds); }
};
struct FeatureDestroyer {
    void operator()(OGRFeatureH f) const { OGR_F_Destroy(f); }
};

bool has_letter(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](unsigned char c) { return std::isalpha(c) || c >= 0x80; });
}

std::string trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return "";
    return std::string(text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1));
}

// Header rows are data here (a header holds no GSS code and is passed over), so the drivers
// are told not to take the first row as column names: a list without a header keeps its first.
std::vector<const char*> open_options(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".csv" || ext == ".txt") return {"HEADERS=NO", "AUTODETECT_TYPE=NO", nullptr};
    if (ext == ".xlsx" || ext == ".ods") return {"HEADERS=DISABLE", nullptr};
    return {nullptr};
}

struct Seen {
    std::string name;
    std::string where;
};

}  // namespace

DistrictNames read_district_names(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorCode::io_error,
                    "--district-names " + path + ": no such file (or not a regular file)");
    }
    auto options = open_options(path);
    std::unique_ptr<void, DatasetCloser> ds(GDALOpenEx(
        path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, options.data(), nullptr));
    if (!ds) {
        throw Error(ErrorCode::bad_input,
                    "--district-names " + path +
                        ": GDAL cannot read it as a table: " + CPLGetLastErrorMsg());
    }
    std::map<std::string, Seen, std::less<>> seen;  // code -> its name and where it was read
    const int layers = GDALDatasetGetLayerCount(ds.get());
    for (int l = 0; l < layers; ++l) {
        OGRLayerH layer = GDALDatasetGetLayer(ds.get(), l);
        const std::string layer_name = OGR_L_GetName(layer);
        OGR_L_ResetReading(layer);
        std::uint64_t row = 0;
        while (std::unique_ptr<void, FeatureDestroyer> f{OGR_L_GetNextFeature(layer)}) {
            ++row;
            const int fields = OGR_F_GetFieldCount(f.get());
            std::optional<std::string> code, name;
            for (int i = 0; i < fields; ++i) {
                if (!OGR_F_IsFieldSetAndNotNull(f.get(), i)) continue;
                const std::string cell = trimmed(OGR_F_GetFieldAsString(f.get(), i));
                if (!code && is_gss_code(cell))
                    code = cell;
                else if (!name && has_letter(cell))
                    name = cell;
            }
            if (!code || !name) continue;
            const std::string where =
                path + " layer '" + layer_name + "' row " + std::to_string(row);
            const auto [at, fresh] = seen.try_emplace(*code, Seen{*name, where});
            if (!fresh && at->second.name != *name) {
                throw Error(ErrorCode::bad_input, "--district-names " + where + ": " + *code +
                                                      " is named '" + *name + "' here and '" +
                                                      at->second.name + "' at " + at->second.where);
            }
        }
    }
    if (seen.empty()) {
        throw Error(
            ErrorCode::bad_input,
            "--district-names " + path + ": no row holds a GSS code (like E07000068) and a name");
    }
    DistrictNames names;
    for (auto& [code, s] : seen) names.emplace(code, std::move(s.name));
    return names;
}

}  // namespace hloc::batch
