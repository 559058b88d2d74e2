// Small text helpers shared by the engine's error and note messages (not public API).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace hloc::detail {

// 'text', as every message quotes what the caller gave.
inline std::string in_quotes(std::string_view s) {
    // Appended piece by piece: "'" + std::string(s) trips GCC 12's -Wrestrict (bug 105329).
    std::string out;
    out.reserve(s.size() + 2);
    out += '\'';
    out += s;
    out += '\'';
    return out;
}

// A number as a person would write it: 53, -2.5, 4294967297, 1e+30.
inline std::string number_text(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.15g", v);
    return text;
}

}  // namespace hloc::detail
