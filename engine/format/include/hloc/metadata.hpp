// The index's metadata section: provenance and counts as "key\tvalue\n" lines. The key names
// are defined here once; the ingest stage writes them and the engine reads them back into
// IndexInfo, so the two cannot drift apart.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hloc/query.hpp"

namespace hloc::metadata {

using Entries = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kBuilder = "builder";      // tool and version
inline constexpr std::string_view kBuiltAt = "built_at";     // newest source date, ISO 8601 UTC
inline constexpr std::string_view kTransform = "transform";  // the PROJ pipeline used
// The operation and pipeline used for Northern Ireland's Irish Grid (an ONSPD build only).
inline constexpr std::string_view kTransformIrishGrid = "transform.irish_grid";
// Source of the postcodes: "Code-Point Open" or "ONSPD"; the engine's notes name it.
inline constexpr std::string_view kPostcodeSource = "postcode_source";
inline constexpr std::string_view kSkippedBlock = "skipped_block";  // a listing block left out

// Per source file n (0, 1, ...): source.<n>.<field>.
inline constexpr std::string_view kSourceRole = "role";  // "listing:<treatment>", "sites", ...
inline constexpr std::string_view kSourceFile = "file";  // file name, never a path
inline constexpr std::string_view kSourceBytes = "bytes";
inline constexpr std::string_view kSourceXxh3 = "xxh3";
inline constexpr std::string_view kSourceModified = "modified";
std::string source_key(std::size_t n, std::string_view field);

inline constexpr std::string_view kCountPostcodes = "count.postcodes";
inline constexpr std::string_view kCountLocated = "count.located";
inline constexpr std::string_view kCountUnlocated = "count.unlocated_quality_90";
inline constexpr std::string_view kCountAreaFiles = "count.area_files";
inline constexpr std::string_view kCountSites = "count.sites";
// ONSPD builds: terminated postcodes, Northern Ireland's live ones, the rows left out as
// outside the covered area (Channel Islands, Isle of Man) or non-geographic (BX ...), and the
// largest distance between a position we computed and ONSPD's own lat/long, in metres, per
// grid.
inline constexpr std::string_view kCountTerminated = "count.terminated";
inline constexpr std::string_view kCountNorthernIreland = "count.northern_ireland";
inline constexpr std::string_view kCountNotCovered = "count.not_covered";
inline constexpr std::string_view kCountNonGeographic = "count.non_geographic";
inline constexpr std::string_view kCheckIrishGridVsOnspdMaxM = "check.irish_grid_vs_onspd_max_m";
inline constexpr std::string_view kCheckGbVsOnspdMaxM = "check.gb_vs_onspd_max_m";

// The section text. Tabs and newlines inside a value become spaces, so every entry stays one line.
std::string encode(const Entries& entries);
// Every well-formed line of the section, in order; lines without a tab are skipped.
Entries decode(std::string_view text);

// Fills `info`'s provenance (builder, built_at, transform, sources, metadata) from the entries.
void read_provenance(const Entries& entries, IndexInfo& info);

}  // namespace hloc::metadata
