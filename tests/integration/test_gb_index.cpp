// The real GB index, built from the real Code-Point zip and OSTN15 grid by the
// "fixture: GB index" test. Oracles: brute force over every site, GeographicLib (Karney),
// and PROJ's own cs2cs.
#include <GeographicLib/Geodesic.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>

#include "hloc/engine.hpp"
#include "hloc/geodesy.hpp"

using namespace hloc;

namespace {

const Engine& gb() {
    static const Engine engine =
        Engine::open(std::getenv("HLOC_TEST_INDEX"), {.verify_checksum = true});
    return engine;
}

double metres_between(LatLon a, LatLon b) {
    double s12 = 0;
    GeographicLib::Geodesic::WGS84().Inverse(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg, s12);
    return s12;
}

// Rows of every located postcode whose district starts with `area` followed by a digit.
std::vector<std::uint32_t> area_rows(std::string_view area) {
    std::vector<std::uint32_t> rows;
    const auto& e = gb();
    for (std::uint32_t r = 0; r < e.located_count(); ++r) {
        const auto pc = e.located_postcode(r).postcode;
        if (pc.starts_with(area) && std::isdigit(static_cast<unsigned char>(pc[area.size()])))
            rows.push_back(r);
    }
    return rows;
}

// The reference ranking: every site's geodesic distance, sorted by (distance, site id).
std::vector<std::pair<double, std::uint32_t>> brute_force(LatLon origin) {
    std::vector<std::pair<double, std::uint32_t>> all;
    for (std::uint32_t i = 0; i < gb().site_count(); ++i) {
        all.emplace_back(geodesic_inverse(origin, gb().site(i).position).distance_m, i);
    }
    std::sort(all.begin(), all.end());  // site index order is site id order
    return all;
}

}  // namespace

TEST_CASE("the GB index holds every Code-Point postcode", "[gb]") {
    const auto info = gb().info();
    CHECK(info.postcodes == 1744635);
    CHECK(info.unlocated == 812);
    CHECK(info.located == 1744635 - 812);
    CHECK(info.sites == 10);
    REQUIRE(info.treatments.size() == 1);
    CHECK(info.treatments[0].name == "kyphoplasty");
    CHECK(info.treatments[0].site_count == 10);
    CHECK(info.transform.find("hgridshift +grids=uk_os_OSTN15_NTv2_OSGBtoETRS.tif") !=
          std::string::npos);
    const auto count = std::find_if(info.metadata.begin(), info.metadata.end(),
                                    [](const auto& kv) { return kv.first == "count.area_files"; });
    REQUIRE(count != info.metadata.end());
    CHECK(count->second == "120");
}

TEST_CASE("known postcodes' coordinates to the centimetre", "[gb]") {
    // cs2cs -f %.10f EPSG:27700 EPSG:4326, with the OSTN15 grid on PROJ_DATA.
    struct Known {
        const char* postcode;
        double lat, lon, eastings, northings;
        const char* country;
    };
    const Known known[] = {
        {"CH4 7QP", 53.1763575144, -2.8952628952, 340260, 364734, "England"},
        {"G12 0PJ", 55.8853148200, -4.3048470531, 255934, 668199, "Scotland"},
        {"CM15 8EH", 51.6233373291, 0.3128481817, 560197, 194146, "England"},
        {"ZE2 9AA", 60.3400216906, -1.0224685676, 454065, 1162174, "Scotland"},
        {"SW1A 1AA", 51.5010101841, -0.1415627882, 529090, 179645, "England"},
    };
    for (const auto& k : known) {
        INFO(k.postcode);
        const auto r = gb().lookup(k.postcode).value();
        CHECK(r.match == MatchLevel::unit);
        CHECK(r.eastings_m == k.eastings);
        CHECK(r.northings_m == k.northings);
        CHECK(r.quality == 10);
        CHECK(r.country == k.country);
        CHECK(metres_between(r.position, {k.lat, k.lon}) < 0.01);
    }
}

TEST_CASE("every postcode of three areas agrees with cs2cs to 1 cm", "[gb]") {
    const char* data = std::getenv("HLOC_TEST_DATA");
    REQUIRE(data != nullptr);
    std::vector<std::uint32_t> rows;
    for (auto area : {"CF", "KW", "TR"}) {
        const auto r = area_rows(area);
        rows.insert(rows.end(), r.begin(), r.end());
    }
    REQUIRE(rows.size() > 20000);
    const std::string in_file = std::string(std::getenv("HLOC_TEST_INDEX")) + ".cs2cs-in.txt";
    {
        std::FILE* f = std::fopen(in_file.c_str(), "w");
        for (auto r : rows) {
            const auto p = gb().located_postcode(r);
            std::fprintf(f, "%.0f %.0f\n", p.eastings_m, p.northings_m);
        }
        std::fclose(f);
    }
    const std::string cmd =
        std::string("PROJ_DATA='") + data +
        ":/usr/share/proj' PROJ_NETWORK=OFF cs2cs -f %.10f EPSG:27700 EPSG:4326 < " + in_file;
    std::FILE* out = ::popen(cmd.c_str(), "r");
    REQUIRE(out != nullptr);
    double worst_m = 0;
    std::size_t n = 0;
    double lat = 0, lon = 0, h = 0;
    while (std::fscanf(out, "%lf %lf %lf", &lat, &lon, &h) == 3) {
        REQUIRE(n < rows.size());
        worst_m =
            std::max(worst_m, metres_between(gb().located_postcode(rows[n]).position, {lat, lon}));
        ++n;
    }
    CHECK(::pclose(out) == 0);
    CHECK(n == rows.size());
    CHECK(worst_m < 0.01);
}

TEST_CASE("nearest ranks exactly as brute force for every postcode of CH, G and CF", "[gb]") {
    const auto& e = gb();
    std::size_t checked = 0;
    for (auto area : {"CH", "G", "CF"}) {
        for (auto row : area_rows(area)) {
            const auto pc = e.located_postcode(row);
            NearestQuery q;
            q.origin = e.resolve(pc.postcode).value();
            q.k = 10;  // the whole order, not just the top three
            const auto answer = e.nearest(q).value();
            const auto want = brute_force(q.origin.position);
            REQUIRE(answer.results.size() == want.size());
            for (std::size_t i = 0; i < want.size(); ++i) {
                INFO(pc.postcode << " rank " << i + 1);
                REQUIRE(answer.results[i].site_index == want[i].second);
                REQUIRE(answer.results[i].distance_m == want[i].first);
            }
            ++checked;
        }
    }
    CHECK(checked > 70000);
}

TEST_CASE("distances agree with Karney's geodesic to 1 mm", "[gb]") {
    const auto& e = gb();
    const auto& karney = GeographicLib::Geodesic::WGS84();
    std::mt19937 rng(5);
    for (int i = 0; i < 20000; ++i) {
        const auto pc = e.located_postcode(rng() % e.located_count());
        NearestQuery q;
        q.origin = e.resolve(pc.postcode).value();
        const auto answer = e.nearest(q).value();
        for (const auto& r : answer.results) {
            const auto site = e.site(r.site_index).position;
            double s12 = 0;
            karney.Inverse(q.origin.position.lat_deg, q.origin.position.lon_deg, site.lat_deg,
                           site.lon_deg, s12);
            REQUIRE(r.distance_m == Approx(s12).margin(0.001));
        }
    }
}

TEST_CASE("the ten kyphoplasty sites are all located, and phone as the page says", "[gb]") {
    const auto& e = gb();
    REQUIRE(e.site_count() == 10);
    std::map<std::string, std::pair<std::string, std::string>> want = {
        {"brentwood", {"postcode", "01277 695695"}},
        {"cardiff-bay", {"postcode", "029 2083 6700"}},
        {"cheltenham", {"postcode", "01242 246552"}},
        {"chester", {"directory", "01244 680444"}},
        {"glasgow", {"postcode", "0345 602 8179"}},
        {"haywards-heath", {"postcode", "01444 456999"}},
        {"plymouth", {"directory", "01752 775861"}},
        {"taunton", {"directory", "01823 286991"}},
        {"tees", {"postcode", "01642 367439"}},
        {"wessex", {"postcode", "023 8026 6377"}},
    };
    for (const auto& s : e.sites()) {
        INFO(s.id);
        REQUIRE(want.count(std::string(s.id)) == 1);
        CHECK(s.located_by == want[std::string(s.id)].first);
        REQUIRE(s.phones.size() == 1);
        CHECK(s.phones[0].display == want[std::string(s.id)].second);
        CHECK(s.phones[0].source == (s.id == "glasgow" ? "provider" : "listing"));
        CHECK(s.quality == 10);
        // A site sits exactly on its postcode's centroid.
        CHECK(metres_between(s.position, e.lookup(s.postcode).value().position) == 0.0);
    }
    CHECK(e.find_site("tees").value().address() ==
          std::vector<std::string_view>{"Junction Road", "Norton", "Stockton-on-Tees"});
    CHECK(e.find_site("nowhere").error().code() == ErrorCode::unknown_site);
}

TEST_CASE("CH4 7QP: Chester first, at 0 m, bearing north", "[gb]") {
    const auto& e = gb();
    NearestQuery q;
    q.origin = e.resolve("ch47qp").value();
    const auto a = e.nearest(q).value();
    REQUIRE(a.results.size() == 3);
    CHECK(e.site(a.results[0].site_index).id == "chester");
    CHECK(a.results[0].distance_m == 0.0);
    CHECK(a.results[0].bearing_deg == 0.0);
    CHECK(e.site(a.results[1].site_index).id == "cheltenham");
    CHECK(e.site(a.results[2].site_index).id == "tees");
    // GeodSolve -i -p 6 <<< "53.1763575144 -2.8952628952 51.8919334948 -2.1299142476"
    // (CH4 7QP to GL51 6SY, both from cs2cs): 152068.263092 m. The margin is the index's
    // coordinate quantisation (at most ~2.6 mm per point), not the geodesic's error.
    CHECK(a.results[1].distance_m == Approx(152068.263092).margin(0.006));
}

TEST_CASE("a missing unit falls back to its sector, then its district, and says so", "[gb]") {
    const auto& e = gb();
    const auto sector = e.resolve("CM15 8ZZ").value();
    CHECK(sector.match == MatchLevel::sector);
    CHECK(sector.postcode == "CM15 8");
    CHECK(sector.note ==
          "'CM15 8ZZ' is not in Code-Point Open; the centroid of its sector 'CM15 8' is used");
    const auto district = e.resolve("CM15 7ZZ").value();
    CHECK(district.match == MatchLevel::district);
    CHECK(district.postcode == "CM15");
    const auto unknown = e.resolve("TR98 1AA");
    CHECK(unknown.error().code() == ErrorCode::postcode_not_found);
    CHECK(unknown.error().message() ==
          "'TR98 1AA' is not in Code-Point Open, and neither is its district 'TR98'");
    CHECK(e.resolve("TR98").error().message() ==
          "postcode district 'TR98' is not in Code-Point Open");
}

TEST_CASE("quality-90 postcodes are found by lookup but kept out of the spatial index", "[gb]") {
    const auto& e = gb();
    const auto r = e.lookup("KY4 4AB").value();
    CHECK_FALSE(r.located);
    CHECK(r.quality == 90);
    CHECK(r.match == MatchLevel::unit);
    CHECK(r.country == "Scotland");
    // Its sector has no located postcode either, so a query falls back to the district.
    const auto loc = e.resolve("KY4 4AB").value();
    CHECK(loc.match == MatchLevel::district);
    CHECK(loc.note ==
          "'KY4 4AB' has no coordinates in Code-Point Open (positional quality 90); the centroid "
          "of its district 'KY4' is used");
    // PO24 holds only quality-90 postcodes: nothing to fall back to.
    CHECK(e.resolve("PO24 1AA").error().message() ==
          "'PO24 1AA' has no coordinates in Code-Point Open (positional quality 90), and neither "
          "its sector nor its district 'PO24' has a located postcode");
    CHECK(e.lookup("PO24 1AA").value().located == false);
}

TEST_CASE("a likely typo suggests a postcode that exists", "[gb]") {
    const auto e = gb().resolve("CH4 7OP");  // O for Q is no slip the parser fixes
    CHECK(e.error().code() == ErrorCode::invalid_postcode);
    CHECK(gb().resolve("SWIA IAA").error().message().ends_with("did you mean 'SW1A 1AA'?"));
}

TEST_CASE("a maximum distance that excludes every site is an empty answer, not an error", "[gb]") {
    const auto& e = gb();
    NearestQuery q;
    q.origin = e.locate_point({54.5, -3.0}).value();
    q.max_distance_m = 1000;
    CHECK(e.nearest(q).value().results.empty());
    q.max_distance_m = 150000;
    for (const auto& r : e.nearest(q).value().results) CHECK(r.distance_m <= 150000);
}

TEST_CASE("bad query parameters are invalid_parameter with the reason", "[gb]") {
    const auto& e = gb();
    CHECK(e.locate_point({std::nan(""), 0}).error().message() ==
          "lat and lon must be finite numbers");
    CHECK(e.locate_point({91, 0}).error().message() ==
          "lat 91 is out of range (-90 to 90 degrees)");
    CHECK(e.locate_point({0, -181}).error().message() ==
          "lon -181 is out of range (-180 to 180 degrees)");
    CHECK(e.locate_point({-3, 53}).error().message() ==
          "lat -3, lon 53 looks swapped: lat 53, lon -3 is in Great Britain");
    NearestQuery q;
    q.origin = e.resolve("CH4 7QP").value();
    q.k = 0;
    CHECK(e.nearest(q).error().message() == "k must be a whole number between 1 and 1000 (got 0)");
    q.k = 1001;
    CHECK(e.nearest(q).error().code() == ErrorCode::invalid_parameter);
    q.k = 3;
    q.max_distance_m = -1;
    CHECK(e.nearest(q).error().code() == ErrorCode::invalid_parameter);
    q.max_distance_m.reset();
    q.treatment = "hip-replacement";
    CHECK(e.nearest(q).error().message() ==
          "no treatment 'hip-replacement' in this index; it has: kyphoplasty");
    CHECK(e.nearest(q).error().code() == ErrorCode::unknown_treatment);
}

TEST_CASE("reverse finds the nearest postcodes exactly, as brute force over every centroid",
          "[gb]") {
    const auto& e = gb();
    std::vector<LatLon> all(e.located_count());
    for (std::uint32_t r = 0; r < e.located_count(); ++r) all[r] = e.located_postcode(r).position;
    std::mt19937_64 rng(17);
    std::uniform_real_distribution<double> lat(50.0, 58.6), lon(-5.5, 1.7);
    for (int i = 0; i < 25; ++i) {
        const LatLon p = i == 0 ? e.lookup("G12 0PJ").value().position : LatLon{lat(rng), lon(rng)};
        const auto hits = e.reverse({p, 3}).value();
        REQUIRE(hits.size() == 3);
        // Brute force: spherical distance for all, Vincenty for those within 2% of the best.
        std::vector<std::pair<double, std::uint32_t>> sphere;
        const double d2r = M_PI / 180;
        for (std::uint32_t r = 0; r < all.size(); ++r) {
            const double c = std::sin(p.lat_deg * d2r) * std::sin(all[r].lat_deg * d2r) +
                             std::cos(p.lat_deg * d2r) * std::cos(all[r].lat_deg * d2r) *
                                 std::cos((p.lon_deg - all[r].lon_deg) * d2r);
            sphere.emplace_back(std::acos(std::clamp(c, -1.0, 1.0)), r);
        }
        std::partial_sort(sphere.begin(), sphere.begin() + 3, sphere.end());
        const double limit = sphere[2].first * 1.02 + 1e-9;
        std::vector<std::pair<double, std::uint32_t>> exact;
        for (const auto& [angle, r] : sphere) {
            if (angle <= limit) exact.emplace_back(geodesic_inverse(p, all[r]).distance_m, r);
        }
        std::sort(exact.begin(), exact.end());
        for (int k = 0; k < 3; ++k) {
            INFO("point " << i << " rank " << k + 1);
            CHECK(hits[k].postcode == e.located_postcode(exact[k].second).postcode);
            CHECK(hits[k].distance_m == exact[k].first);
        }
    }
    CHECK(e.reverse({e.lookup("G12 0PJ").value().position, 1}).value()[0].distance_m == 0.0);
}

TEST_CASE("nearest_batch on several threads gives the same answers as one by one", "[gb]") {
    const auto& e = gb();
    std::vector<NearestQuery> in;
    for (std::uint32_t r = 0; r < e.located_count(); r += 97) {
        NearestQuery q;
        q.origin = e.resolve(e.located_postcode(r).postcode).value();
        in.push_back(q);
    }
    std::vector<Result<NearestAnswer>> out(in.size(), Error(ErrorCode::internal, "unset"));
    e.nearest_batch(in, out, 4);
    for (std::size_t i = 0; i < in.size(); ++i) {
        const auto one = e.nearest(in[i]).value();
        REQUIRE(out[i].has_value());
        REQUIRE(out[i].value().results.size() == one.results.size());
        for (std::size_t j = 0; j < one.results.size(); ++j) {
            REQUIRE(out[i].value().results[j].site_index == one.results[j].site_index);
            REQUIRE(out[i].value().results[j].distance_m == one.results[j].distance_m);
        }
    }
}
