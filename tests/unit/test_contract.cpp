// The contract's rules that need no index: numbers from text, the count and distance limits,
// the error's suggestion, the row status, the one parallel-for. (Requests against an index are
// checked shell by shell in tests/conformance.)
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <random>

#include "hloc/contract/csv_writer.hpp"
#include "hloc/contract/json_writer.hpp"
#include "hloc/contract/request.hpp"
#include "hloc/contract/status.hpp"
#include "hloc/parallel.hpp"

using hloc::ErrorCode;
namespace contract = hloc::contract;

TEST_CASE("a number from text is strict: the whole text, or a message echoing it") {
    CHECK(contract::parse_number("k", "3").value() == 3.0);
    CHECK(contract::parse_number("lat", "-2.5e0").value() == -2.5);
    CHECK(contract::parse_number("k", "4294967297").value() == 4294967297.0);
    CHECK(contract::parse_number("k", "3 ").error().message() == "k must be a number (got '3 ')");
    CHECK(contract::parse_number("k", "").error().message() == "k must be a number (got '')");
    CHECK(contract::parse_number("max_km", "1e400").error().message() ==
          "max_km must be a number (got '1e400')");
}

TEST_CASE("k is a whole number from 1 to 1000, and the message shows what was given") {
    CHECK_FALSE(hloc::check_count("k", 1));
    CHECK_FALSE(hloc::check_count("k", 1000));
    CHECK(hloc::check_count("k", 0)->message() ==
          "k must be a whole number between 1 and 1000 (got 0)");
    CHECK(hloc::check_count("k", 4294967297.0)->message() ==
          "k must be a whole number between 1 and 1000 (got 4294967297)");
    CHECK(hloc::check_count("k", 2.5)->message() ==
          "k must be a whole number between 1 and 1000 (got 2.5)");
    CHECK(hloc::check_count("limit", 1e30)->message() ==
          "limit must be a whole number between 1 and 1000 (got 1e+30)");
    CHECK(hloc::check_count("k", NAN)->code() == ErrorCode::invalid_parameter);
}

TEST_CASE("a distance limit is finite and at least 0") {
    CHECK_FALSE(hloc::check_distance_limit("max_miles", 0));
    CHECK(hloc::check_distance_limit("max_miles", -1)->message() ==
          "max_miles must be a finite number of at least 0 (got -1)");
    CHECK(hloc::check_distance_limit("max_km", INFINITY)->message() ==
          "max_km must be a finite number of at least 0 (got inf)");
    CHECK(hloc::check_distance_limit("max_km", NAN));
}

TEST_CASE("a suggestion is a field of the error, and the message says it once") {
    const hloc::Error plain(ErrorCode::invalid_postcode,
                            "'SWIA 1AA' is not a valid UK postcode: why");
    const auto suggested = plain.with_suggestion("SW1A 1AA");
    CHECK(suggested.suggestion() == "SW1A 1AA");
    CHECK(suggested.message() ==
          "'SWIA 1AA' is not a valid UK postcode: why; did you mean 'SW1A 1AA'?");
    CHECK(suggested.with_suggestion("SW1A 1AB").message() ==
          "'SWIA 1AA' is not a valid UK postcode: why; did you mean 'SW1A 1AB'?");
    CHECK(
        contract::to_text(contract::error_json(suggested)) ==
        R"({"error":{"code":"invalid_postcode","message":"'SWIA 1AA' is not a valid UK postcode: why; )"
        R"(did you mean 'SW1A 1AA'?","status":400,"suggestion":"SW1A 1AA"}})");
    CHECK(contract::to_text(contract::error_json(plain)).find("suggestion") == std::string::npos);
}

TEST_CASE("bytes that are not UTF-8 are written as U+FFFD, never thrown") {
    const hloc::Error e(ErrorCode::invalid_postcode, "'\xff\xfe' is not a valid UK postcode");
    CHECK(contract::to_text(contract::error_json(e)).find("\xef\xbf\xbd\xef\xbf\xbd") !=
          std::string::npos);
}

TEST_CASE("a caller's text is clipped for a message between characters, never inside one") {
    using contract::clipped;
    const std::string x63(63, 'x');
    CHECK(clipped("abc", 64) == "abc");
    CHECK(clipped(x63 + "a\xc3\xa9", 64) == x63 + "a");        // 'é' would straddle the cut
    CHECK(clipped(x63 + "\xc3\xa9", 64) == x63);               // likewise, one byte earlier
    CHECK(clipped(x63 + "\xc3\xa9", 65) == x63 + "\xc3\xa9");  // it fits
    CHECK(clipped("\xf0\x9f\x8f\xa5"
                  "x",
                  3)
              .empty());  // a 4-byte emoji, cut anywhere
    CHECK(clipped("\xf0\x9f\x8f\xa5"
                  "x",
                  4) == "\xf0\x9f\x8f\xa5");
    // Not UTF-8: continuation bytes only. At most 3 bytes are given back.
    CHECK(clipped(std::string(10, '\x80'), 8) == std::string(5, '\x80'));
    CHECK(contract::shown(x63 + "\xc3\xa9") == "'" + x63 + "...'");
    CHECK(contract::parse_number("k", x63 + "\xc3\xa9").error().message() ==
          "k must be a number (got '" + x63 + "...')");
}

TEST_CASE("a row's status is defined once: unit and point ok, centroids approximate") {
    CHECK(contract::status_of(hloc::MatchLevel::unit) == contract::RowStatus::ok);
    CHECK(contract::status_of(hloc::MatchLevel::point) == contract::RowStatus::ok);
    CHECK(contract::status_of(hloc::MatchLevel::sector) == contract::RowStatus::approximate);
    CHECK(contract::status_for(ErrorCode::non_geographic_postcode) ==
          contract::RowStatus::not_found);
    CHECK(contract::status_for(ErrorCode::not_covered) == contract::RowStatus::not_covered);
    CHECK(contract::status_for(ErrorCode::invalid_parameter) == contract::RowStatus::invalid);
    CHECK(contract::status_name(contract::RowStatus::not_covered) == "not_covered");
}

TEST_CASE("CSV fields are quoted only when they must be") {
    std::string out;
    contract::csv_append(out, "plain");
    contract::csv_append(out, "a,b");
    contract::csv_append(out, "say \"hi\"");
    CHECK(out == "plain\"a,b\"\"say \"\"hi\"\"\"");
    CHECK(contract::format_fixed(0.05, 1) == "0.1");
    CHECK(contract::format_fixed(-0.0001, 3) == "0.000");
}

TEST_CASE("fixed decimals are printed as std::to_chars prints the rounded value") {
    // append_fixed prints from the rounded integer; the reference is to_chars of round_to.
    const auto reference = [](double v, int d) {
        char text[64];
        const auto end = std::to_chars(text, text + sizeof text, contract::round_to(v, d),
                                       std::chars_format::fixed, d)
                             .ptr;
        return std::string(text, end);
    };
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    std::uniform_int_distribution<int> exponent(-12, 16);
    for (int i = 0; i < 200'000; ++i) {
        const double v = unit(rng) * std::pow(10.0, exponent(rng));
        const int d = i % 10;
        INFO(v << " to " << d << " decimals");
        REQUIRE(contract::format_fixed(v, d) == reference(v, d));
    }
    // Ties, signs, zeros and the values a report prints: degrees, metres, miles.
    for (double v :
         {0.5, 1.5, 2.5, -0.5, -2.5, 0.05, 0.15, 0.25, -0.0, 0.0, 1e-9, -1e-9, 89.99999995,
          -2.10085215, 57.14795205, 1234567.8905, 362.95, 1e14, 9.9999999999e14,
          // rounding without round(): just below a half, and ties at the fast path's limit
          0.49999999999999994, -0.49999999999999994, 999999999999998.5, 999999999999999.5,
          -999999999999999.5, 999999999999999.0, 1e15}) {
        for (int d = 0; d <= 9; ++d) {
            INFO(v << " to " << d << " decimals");
            CHECK(contract::format_fixed(v, d) == reference(v, d));
        }
    }
    CHECK(contract::format_fixed(-2.1008522, 7) == "-2.1008522");
    CHECK(contract::format_fixed(-0.00000004, 7) == "0.0000000");
    CHECK(contract::format_fixed(1e20, 2) == "100000000000000000000.00");  // past the fast path
}

TEST_CASE("a rounded number is written byte for byte as dump() writes it") {
    // append_rounded skips Grisu2 where it can prove the digits; the reference is nlohmann's
    // dump of round_to. Degrees (7 decimals), metres, km and miles (3), bearings (1), over
    // every magnitude it may meet and past its limits, with every kind of tie.
    const auto reference = [](double v, int d) {
        return contract::to_text(contract::Json(contract::round_to(v, d)));
    };
    const auto written = [](double v, int d) {
        std::string out = "x";  // appended, not assigned
        contract::append_rounded(out, v, d);
        return out.substr(1);
    };
    std::mt19937_64 rng(20261207);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::uniform_int_distribution<int> exponent(-12, 17), decimals(0, 10);
    for (int i = 0; i < 3'000'000; ++i) {
        const int d = i % 4 == 0 ? 7 : (i % 4 == 1 ? 3 : (i % 4 == 2 ? 1 : decimals(rng)));
        double v = unit(rng) * std::pow(10.0, exponent(rng));
        if (i % 5 == 0) v = std::round(v * 1e3) / 1e3 + 0.5 / contract::decimal_scale(d);  // ties
        if (i % 7 == 0) v = -v;
        INFO(std::hexfloat << v << std::defaultfloat << " (" << v << ") to " << d << " decimals");
        REQUIRE(written(v, d) == reference(v, d));
    }
    // Every value a GB answer prints is near these: degrees, and distances up to the far side
    // of the Earth, in metres, km and miles.
    std::uniform_real_distribution<double> lat(-90, 90), metres(0, 2.1e7);
    for (int i = 0; i < 1'000'000; ++i) {
        const double m = metres(rng);
        const double degrees = lat(rng);
        REQUIRE(written(degrees, 7) == reference(degrees, 7));
        REQUIRE(written(m, 3) == reference(m, 3));
        REQUIRE(written(m / 1000.0, 3) == reference(m / 1000.0, 3));
        REQUIRE(written(m / 1609.344, 3) == reference(m / 1609.344, 3));
    }
    for (double v : {0.0,
                     -0.0,
                     0.5,
                     -0.5,
                     1e-9,
                     5e-324,
                     1e15,
                     9.9999999999e14,
                     1e21,
                     0.0005,
                     0.00049,
                     0.0001,
                     1234567.8905,
                     362.95,
                     359.95,
                     2.0,
                     1024.0,
                     0.125,
                     std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
        for (int d = 0; d <= 10; ++d) {
            INFO(v << " to " << d << " decimals");
            CHECK(written(v, d) == reference(v, d));
        }
    }
    CHECK(written(53.17635749, 7) == "53.1763575");
    CHECK(written(278422.10504, 3) == "278422.105");
    CHECK(written(-0.00000004, 7) == "0.0");
}

TEST_CASE("parallel_for visits every row once, whatever the threads and grain") {
    for (std::size_t n : {0u, 1u, 255u, 256u, 10'001u}) {
        for (unsigned threads : {0u, 1u, 3u, 1'000'000u}) {
            std::vector<std::atomic<int>> seen(n);
            hloc::parallel_for(n, threads, 256, [&](std::size_t begin, std::size_t end) {
                for (std::size_t i = begin; i < end; ++i) seen[i].fetch_add(1);
            });
            for (std::size_t i = 0; i < n; ++i) REQUIRE(seen[i].load() == 1);
        }
    }
    CHECK(hloc::worker_count(1'000'000) == hloc::kMaxThreads);
}

TEST_CASE("the query object is written byte for byte as nlohmann would write it") {
    using hloc::Location;
    using hloc::MatchLevel;
    const std::vector<std::string> texts = {
        "",
        "CH4 7QP",
        "cm15 8zz",
        "a \"quote\"",
        "back\\slash",
        "tab\there",
        "new\nline",
        std::string("nul\0byte", 8),
        "\x7f",
        "/",
        "caf\xc3\xa9",
        "bad \xff\xfe utf-8",
        "cut \xe2\x82",
        "ctrl \x01\x1f",
        "'BT7 1ZZ' was terminated by Royal Mail in 2015-07; its last position is used"};
    // Positions far outside any map too: the writer formats whatever number it is given.
    std::mt19937_64 rng(20261128);
    std::uniform_real_distribution<double> degrees(-180, 180), exponent(-12, 22);
    auto number = [&](int i) {
        switch (i % 4) {
            case 0:
                return degrees(rng);
            case 1:
                return std::pow(10.0, exponent(rng)) * (i % 8 < 4 ? 1 : -1);
            case 2:
                return std::round(degrees(rng));  // whole numbers print as "53.0"
            default:
                return std::array{0.0,
                                  -0.0,
                                  5e-324,
                                  1e-7,
                                  4.99999e-8,
                                  1e21,
                                  1.7976931348623157e308,
                                  -90.0}[static_cast<std::size_t>(i / 4) % 8];
        }
    };
    for (int i = 0; i < 20000; ++i) {
        Location loc;
        loc.input = texts[static_cast<std::size_t>(i) % texts.size()];
        loc.postcode = texts[static_cast<std::size_t>(i / 3) % texts.size()];
        loc.match = static_cast<MatchLevel>(i % 5);
        loc.position = {number(i), number(i / 2 + 1)};
        if (i % 2 == 1) loc.note = texts[static_cast<std::size_t>(i / 5) % texts.size()];
        contract::Json expected;
        expected["input"] = loc.input;
        if (loc.match != MatchLevel::point) expected["postcode"] = loc.postcode;
        expected["match"] = hloc::match_level_name(loc.match);
        expected["lat"] = contract::round_to(loc.position.lat_deg, 7);
        expected["lon"] = contract::round_to(loc.position.lon_deg, 7);
        if (!loc.note.empty()) expected["note"] = loc.note;
        INFO("case " << i << ": " << contract::to_text(expected));
        REQUIRE(contract::JsonWriter::query(loc) == contract::to_text(expected));
    }
}
