#include "options.hpp"

#include <gdal.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

#include "../common/json_format.hpp"
#include "output.hpp"

namespace hloc::batch {

std::string pick_treatment(const Engine& engine, const std::string& given) {
    const auto treatments = engine.treatments();
    std::string names;
    for (const auto& t : treatments) names += (names.empty() ? "" : ", ") + std::string(t.name);
    if (given.empty()) {
        if (treatments.size() == 1) return std::string(treatments.front().name);
        throw Error(ErrorCode::invalid_parameter, "the index has several treatments (" + names + "); give --treatment");
    }
    for (const auto& t : treatments) {
        if (t.name == given) return given;
    }
    throw Error(ErrorCode::unknown_treatment, "no treatment \"" + given + "\" in the index; it has " + names);
}

std::string map_format(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".svg") return "svg";
    if (ext == ".png") return "png";
    throw Error(ErrorCode::invalid_parameter, "--map " + path + ": the map is drawn as .svg or .png");
}

std::string with_commas(std::uint64_t n) {
    const std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

int fail(const Error& error) {
    std::cerr << api::error_json(error).dump() << "\n";
    return 2;
}

void init_process() {
    // GDAL's driver registry is process-global: registered once, here, before any thread starts.
    GDALAllRegister();
    CPLSetErrorHandler(CPLQuietErrorHandler);  // errors are read back with CPLGetLastErrorMsg
    install_signal_cleanup();
}

}  // namespace hloc::batch
