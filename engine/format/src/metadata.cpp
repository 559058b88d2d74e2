#include "hloc/metadata.hpp"

#include <algorithm>
#include <charconv>

namespace hloc::metadata {

namespace {

constexpr std::string_view kSourcePrefix = "source.";
// More sources than any index has (listings, sites, postcodes, grid); a bound on a damaged file.
constexpr std::size_t kMaxSources = 64;

void read_source_field(std::string_view key, const std::string& value, IndexInfo& info) {
    const auto rest = key.substr(kSourcePrefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos) return;
    std::size_t n = 0;
    const auto digits = rest.substr(0, dot);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc{} || end != digits.data() + digits.size() || n >= kMaxSources) return;
    if (info.sources.size() <= n) info.sources.resize(n + 1);
    const auto field = rest.substr(dot + 1);
    auto& source = info.sources[n];
    if (field == kSourceRole)
        source.role = value;
    else if (field == kSourceFile)
        source.file = value;
    else if (field == kSourceBytes)
        std::from_chars(value.data(), value.data() + value.size(), source.bytes);
    else if (field == kSourceModified)
        source.modified = value;
    else if (field == kSourceXxh3)
        source.xxh3 = value;
}

}  // namespace

std::string source_key(std::size_t n, std::string_view field) {
    std::string key(kSourcePrefix);
    key += std::to_string(n);
    key += '.';
    key += field;
    return key;
}

std::string encode(const Entries& entries) {
    std::string text;
    for (const auto& [key, value] : entries) {
        std::string one_line = value;
        std::replace(one_line.begin(), one_line.end(), '\n', ' ');
        std::replace(one_line.begin(), one_line.end(), '\t', ' ');
        text += key;
        text += '\t';
        text += one_line;
        text += '\n';
    }
    return text;
}

Entries decode(std::string_view text) {
    Entries entries;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        const auto line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        const auto tab = line.find('\t');
        if (tab == std::string_view::npos) continue;
        entries.emplace_back(std::string(line.substr(0, tab)), std::string(line.substr(tab + 1)));
    }
    return entries;
}

void read_provenance(const Entries& entries, IndexInfo& info) {
    for (const auto& [key, value] : entries) {
        if (key == kBuiltAt)
            info.built_at = value;
        else if (key == kBuilder)
            info.builder = value;
        else if (key == kTransform)
            info.transform = value;
        else if (key == kTransformIrishGrid)
            info.transform_irish_grid = value;
        else if (std::string_view(key).starts_with(kSourcePrefix))
            read_source_field(key, value, info);
    }
    info.metadata = entries;
}

}  // namespace hloc::metadata
