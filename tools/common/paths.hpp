// Where the tools find their inputs when not told.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace hloc::paths {

inline constexpr const char* kCodePointZip = "codepo_gb.zip";
inline constexpr const char* kGridFile = "uk_os_OSTN15_NTv2_OSGBtoETRS.tif";

// The project's source tree (data/listings, data/sites.csv) and build tree (hospitals.hlx).
std::filesystem::path source_dir();
std::filesystem::path default_index();

// The data directory holding codepo_gb.zip (unless `codepoint` is false: a build from ONSPD)
// and the OSTN15 grid: `given` (--data), else $HLOC_DATA, else data/ and data/downloads/ in
// the source tree, else ../shared/data beside it. Throws Error{bad_input} listing every place
// looked at when none holds the datasets.
std::filesystem::path data_dir(const std::optional<std::string>& given, bool codepoint = true);

}  // namespace hloc::paths
