#include "hloc/error.hpp"

namespace hloc {

std::string_view error_code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_postcode:
            return "invalid_postcode";
        case ErrorCode::postcode_not_found:
            return "postcode_not_found";
        case ErrorCode::not_covered:
            return "not_covered";
        case ErrorCode::invalid_parameter:
            return "invalid_parameter";
        case ErrorCode::unknown_treatment:
            return "unknown_treatment";
        case ErrorCode::non_geographic_postcode:
            return "non_geographic_postcode";
        case ErrorCode::bad_index:
            return "bad_index";
        case ErrorCode::io_error:
            return "io_error";
        case ErrorCode::bad_input:
            return "bad_input";
        case ErrorCode::unknown_site:
            return "unknown_site";
        case ErrorCode::internal:
            return "internal";
    }
    return "internal";
}

int http_status(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_postcode:
        case ErrorCode::invalid_parameter:
        case ErrorCode::bad_input:
            return 400;
        case ErrorCode::postcode_not_found:
        case ErrorCode::unknown_treatment:
        case ErrorCode::unknown_site:
            return 404;
        case ErrorCode::not_covered:
        case ErrorCode::non_geographic_postcode:
            return 422;
        case ErrorCode::bad_index:
        case ErrorCode::io_error:
        case ErrorCode::internal:
            return 500;
    }
    return 500;
}

}  // namespace hloc
