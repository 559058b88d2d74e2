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

// The section text. Tabs and newlines inside a value become spaces, so every entry stays one line.
std::string encode(const Entries& entries);
// Every well-formed line of the section, in order; lines without a tab are skipped.
Entries decode(std::string_view text);

// Fills `info`'s provenance (builder, built_at, transform, sources, metadata) from the entries.
void read_provenance(const Entries& entries, IndexInfo& info);

}  // namespace hloc::metadata
