#include "options.hpp"

#include <gdal.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

#include "hloc/contract/json_writer.hpp"
#include "hloc/parallel.hpp"
#include "output.hpp"

namespace hloc::batch {

unsigned checked_threads(long long threads) {
    if (threads < 0 || threads > kMaxThreads) {
        throw Error(ErrorCode::invalid_parameter,
                    "--threads must be between 0 (one per core) and " +
                        std::to_string(kMaxThreads) + " (got " + std::to_string(threads) + ")");
    }
    return static_cast<unsigned>(threads);
}

std::string map_format(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".svg") return "svg";
    if (ext == ".png") return "png";
    throw Error(ErrorCode::invalid_parameter,
                "--map " + path + ": the map is drawn as .svg or .png");
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

void init_process() {
    // GDAL's driver registry is process-global: registered once, here, before any thread starts.
    GDALAllRegister();
    CPLSetErrorHandler(CPLQuietErrorHandler);  // errors are read back with CPLGetLastErrorMsg
    install_signal_cleanup();
}

}  // namespace hloc::batch
