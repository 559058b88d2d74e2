// libFuzzer: the postcode parser on any bytes. Properties: never crashes; a parse that
// succeeds is canonical (parsing its own text gives the same text); every suggestion parses.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "hloc/postcode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto parsed = hloc::parse_postcode(input);
    if (parsed) {
        const auto text = parsed->text();
        auto again = hloc::parse_postcode(text);
        if (!again || again->text() != text) std::abort();
    } else if (parsed.error().message().empty()) {
        std::abort();
    }
    for (const auto& s : hloc::postcode_suggestions(input)) {
        if (!hloc::normalise_postcode(s)) std::abort();
    }
    return 0;
}
