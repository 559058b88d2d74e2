#include "phone.hpp"

#include <phonenumbers/geocoding/phonenumber_offline_geocoder.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>

namespace hloc::ingest {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberOfflineGeocoder;
using i18n::phonenumbers::PhoneNumberUtil;

Result<Phone> parse_phone(std::string_view printed, const std::string& where) {
    const auto* util = PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    if (util->Parse(std::string(printed), "GB", &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
        return Error(ErrorCode::bad_input,
                     where + ": '" + std::string(printed) + "' is not a phone number");
    }
    if (!util->IsValidNumberForRegion(number, "GB")) {
        return Error(ErrorCode::bad_input,
                     where + ": '" + std::string(printed) + "' is not a valid UK phone number");
    }
    Phone phone;
    util->Format(number, PhoneNumberUtil::NATIONAL, &phone.display);
    util->Format(number, PhoneNumberUtil::E164, &phone.e164);
    util->Format(number, PhoneNumberUtil::RFC3966, &phone.uri);
    // The geocoder loads its tables once; it is not shared between threads.
    thread_local PhoneNumberOfflineGeocoder geocoder;
    phone.area = geocoder.GetDescriptionForNumber(number, icu::Locale("en", "GB"));
    if (phone.area == "United Kingdom") phone.area.clear();  // non-geographic (03, 08...)
    return phone;
}

}  // namespace hloc::ingest
