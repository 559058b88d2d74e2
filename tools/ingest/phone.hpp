// UK phone numbers through libphonenumber: national display, E.164 and RFC 3966 forms, and
// the place an area code serves (its offline geocoder), which helps match listing blocks.
#pragma once

#include <string>
#include <string_view>

#include "hloc/error.hpp"

namespace hloc::ingest {

struct Phone {
    std::string display;  // national format: "023 8026 6377"
    std::string e164;     // "+442380266377"
    std::string uri;      // RFC 3966: "tel:+44-23-8026-6377"
    std::string area;     // where the number's area code is: "Southampton" ("" if none)
};

// Parses a number as printed on a UK page. Errors: bad_input with `where` and the reason.
Result<Phone> parse_phone(std::string_view printed, const std::string& where);

}  // namespace hloc::ingest
