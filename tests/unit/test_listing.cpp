// The provider's page, read by classifying lines. The real page is the project's own input.
#include <catch2/catch.hpp>

#include "listing.hpp"

using hloc::ingest::classify_line;
using hloc::ingest::LineKind;
using hloc::ingest::parse_listing;
using hloc::ingest::read_listing;

TEST_CASE("lines are classified by what they are, never by where they stand") {
    CHECK(classify_line("CM15 8EH") == LineKind::postcode);
    CHECK(classify_line("  cm158eh ") == LineKind::postcode);
    CHECK(classify_line("01244 680 444") == LineKind::phone);
    CHECK(classify_line("02380 266 377") == LineKind::phone);
    CHECK(classify_line("+44 (0)1277 695695") == LineKind::phone);
    CHECK(classify_line("Cardiff Bay Hospital") == LineKind::name);
    CHECK(classify_line("25 Beaconsfield Road") == LineKind::address);
    CHECK(classify_line("Stockton on Tees") == LineKind::address);
    CHECK(classify_line("") == LineKind::blank);
    CHECK(classify_line("\xC2\xA0 ") == LineKind::blank);
}

TEST_CASE("the published kyphoplasty page gives its ten hospitals") {
    const auto listing = read_listing(HLOC_SOURCE_DIR "/data/listings/kyphoplasty.txt");
    REQUIRE(listing.central_phone == "0345 602 8179");
    REQUIRE(listing.blocks.size() == 10);
    const auto& b = listing.blocks;

    CHECK(b[0].address_lines == std::vector<std::string>{"Shenfield Road"});
    CHECK(b[0].postcode == "CM15 8EH");
    CHECK(b[0].phone == "01277 695695");
    CHECK(b[0].first_line == 36);

    CHECK(b[1].name == "Cardiff Bay Hospital");
    CHECK(b[1].address_lines == std::vector<std::string>{"Dunleavey Drive"});
    CHECK(b[1].postcode == "CF11 0SN");

    SECTION("three blocks have no postcode") {
        CHECK(b[3].address_lines == std::vector<std::string>{"Wrexham Road"});
        CHECK_FALSE(b[3].postcode.has_value());
        CHECK(b[3].phone == "01244 680 444");
        CHECK(b[6].address_lines == std::vector<std::string>{"Derriford Road"});
        CHECK(b[6].phone == "01752 775861");
        CHECK(b[7].address_lines == std::vector<std::string>{"Staplegrove Elm"});
        CHECK(b[7].phone == "01823 286991");
    }
    SECTION("Glasgow has no phone, and the next block's phone is not taken for it") {
        CHECK(b[4].address_lines == std::vector<std::string>{"25 Beaconsfield Road"});
        CHECK(b[4].postcode == "G12 0PJ");
        CHECK_FALSE(b[4].phone.has_value());
        CHECK(b[5].address_lines == std::vector<std::string>{"Burrell Road", "Haywards Heath"});
        CHECK(b[5].phone == "01444 456999");
    }
    CHECK(b[8].address_lines == std::vector<std::string>{"Junction Road", "Stockton on Tees"});
    CHECK(b[9].address_lines == std::vector<std::string>{"Winchester Road", "Chandlers Ford"});
    CHECK(b[9].phone == "02380 266 377");
    CHECK(b[3].summary() == "line 52: Wrexham Road / 01244 680 444");
}

TEST_CASE("a block's lines may come in any order") {
    const auto l = parse_listing(
        "Find your nearest hospital that provides this treatment\n\n"
        "01277 695695\nCM15 8EH\nShenfield Road\nBrentwood Hospital\n\nGet in touch\n",
        "page.txt");
    REQUIRE(l.blocks.size() == 1);
    CHECK(l.blocks[0].name == "Brentwood Hospital");
    CHECK(l.blocks[0].postcode == "CM15 8EH");
    CHECK(l.blocks[0].phone == "01277 695695");
    CHECK(l.blocks[0].address_lines == std::vector<std::string>{"Shenfield Road"});
    CHECK_FALSE(l.central_phone.has_value());
}

TEST_CASE("a page that cannot be read as a listing is refused with file and line") {
    auto message = [](std::string_view text) {
        try {
            parse_listing(text, "page.txt");
        } catch (const hloc::Error& e) {
            CHECK(e.code() == hloc::ErrorCode::bad_input);
            return e.message();
        }
        return std::string("no error");
    };
    CHECK(message("Hello\n") ==
          "page.txt: no line starting 'Find your nearest hospital' was found, so the list of "
          "hospitals cannot be located");
    CHECK(message("Find your nearest hospital\n\nShenfield Road\n") ==
          "page.txt: the list of hospitals has no closing 'Get in touch' line");
    CHECK(message("Find your nearest hospital\n\n01277 695695\n\nGet in touch\n") ==
          "page.txt:3: phone number '01277 695695' does not follow a hospital without one");
    CHECK(message("Find your nearest hospital\nA Road\nCM15 8EH\nCH4 7QP\nGet in touch\n") ==
          "page.txt:4: a second postcode in one block ('CH4 7QP')");
    CHECK(message("Find your nearest hospital\n\nGet in touch\n") ==
          "page.txt: the list of hospitals is empty");
}
