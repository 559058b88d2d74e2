// The index file refuses what it should: truncated, corrupt, empty, other versions, not an
// index. Works on copies of the tiny index built by the "fixture: tiny index" test.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <random>

#include "hloc/checksum.hpp"
#include "hloc/engine.hpp"
#include "hloc/index_format.hpp"

using namespace hloc;
namespace fs = std::filesystem;

namespace {

std::vector<char> tiny_bytes() {
    std::ifstream in(std::getenv("HLOC_TINY_INDEX"), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

fs::path write_copy(const std::vector<char>& bytes, const std::string& name) {
    const auto path =
        fs::path(std::getenv("HLOC_TINY_INDEX")).parent_path() / ("refused-" + name + ".hlx");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
}

// The message Engine::open refuses with, or "opened".
std::string refusal(const std::vector<char>& bytes, const std::string& name, bool verify = false) {
    const auto path = write_copy(bytes, name);
    try {
        Engine::open(path, {.verify_checksum = verify});
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::bad_index);
        return e.message().substr(e.message().find(" is refused: ") == std::string::npos
                                      ? 0
                                      : e.message().find(" is refused: ") + 13);
    }
    return "opened";
}

// Engine::open's refusal of a path that is not a regular file: "code: message", or "opened".
// Opening must not wait: a FIFO with no writer blocks a plain open(O_RDONLY) forever, so after
// 10 s the case fails and a writer is opened to release the blocked reader.
std::string refusal_of(const fs::path& path) {
    auto opening = std::async(std::launch::async, [path]() -> std::string {
        try {
            Engine::open(path);
        } catch (const Error& e) {
            return std::string(error_code_name(e.code())) + ": " + e.message();
        }
        return "opened";
    });
    if (opening.wait_for(std::chrono::seconds(10)) == std::future_status::timeout) {
        FAIL_CHECK("Engine::open('" << path.string() << "') was still blocked after 10 s");
        const int writer = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
        auto late = opening.get();
        if (writer >= 0) ::close(writer);
        return "blocked, then " + late;
    }
    return opening.get();
}

format::FileHeader header_of(const std::vector<char>& bytes) {
    format::FileHeader h;
    std::memcpy(&h, bytes.data(), sizeof h);
    return h;
}

// Rewrites both checksums, so that only the structural checks stand between the bytes and a query.
void reseal(std::vector<char>& bytes) {
    auto h = header_of(bytes);
    h.payload_checksum = checksum(std::as_bytes(std::span(bytes)).subspan(format::kHeaderBytes));
    h.header_checksum = 0;
    h.header_checksum = checksum(std::as_bytes(std::span(&h, 1)));
    std::memcpy(bytes.data(), &h, sizeof h);
}

}  // namespace

TEST_CASE("the tiny index opens, verifies and carries two treatments with their own phones",
          "[index-file]") {
    const auto e = Engine::open(std::getenv("HLOC_TINY_INDEX"), {.verify_checksum = true});
    const auto treatments = e.treatments();
    REQUIRE(treatments.size() == 2);
    CHECK(treatments[0].name == "kyphoplasty");
    CHECK(treatments[0].site_count == 10);
    CHECK(treatments[1].name == "spinal-injection");
    CHECK(treatments[1].site_count == 3);
    const auto cardiff = e.find_site("cardiff-bay").value();
    CHECK(cardiff.treatments == std::vector<std::string_view>{"kyphoplasty", "spinal-injection"});
    REQUIRE(cardiff.phones.size() == 2);
    CHECK(cardiff.phones[0].display == "029 2083 6700");
    CHECK(cardiff.phones[0].source == "listing");
    CHECK(cardiff.phones[1].display == "0345 602 8179");
    CHECK(cardiff.phones[1].source == "provider");
    CHECK(e.find_site("chester").value().located_by == "directory");
    NearestQuery q;
    q.origin = e.resolve("CH1 1AB").value();
    CHECK(e.nearest(q).error().message() ==
          "this index offers several treatments (kyphoplasty, spinal-injection): name one with "
          "treatment");
    q.treatment = "spinal-injection";
    const auto a = e.nearest(q).value();
    REQUIRE(a.results.size() == 3);
    CHECK(e.site(a.results[0].site_index).id == "chester");
    CHECK(e.lookup("CH1 1ZZ").value().located == false);
}

TEST_CASE("a unit postcode carries Code-Point's admin district code, nothing else does",
          "[index-file]") {
    const auto e = Engine::open(std::getenv("HLOC_TINY_INDEX"));
    CHECK(e.has_admin_districts());
    CHECK(e.lookup("CH4 7QP").value().admin_district == "E06000050");
    CHECK(e.lookup("cf10 1ab").value().admin_district == "W06000015");
    CHECK(e.lookup("G12 0PJ").value().admin_district == "S12000049");
    CHECK(e.lookup("TA2 6AN").value().admin_district.empty());  // Code-Point's DC is empty
    CHECK(e.lookup("CM15 8").value().admin_district.empty());   // a sector spans districts
    CHECK(e.lookup("CH1 1ZZ").value().admin_district.empty());  // quality 90: no row of its own
}

namespace {

// The two admin district sections' entries in the section table, and the rest.
std::pair<std::vector<format::SectionEntry>, std::vector<format::SectionEntry>> admin_entries(
    const format::FileHeader& h) {
    std::pair<std::vector<format::SectionEntry>, std::vector<format::SectionEntry>> split;
    for (std::uint32_t i = 0; i < h.section_count; ++i) {
        const auto id = static_cast<format::SectionId>(h.sections[i].id);
        const bool admin = id == format::SectionId::admin_districts ||
                           id == format::SectionId::row_admin_districts;
        (admin ? split.first : split.second).push_back(h.sections[i]);
    }
    return split;
}

}  // namespace

TEST_CASE("an index built before admin districts were stored opens and knows none",
          "[index-file]") {
    auto bytes = tiny_bytes();
    auto h = header_of(bytes);
    const auto [admin, rest] = admin_entries(h);
    REQUIRE(admin.size() == 2);
    h.sections = {};
    std::copy(rest.begin(), rest.end(), h.sections.begin());
    h.section_count = static_cast<std::uint32_t>(rest.size());
    std::memcpy(bytes.data(), &h, sizeof h);
    reseal(bytes);
    const auto path = write_copy(bytes, "no-admin");
    const auto e = Engine::open(path, {.verify_checksum = true});
    CHECK_FALSE(e.has_admin_districts());
    const auto ch = e.lookup("CH4 7QP").value();
    CHECK(ch.admin_district.empty());
    CHECK(ch.country == "England");
}

TEST_CASE("a row naming an admin district beyond the table is refused", "[index-file]") {
    auto bytes = tiny_bytes();
    const auto [admin, rest] = admin_entries(header_of(bytes));
    REQUIRE(admin.size() == 2);
    const auto& rows =
        static_cast<format::SectionId>(admin[1].id) == format::SectionId::row_admin_districts
            ? admin[1]
            : admin[0];
    const std::uint16_t beyond = 0xFFFF;
    std::memcpy(bytes.data() + rows.offset + 2 * 3, &beyond, sizeof beyond);
    reseal(bytes);
    CHECK(refusal(bytes, "admin") == "postcode row 3 names an admin district that does not exist");
}

TEST_CASE("a truncated index is refused at every length", "[index-file]") {
    const auto bytes = tiny_bytes();
    for (std::size_t len : {std::size_t{1}, std::size_t{100}, sizeof(format::FileHeader) - 1}) {
        CHECK(refusal({bytes.begin(), bytes.begin() + static_cast<long>(len)}, "short") ==
              "it is " + std::to_string(len) + " bytes, shorter than an index header (1072 bytes)");
    }
    for (std::size_t len = sizeof(format::FileHeader); len < bytes.size(); len += 997) {
        CHECK(refusal({bytes.begin(), bytes.begin() + static_cast<long>(len)}, "truncated") ==
              "it is " + std::to_string(len) + " bytes but its header says " +
                  std::to_string(bytes.size()) + " (truncated or appended to)");
    }
}

TEST_CASE("an empty file, a missing file and a file that is not an index are refused",
          "[index-file]") {
    try {
        Engine::open(write_copy({}, "empty"));
        FAIL("opened an empty file");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::bad_index);
        CHECK(e.message().ends_with("is empty"));
    }
    CHECK_THROWS_WITH(Engine::open("/nonexistent/x.hlx"),
                      "cannot open index '/nonexistent/x.hlx': No such file or directory");
    std::vector<char> text(5000, 'x');
    CHECK(refusal(text, "text") == "it is not a hospital-locator index (bad magic)");
}

TEST_CASE("a FIFO and a directory are refused at once, saying what they are", "[index-file]") {
    const auto dir = fs::path(std::getenv("HLOC_TINY_INDEX")).parent_path() / "refused-kinds";
    fs::remove_all(dir);
    fs::create_directories(dir / "directory.hlx");
    const auto fifo = dir / "fifo.hlx";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(refusal_of(fifo) ==
          "bad_index: index '" + fifo.string() + "' is a FIFO (named pipe), not a regular file");
    CHECK(refusal_of(dir / "directory.hlx") == "bad_index: index '" +
                                                   (dir / "directory.hlx").string() +
                                                   "' is a directory, not a regular file");
    CHECK(refusal_of("/dev/null") ==
          "bad_index: index '/dev/null' is a character device, not a regular file");
    fs::remove_all(dir);
}

TEST_CASE("another format version is refused with both versions named", "[index-file]") {
    auto bytes = tiny_bytes();
    auto h = header_of(bytes);
    h.format_version = 1;  // the 16-section table before it, as every index built until then
    h.header_checksum = 0;
    h.header_checksum = checksum(std::as_bytes(std::span(&h, 1)));
    std::memcpy(bytes.data(), &h, sizeof h);
    CHECK(refusal(bytes, "version") ==
          "it is format version 1, this program reads version 2; rebuild it with this version's "
          "'hospital-locator build'");
}

TEST_CASE("a corrupt header or payload is refused", "[index-file]") {
    const auto bytes = tiny_bytes();
    SECTION("any header byte") {
        for (std::size_t at = 16; at < sizeof(format::FileHeader); at += 13) {
            auto b = bytes;
            b[at] = static_cast<char>(b[at] ^ 0x5A);
            const auto why = refusal(b, "header");
            CHECK(why != "opened");
        }
    }
    SECTION("a payload byte: caught by the checksum") {
        auto b = bytes;
        b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 0x01);
        CHECK(refusal(b, "payload", true).starts_with("its payload checksum is "));
    }
}

TEST_CASE("random damage behind valid checksums never crashes a query", "[index-file]") {
    // Each damaged file is either refused (bad_index) or answers queries without reading out
    // of bounds; run under AddressSanitizer in CI.
    const auto bytes = tiny_bytes();
    std::mt19937_64 rng(2026);
    int refused = 0, opened = 0;
    for (int i = 0; i < 400; ++i) {
        auto b = bytes;
        const int flips = 1 + static_cast<int>(rng() % 8);
        for (int f = 0; f < flips; ++f) {
            const auto at = format::kHeaderBytes + rng() % (b.size() - format::kHeaderBytes);
            b[at] = static_cast<char>(rng());
        }
        reseal(b);
        const auto path = write_copy(b, "fuzz");
        std::optional<Engine> opened_engine;
        try {
            opened_engine.emplace(Engine::open(path, {.verify_checksum = true}));
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::bad_index);
            ++refused;
            continue;
        }
        ++opened;
        {
            const auto& e = *opened_engine;
            for (auto pc : {"CH4 7QP", "CH1 1ZZ", "CM15", "G1 1", "SO53 2DW"}) {
                if (auto loc = e.resolve(pc)) {
                    NearestQuery q;
                    q.origin = *loc;
                    q.treatment = "kyphoplasty";
                    (void)e.nearest(q);
                }
                (void)e.lookup(pc);
            }
            (void)e.reverse({{53.2, -2.9}, 2});
            (void)e.info();
            (void)e.sites();
        }
    }
    CHECK(refused + opened == 400);
}

TEST_CASE("terminated postcodes out of order are refused", "[index-file]") {
    std::ifstream in(std::getenv("HLOC_ONSPD_INDEX"), std::ios::binary);
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
    const auto h = header_of(bytes);
    const format::SectionEntry* terminated = nullptr;
    for (std::uint32_t i = 0; i < h.section_count; ++i) {
        if (h.sections[i].id == static_cast<std::uint32_t>(format::SectionId::terminated))
            terminated = &h.sections[i];
    }
    REQUIRE(terminated != nullptr);
    REQUIRE(terminated->count == 4);
    CHECK(refusal(bytes, "terminated-as-built") == "opened");
    // Swap the first two records: a lookup's binary search would miss one of them.
    auto* first = bytes.data() + terminated->offset;
    std::swap_ranges(first, first + sizeof(format::TerminatedRecord),
                     first + sizeof(format::TerminatedRecord));
    reseal(bytes);
    CHECK(refusal(bytes, "terminated-order") ==
          "terminated postcodes are not in order at record 1");
}
