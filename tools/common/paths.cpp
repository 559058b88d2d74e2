#include "paths.hpp"

#include <cstdlib>

#include "hloc/error.hpp"

namespace hloc::paths {

std::filesystem::path source_dir() { return HLOC_SOURCE_DIR; }
std::filesystem::path default_index() {
    return std::filesystem::path(HLOC_BINARY_DIR) / "hospitals.hlx";
}

std::filesystem::path data_dir(const std::optional<std::string>& given, bool codepoint) {
    auto holds_data = [codepoint](const std::filesystem::path& dir) {
        std::error_code ec;
        return (!codepoint || std::filesystem::is_regular_file(dir / kCodePointZip, ec)) &&
               std::filesystem::is_regular_file(dir / kGridFile, ec);
    };
    const std::string needed =
        codepoint ? std::string(kCodePointZip) + " and " + kGridFile : std::string(kGridFile);
    if (given) {
        if (!holds_data(*given)) {
            throw Error(ErrorCode::bad_input, "--data " + *given + " does not hold " + needed);
        }
        return *given;
    }
    if (const char* env = std::getenv("HLOC_DATA"); env != nullptr && *env != '\0') {
        if (!holds_data(env)) {
            throw Error(ErrorCode::bad_input,
                        std::string("$HLOC_DATA=") + env + " does not hold " + needed);
        }
        return env;
    }
    const auto src = source_dir();
    const std::filesystem::path candidates[] = {src / "data", src / "data" / "downloads",
                                                HLOC_DEFAULT_DATA_DIR};
    std::string looked;
    for (const auto& c : candidates) {
        if (holds_data(c)) return c;
        looked += "\n  " + c.lexically_normal().string();
    }
    throw Error(
        ErrorCode::bad_input,
        "no data directory holds " + needed + "; looked in:" + looked +
            "\nGive one with --data DIR or $HLOC_DATA, or fetch them with scripts/fetch-data "
            "(see data/README.md)");
}

}  // namespace hloc::paths
