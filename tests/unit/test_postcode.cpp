// Postcode text: forgiving in form, strict in substance.
#include <catch2/catch.hpp>

#include "hloc/postcode.hpp"

using hloc::ErrorCode;
using hloc::kNorthernIrelandArea;
using hloc::normalise_postcode;
using hloc::parse_postcode;
using hloc::postcode_area;
using hloc::PostcodeLevel;

namespace {
ErrorCode code_of(std::string_view text) { return parse_postcode(text).error().code(); }
std::string message_of(std::string_view text) { return parse_postcode(text).error().message(); }
}  // namespace

TEST_CASE("a postcode is forgiving in form, strict in substance") {
    CHECK(normalise_postcode(" sw1a  1aa").value() == "SW1A 1AA");
    CHECK(normalise_postcode("sw1a1aa").value() == "SW1A 1AA");
    CHECK(normalise_postcode("\tCH4 7QP\t").value() == "CH4 7QP");
    CHECK(normalise_postcode("b11aa").value() == "B1 1AA");
    CHECK(normalise_postcode("W1A0AX").value() == "W1A 0AX");
    CHECK(normalise_postcode("SW1A 1A").error().code() == ErrorCode::invalid_postcode);
}

TEST_CASE("every outward shape parses: A9, A99, AA9, AA99, A9A, AA9A") {
    for (const char* pc : {"M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX", "EC1A 1BB"}) {
        CHECK(normalise_postcode(pc).value() == pc);
    }
}

TEST_CASE("sectors and outward codes are queries too") {
    auto sector = parse_postcode("cm15 8").value();
    CHECK(sector.level == PostcodeLevel::sector);
    CHECK(sector.text() == "CM15 8");
    auto district = parse_postcode("cm15").value();
    CHECK(district.level == PostcodeLevel::district);
    CHECK(district.text() == "CM15");
    SECTION("without a space an outward code wins, with one the digit is a sector") {
        CHECK(parse_postcode("CM15").value().level == PostcodeLevel::district);
        CHECK(parse_postcode("CM1 5").value().text() == "CM1 5");
    }
    SECTION("three trailing digits can only be district + sector") {
        CHECK(parse_postcode("CM158").value().text() == "CM15 8");
    }
    CHECK(sector.sector_text() == "CM15 8");
    CHECK(normalise_postcode("CM15 8").error().message() ==
          "'CM15 8' is not a valid UK postcode: it is a postcode sector, not a full postcode");
}

TEST_CASE("malformed postcodes say why") {
    CHECK(message_of("") == "postcode is empty");
    CHECK(message_of("   ") == "postcode is empty");
    CHECK(message_of("12345") == "'12345' is not a valid UK postcode: it must start with a letter");
    CHECK(message_of("HELLO") == "'HELLO' is not a valid UK postcode: it has no digits");
    CHECK(
        message_of("SW1A 1AAA") ==
        "'SW1A 1AAA' is not a valid UK postcode: it has 8 letters and digits; a postcode has 5 to "
        "7 (outward code and inward code)");
    CHECK(message_of("SW1A 1CA") ==
          "'SW1A 1CA' is not a valid UK postcode: the inward code '1CA' uses a letter never used "
          "there (C, I, K, M, O or V)");
    CHECK(message_of("SW1A-1AA") ==
          "'SW1A-1AA' is not a valid UK postcode: it contains '-'; a postcode has only letters, "
          "digits and one space");
    CHECK(message_of("SW1 A1AA") ==
          "'SW1 A1AA' is not a valid UK postcode: the space must stand before the last three "
          "characters");
    CHECK(message_of("QQ1 1AA") ==
          "'QQ1 1AA' is not a valid UK postcode: there is no postcode area 'QQ'");
    for (auto text : {"", "12345", "HELLO", "SW1A 1AAA", "QQ1 1AA", "SW1A 1CA"}) {
        CHECK(code_of(text) == ErrorCode::invalid_postcode);
    }
}

TEST_CASE("control characters, non-ASCII bytes and very long strings are refused before parsing") {
    CHECK(message_of(std::string("CH4\0 7QP", 8)) ==
          "postcode input contains a control character (byte 0) at position 4");
    CHECK(message_of("CH4\n7QP") ==
          "postcode input contains a control character (byte 10) at position 4");
    CHECK(message_of("CH4 7QP\xC3\xA9") ==
          "postcode input contains a non-ASCII byte at position 8");
    CHECK(message_of(std::string(65, 'A')) ==
          "postcode input is too long (65 bytes; a postcode has at most 8 characters)");
    CHECK(code_of(std::string(100000, '1')) == ErrorCode::invalid_postcode);
}

TEST_CASE("a likely O/0 or I/1 slip gets a suggestion") {
    CHECK(message_of("SWIA 1AA") ==
          "'SWIA 1AA' is not a valid UK postcode: the outward code 'SWIA' must be one or two "
          "letters, a digit, then optionally a digit or letter; did you mean 'SW1A 1AA'?");
    CHECK(message_of("CH4 7OP").ends_with("did you mean 'CH4 7QP'?") == false);  // Q is no slip
    CHECK(hloc::postcode_suggestions("CH4 OAB") == std::vector<std::string>{"CH4 0AB"});
    CHECK(hloc::postcode_suggestions("0X1 1AA") == std::vector<std::string>{"OX1 1AA"});
    CHECK(hloc::postcode_suggestions("CH4 7QP").empty());
}

TEST_CASE("non-geographic postcodes say what they are") {
    CHECK(code_of("GIR 0AA") == ErrorCode::non_geographic_postcode);
    CHECK(message_of("gir0aa") ==
          "'gir0aa' is the Girobank postcode GIR 0AA, which is non-geographic and has no location");
    CHECK(code_of("BF1 3AA") == ErrorCode::non_geographic_postcode);
    CHECK(code_of("BFPO 1234") == ErrorCode::non_geographic_postcode);
    CHECK(code_of("ASCN 1ZZ") == ErrorCode::non_geographic_postcode);
    CHECK(message_of("STHL 1ZZ").find("Saint Helena") != std::string::npos);
    CHECK(message_of("FIQQ 1ZZ").find("Falkland Islands") != std::string::npos);
    CHECK(code_of("ZZ99 3VZ") == ErrorCode::non_geographic_postcode);
    CHECK(message_of("ZZ99 3VZ").find("pseudo-postcode") != std::string::npos);
    // Unit-shaped, or in a covered area's letters: the parse's fast path for covered units
    // must not swallow them.
    CHECK(code_of("BX1 1LT") == ErrorCode::non_geographic_postcode);
    CHECK(message_of("tdcu1zz").find("Tristan da Cunha") != std::string::npos);
    CHECK(message_of("BBND 1ZZ").find("British Indian Ocean") != std::string::npos);
    CHECK(message_of("STHL1ZZ").find("Saint Helena") != std::string::npos);
}

TEST_CASE("The Crown Dependencies are real places no postcode source positions") {
    CHECK(message_of("je2 3ab") ==
          "'je2 3ab' is in Jersey, which the index does not cover (neither Code-Point Open nor "
          "ONSPD gives its postcodes a position)");
    CHECK(code_of("JE2 3AB") == ErrorCode::not_covered);
    CHECK(code_of("GY1 1AA") == ErrorCode::not_covered);
    CHECK(code_of("IM1 1AA") == ErrorCode::not_covered);
    CHECK(code_of("GY1") == ErrorCode::not_covered);
}

TEST_CASE("Northern Ireland postcodes parse: the index decides whether it covers them") {
    const auto unit = parse_postcode("bt71nn");
    REQUIRE(unit);
    CHECK(unit->text() == "BT7 1NN");
    const auto district = parse_postcode("BT48");
    REQUIRE(district);
    CHECK(district->level == PostcodeLevel::district);
    CHECK(postcode_area("BT48") == kNorthernIrelandArea);
}
