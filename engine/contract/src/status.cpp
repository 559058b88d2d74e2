#include "hloc/contract/status.hpp"

namespace hloc::contract {

std::string_view status_name(RowStatus status) {
    switch (status) {
        case RowStatus::ok:
            return "ok";
        case RowStatus::approximate:
            return "approximate";
        case RowStatus::invalid:
            return "invalid";
        case RowStatus::not_found:
            return "not_found";
        case RowStatus::not_covered:
            return "not_covered";
    }
    return "invalid";
}

RowStatus status_of(MatchLevel match) {
    const bool approximate = match == MatchLevel::sector || match == MatchLevel::district ||
                             match == MatchLevel::terminated;
    return approximate ? RowStatus::approximate : RowStatus::ok;
}

RowStatus status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::postcode_not_found:
        case ErrorCode::non_geographic_postcode:
            return RowStatus::not_found;
        case ErrorCode::not_covered:
            return RowStatus::not_covered;
        default:
            return RowStatus::invalid;
    }
}

}  // namespace hloc::contract
