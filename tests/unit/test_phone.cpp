// Phones through libphonenumber: every number on the published page.
#include <catch2/catch.hpp>

#include "phone.hpp"

using hloc::ingest::parse_phone;

TEST_CASE("every listed number has a national, E.164 and tel: form") {
    struct Case {
        const char *printed, *display, *e164, *uri, *area;
    };
    const Case cases[] = {
        {"01277 695695", "01277 695695", "+441277695695", "tel:+44-1277-695695", "Brentwood"},
        {"02920 836700", "029 2083 6700", "+442920836700", "tel:+44-29-2083-6700", "Cardiff"},
        {"01242 246552", "01242 246552", "+441242246552", "tel:+44-1242-246552", "Cheltenham"},
        {"01244 680 444", "01244 680444", "+441244680444", "tel:+44-1244-680444", "Chester"},
        {"01444 456999", "01444 456999", "+441444456999", "tel:+44-1444-456999", "Haywards Heath"},
        {"01752 775861", "01752 775861", "+441752775861", "tel:+44-1752-775861", "Plymouth"},
        {"01823 286991", "01823 286991", "+441823286991", "tel:+44-1823-286991", "Taunton"},
        {"01642 367439", "01642 367439", "+441642367439", "tel:+44-1642-367439", "Middlesbrough"},
        {"02380 266 377", "023 8026 6377", "+442380266377", "tel:+44-23-8026-6377", "Southampton"},
        {"0345 602 8179", "0345 602 8179", "+443456028179", "tel:+44-345-602-8179", ""},
    };
    for (const auto& c : cases) {
        INFO(c.printed);
        const auto phone = parse_phone(c.printed, "test").value();
        CHECK(phone.display == c.display);
        CHECK(phone.e164 == c.e164);
        CHECK(phone.uri == c.uri);
        CHECK(phone.area == c.area);
    }
}

TEST_CASE("spacing and an international prefix do not change the number") {
    CHECK(parse_phone("+44 (0)23 8026 6377", "t").value().e164 == "+442380266377");
    CHECK(parse_phone("023 80 266377", "t").value().display == "023 8026 6377");
}

TEST_CASE("a number that is not a UK phone is refused, saying where") {
    const auto bad = parse_phone("0123", "page.txt:7");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code() == hloc::ErrorCode::bad_input);
    CHECK(bad.error().message() == "page.txt:7: '0123' is not a valid UK phone number");
    CHECK(parse_phone("hello", "x").error().message() == "x: 'hello' is not a phone number");
}
