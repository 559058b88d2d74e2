#include "table.hpp"

#include <algorithm>
#include <sstream>

#include "hloc/contract/csv_writer.hpp"
#include "hloc/geodesy.hpp"

namespace hloc::cli {
namespace {

using contract::format_fixed;

// Columns padded to their widest cell; UTF-8 is counted by code points.
std::string render(const std::vector<std::vector<std::string>>& rows) {
    auto width = [](const std::string& s) {
        return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }));
    };
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - width(row[i]) + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

std::string origin_line(const Location& o) {
    std::string s = o.match == MatchLevel::point
                        ? "point"
                        : o.postcode + " (" + std::string(match_level_name(o.match)) + ")";
    s += " at " + format_fixed(o.position.lat_deg, 6) + ", " + format_fixed(o.position.lon_deg, 6);
    return s;
}

}  // namespace

std::string nearest_table(const Engine& engine, const NearestAnswer& answer) {
    std::string out =
        "Nearest " + answer.treatment + " sites to " + origin_line(answer.origin) + "\n";
    if (!answer.origin.note.empty()) out += "Note: " + answer.origin.note + "\n";
    if (answer.results.empty()) return out + "No site within the maximum distance.\n";
    std::vector<std::vector<std::string>> rows = {
        {"#", "site", "name", "miles", "km", "bearing", "phone", "postcode"}};
    for (const auto& r : answer.results) {
        const auto site = engine.site(r.site_index);
        const auto phone = engine.phone(r.offer_index);
        rows.push_back(
            {std::to_string(r.rank), std::string(site.id), std::string(site.name),
             format_fixed(r.distance_m / kMetresPerMile, 1), format_fixed(r.distance_m / 1000.0, 1),
             std::string(compass_point(r.bearing_deg)),
             std::string(phone.display) + (phone.source == "provider" ? " (central)" : ""),
             std::string(site.postcode)});
    }
    return out + render(rows);
}

std::string lookup_table(const PostcodeRecord& r) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"postcode", r.postcode});
    rows.push_back({"match", std::string(match_level_name(r.match))});
    if (r.located) {
        rows.push_back({"latitude", format_fixed(r.position.lat_deg, 7)});
        rows.push_back({"longitude", format_fixed(r.position.lon_deg, 7)});
        const bool unit = r.match == MatchLevel::unit || r.match == MatchLevel::terminated;
        rows.push_back({"eastings", format_fixed(r.eastings_m, unit ? 0 : 1)});
        rows.push_back({"northings", format_fixed(r.northings_m, unit ? 0 : 1)});
        rows.push_back({"grid", std::string(r.grid)});
    } else {
        rows.push_back({"location", "none (positional quality 90)"});
    }
    if (r.match == MatchLevel::unit || r.match == MatchLevel::terminated)
        rows.push_back({"quality", std::to_string(r.quality)});
    else
        rows.push_back({"postcodes", std::to_string(r.postcode_count)});
    rows.push_back({"country", r.country});
    if (!r.terminated.empty()) rows.push_back({"terminated", r.terminated});
    if (!r.note.empty()) rows.push_back({"note", r.note});
    return render(rows);
}

std::string reverse_table(LatLon point, const std::vector<ReverseHit>& hits) {
    std::string out = "Nearest postcodes to " + format_fixed(point.lat_deg, 6) + ", " +
                      format_fixed(point.lon_deg, 6) + "\n";
    std::vector<std::vector<std::string>> rows = {
        {"#", "postcode", "metres", "bearing", "lat", "lon"}};
    int rank = 0;
    for (const auto& h : hits) {
        rows.push_back({std::to_string(++rank), h.postcode, format_fixed(h.distance_m, 1),
                        std::string(compass_point(h.bearing_deg)),
                        format_fixed(h.position.lat_deg, 6), format_fixed(h.position.lon_deg, 6)});
    }
    return out + render(rows);
}

std::string info_table(const IndexInfo& info) {
    std::vector<std::vector<std::string>> rows = {
        {"format version", std::to_string(info.format_version)},
        {"checksum", info.checksum + " (XXH3-64 of the payload)"},
        {"file size", std::to_string(info.file_bytes) + " bytes"},
        {"data date", info.built_at},
        {"builder", info.builder},
        {"transform", info.transform},
        {"postcodes", std::to_string(info.postcodes)},
        {"located", std::to_string(info.located)},
        {"quality 90", std::to_string(info.unlocated) + " (no coordinates; lookup only)"},
        {"terminated", std::to_string(info.terminated)},
        {"sectors", std::to_string(info.sectors)},
        {"districts", std::to_string(info.districts)},
        {"sites", std::to_string(info.sites)}};
    if (!info.transform_irish_grid.empty()) {
        rows.insert(rows.begin() + 6, {"transform (Irish Grid)", info.transform_irish_grid});
    }
    for (const auto& t : info.treatments) {
        rows.push_back(
            {"treatment", std::string(t.name) + ": " + std::to_string(t.site_count) + " sites"});
    }
    for (const auto& s : info.sources) {
        rows.push_back({"source " + s.role, s.file + ", " + std::to_string(s.bytes) + " bytes" +
                                                (s.modified.empty() ? "" : ", " + s.modified) +
                                                ", xxh3 " + s.xxh3});
    }
    return render(rows);
}

std::string sites_table(const std::vector<SiteView>& sites) {
    std::vector<std::vector<std::string>> rows = {
        {"id", "name", "postcode", "located by", "treatments"}};
    for (const auto& s : sites) {
        std::string treatments;
        for (auto t : s.treatments) {
            if (!treatments.empty()) treatments += ',';
            treatments += t;
        }
        rows.push_back({std::string(s.id), std::string(s.name), std::string(s.postcode),
                        std::string(s.located_by), treatments});
    }
    return render(rows);
}

}  // namespace hloc::cli
