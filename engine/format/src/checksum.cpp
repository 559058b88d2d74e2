#include "hloc/checksum.hpp"

#include <cstdio>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace hloc {

std::uint64_t checksum(std::span<const std::byte> bytes) {
    return XXH3_64bits(bytes.data(), bytes.size());
}

std::string checksum_hex(std::uint64_t value) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

}  // namespace hloc
