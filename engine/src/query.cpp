#include "hloc/query.hpp"

#include <cmath>

#include "text.hpp"

namespace hloc {

std::string_view match_level_name(MatchLevel level) {
    switch (level) {
        case MatchLevel::unit:
            return "unit";
        case MatchLevel::sector:
            return "sector";
        case MatchLevel::district:
            return "district";
        case MatchLevel::point:
            return "point";
        case MatchLevel::terminated:
            return "terminated";
    }
    return "point";
}

std::vector<std::string_view> SiteView::address() const {
    std::vector<std::string_view> lines;
    for (auto part : {street, locality, town}) {
        if (!part.empty()) lines.push_back(part);
    }
    return lines;
}

std::optional<Error> check_count(std::string_view name, double value) {
    if (value >= 1 && value <= kMaxK && std::floor(value) == value) return std::nullopt;
    return Error(ErrorCode::invalid_parameter,
                 std::string(name) + " must be a whole number between 1 and " +
                     std::to_string(kMaxK) + " (got " + detail::number_text(value) + ")");
}

std::optional<Error> check_distance_limit(std::string_view name, double value) {
    if (std::isfinite(value) && value >= 0) return std::nullopt;
    return Error(ErrorCode::invalid_parameter, std::string(name) +
                                                   " must be a finite number of at least 0 (got " +
                                                   detail::number_text(value) + ")");
}

}  // namespace hloc
