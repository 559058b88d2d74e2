// A nearest row's CSV text is written through a raw pointer into room made for the longest
// row; these check it against the same fields written one by one as cells, on the tiny index,
// including numbers too large for the fast printer (the row is then written again the slow way).
// The tiny index's ids, names and phones need no quoting: csv_append's quoting is the unit
// test "CSV fields are quoted only when they must be".
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "hloc/contract/csv_writer.hpp"
#include "hloc/engine.hpp"

using namespace hloc;

namespace {

// The cells, each after a comma, quoted where a field must be: what append_csv promises.
std::string joined(const std::vector<std::string>& cells) {
    std::string out;
    for (const auto& c : cells) {
        out += ',';
        contract::csv_append(out, c);
    }
    return out;
}

}  // namespace

TEST_CASE("a nearest row's CSV text is its cells, whatever its numbers and results", "[csv-rows]") {
    const auto engine = Engine::open(std::getenv("HLOC_TINY_INDEX"));
    REQUIRE(engine.site_count() >= 2);
    const double huge = 1e20;  // beyond the fast printer: the whole row is written again
    for (std::uint32_t k : {1u, 2u, 3u, 5u}) {
        const contract::NearestRow row(engine, k);
        for (std::uint32_t found = 0; found <= k; ++found) {
            for (double metres : {0.0, 0.05, 1234.56, 362.95 * 1609.344, huge}) {
                NearestAnswer answer;
                answer.origin.match = found % 2 ? MatchLevel::unit : MatchLevel::district;
                answer.origin.position = {found % 2 ? 57.1495900 : -0.00000004, -2.0969232};
                for (std::uint32_t n = 0; n < found; ++n) {
                    const auto site = n % engine.site_count();
                    answer.results.push_back({n + 1, site, site, metres + n, 0.0});
                }
                std::vector<std::string> cells;
                row.cells(cells, answer);
                std::string text = "prefix";
                row.append_csv(text, answer);
                INFO("k " << k << ", " << found << " found, " << metres << " m");
                CHECK(text == "prefix" + joined(cells));
            }
        }
    }
}
