#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hloc/contract/csv_writer.hpp"
#include "hloc/geodesy.hpp"
#include "options.hpp"
#include "report_html.hpp"

namespace hloc::batch {

namespace {

// Bin 0 holds [0, 1 m); bin b >= 1 holds [g^(b-1), g^b) metres with g = 1.001.
const double kLogGrowth = std::log(1.001);
constexpr std::size_t kBins = 17000;  // up to 1.001^16999 m, past any distance on Earth

double bin_value(std::size_t b) {
    if (b == 0) return 0.5;
    return std::exp((static_cast<double>(b) - 0.5) * kLogGrowth);  // geometric middle
}

std::string miles_text(double m) { return contract::format_fixed(m / kMetresPerMile, 1) + " mi"; }

// "32.3 mi (52.0 km)": UK readers think in miles; km for everyone else.
std::string miles_km_text(double m) {
    return miles_text(m) + " (" + contract::format_fixed(m / 1000.0, 1) + " km)";
}

// A band as the user wrote it: "10", "2.5".
std::string band_text(double miles) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", miles);
    return buf;
}

std::string percent_text(std::uint64_t n, std::uint64_t of) {
    if (of == 0) return "–";
    return contract::format_fixed(100.0 * static_cast<double>(n) / static_cast<double>(of), 1) +
           "%";
}

contract::Json distance_json(const DistanceHistogram& h) {
    using contract::Json;
    using contract::round_to;
    Json d;
    d["rows"] = h.count();
    auto value = [&](double m, double unit, int decimals) {
        return h.count() ? Json(round_to(m / unit, decimals)) : Json(nullptr);
    };
    for (double p : {50.0, 90.0, 99.0}) {
        std::string key = "p";
        key += std::to_string(static_cast<int>(p));
        const double m = h.count() ? h.percentile_m(p) : 0;
        d[key + "_metres"] = value(m, 1, 0);
        d[key + "_miles"] = value(m, kMetresPerMile, 3);
        d[key + "_km"] = value(m, 1000, 3);
    }
    d["max_metres"] = value(h.max_m(), 1, 1);
    d["max_miles"] = value(h.max_m(), kMetresPerMile, 3);
    d["max_km"] = value(h.max_m(), 1000, 3);
    return d;
}

}  // namespace

std::vector<double> parse_bands(const std::string& text) {
    std::vector<double> bands;
    std::size_t from = 0;
    while (from <= text.size()) {
        const auto comma = std::min(text.find(',', from), text.size());
        const auto miles = contract::parse_number("bands", text.substr(from, comma - from)).value();
        if (!(miles > 0) || !std::isfinite(miles) || (!bands.empty() && !(miles > bands.back()))) {
            throw Error(ErrorCode::invalid_parameter,
                        "--bands must be distances in miles, each greater than 0 and than the one "
                        "before, like 10,25,50,100 (got " +
                            contract::shown(text) + ")");
        }
        bands.push_back(miles);
        from = comma + 1;
    }
    if (bands.size() > 12) {
        throw Error(ErrorCode::invalid_parameter, "--bands takes at most 12 distances (got " +
                                                      std::to_string(bands.size()) + ")");
    }
    return bands;
}

void AccessStats::add(const RowStat& row, const std::vector<double>& bands_m, std::size_t bin) {
    ++rows_;
    if (row.site < 0) return;  // answered, but no site inside the distance limit
    distance_.add(row.distance_m, bin);
    for (std::size_t i = 0; i < bands_m.size(); ++i) {
        if (row.distance_m <= bands_m[i]) ++within_[i];
    }
}

DistanceHistogram::DistanceHistogram() = default;

std::size_t DistanceHistogram::bin_of(double d) {
    if (!(d >= 1)) return 0;
    return std::min(kBins - 1, 1 + static_cast<std::size_t>(std::log(d) / kLogGrowth));
}

void DistanceHistogram::add(double d, std::size_t bin) {
    if (bins_.empty()) bins_.assign(kBins, 0);
    ++bins_[bin];
    ++count_;
    max_m_ = std::max(max_m_, d);
}

double DistanceHistogram::percentile_m(double p) const {
    if (count_ == 0) return NAN;
    const auto rank =
        static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < bins_.size(); ++b) {
        seen += bins_[b];
        if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(bin_value(b), max_m_);
    }
    return max_m_;
}

Summary::Summary(const Engine& engine, SummaryOptions options)
    : engine_(engine),
      options_(std::move(options)),
      per_site_(engine.site_count(), 0),
      all_(options_.bands_miles.size()),
      per_site_distance_(engine.site_count()) {
    for (double miles : options_.bands_miles) bands_m_.push_back(miles * kMetresPerMile);
}

void Summary::keep_top(std::vector<Notable>& top, Notable n) {
    constexpr std::size_t kKeep = 5;
    // Strictly greater only: on a tie the earlier row stays, so the list is deterministic.
    if (top.size() == kKeep && !(n.value > top.back().value)) return;
    auto at = std::upper_bound(top.begin(), top.end(), n, [](const Notable& a, const Notable& b) {
        return a.value > b.value;
    });
    top.insert(at, std::move(n));
    if (top.size() > kKeep) top.pop_back();
}

void Summary::add(const RowStat& row) {
    ++rows_;
    ++status_[static_cast<int>(row.status)];
    if (row.error) {
        const std::string code(error_code_name(*row.error));
        auto it = std::find_if(error_codes_.begin(), error_codes_.end(),
                               [&](const auto& e) { return e.first == code; });
        if (it == error_codes_.end())
            error_codes_.emplace_back(code, 1);
        else
            ++it->second;
    }
    if (row.status == RowStatus::ok || row.status == RowStatus::approximate) {
        const auto bin = row.site < 0 ? 0 : DistanceHistogram::bin_of(row.distance_m);
        all_.add(row, bands_m_, bin);
        by_country_.try_emplace(row.country, bands_m_.size()).first->second.add(row, bands_m_, bin);
        by_district_.try_emplace(row.admin_district, bands_m_.size())
            .first->second.add(row, bands_m_, bin);
        if (row.site < 0) {
            ++no_site_;
        } else {
            const auto s = static_cast<std::size_t>(row.site);
            ++per_site_[s];
            per_site_distance_[s].add(row.distance_m, bin);
            keep_top(farthest_, {row.number, row.input, row.distance_m, row.site});
        }
    }
    keep_top(slowest_, {row.number, row.input, static_cast<double>(row.elapsed_ns), row.site});
}

contract::Json Summary::to_json(const RunInfo& run) const {
    using contract::Json;
    using contract::round_to;
    Json out;
    out["input"] = run.input;
    out["output"] = run.output;
    out["treatment"] = run.treatment;
    out["k"] = run.k;
    out["query_by"] = run.query_by;
    out["index"] = {{"checksum", engine_.info().checksum}};
    out["rows"] = rows_;
    Json status = Json::object();
    for (int s = 0; s < contract::kRowStatusCount; ++s)
        status[std::string(contract::status_name(static_cast<RowStatus>(s)))] = status_[s];
    out["status"] = status;
    auto codes = error_codes_;
    std::sort(codes.begin(), codes.end());
    Json errors = Json::object();
    for (const auto& [code, n] : codes) errors[code] = n;
    out["error_codes"] = errors;
    out["no_site_within_limit"] = no_site_;
    out["distance_to_nearest"] = distance_json(all_.distance());
    Json sites = Json::array();
    for (std::uint32_t i = 0; i < per_site_.size(); ++i) {
        const auto site = engine_.site(i);
        const bool offers = std::find(site.treatments.begin(), site.treatments.end(),
                                      run.treatment) != site.treatments.end();
        if (!offers && per_site_[i] == 0) continue;
        Json s;
        s["id"] = site.id;
        s["name"] = site.name;
        s["rows"] = per_site_[i];
        s["distance"] = distance_json(per_site_distance_[i]);
        sites.push_back(std::move(s));
    }
    out["nearest_site"] = std::move(sites);
    auto notable = [&](const std::vector<Notable>& list, bool time) {
        Json a = Json::array();
        for (const auto& n : list) {
            Json j;
            j["row"] = n.row;
            j["input"] = n.input;
            if (n.site >= 0) j["site"] = engine_.site(static_cast<std::uint32_t>(n.site)).id;
            if (time)
                j["microseconds"] = round_to(n.value / 1000.0, 1);
            else
                j["metres"] = round_to(n.value, 1);
            a.push_back(std::move(j));
        }
        return a;
    };
    out["farthest"] = notable(farthest_, false);
    out["access_bands_miles"] = options_.bands_miles;
    out["access"] = access_json(all_);
    // Groups in name order; rows with no country (points) or no district come last.
    auto groups = [&](const std::map<std::string, AccessStats>& by, const char* key, bool named) {
        Json a = Json::array();
        auto add = [&](const std::string& k, const AccessStats& stats) {
            Json g;
            g[key] = k.empty() ? Json(nullptr) : Json(k);
            if (named) {
                const auto name = options_.district_names.find(k);
                g["name"] =
                    name == options_.district_names.end() ? Json(nullptr) : Json(name->second);
            }
            g.update(area_json(stats));
            a.push_back(std::move(g));
        };
        for (const auto& [k, stats] : by) {
            if (!k.empty()) add(k, stats);
        }
        if (const auto none = by.find(""); none != by.end()) add("", none->second);
        return a;
    };
    out["by_country"] = groups(by_country_, "country", false);
    out["by_admin_district"] = {
        {"codes_in_index", engine_.has_admin_districts()},
        {"names_from",
         options_.district_names_file.empty() ? Json(nullptr) : Json(options_.district_names_file)},
        {"districts", groups(by_district_, "code", true)}};
    // Everything that varies between identical runs is under "timing".
    out["timing"] = {
        {"seconds", round_to(run.seconds, 3)},
        {"threads", run.threads},
        {"rows_per_second",
         run.seconds > 0 ? round_to(static_cast<double>(rows_) / run.seconds, 0) : 0.0},
        {"slowest", notable(slowest_, true)}};
    return out;
}

contract::Json Summary::access_json(const AccessStats& a) const {
    using contract::Json;
    Json within = Json::array();
    for (std::size_t i = 0; i < bands_m_.size(); ++i) {
        const auto n = a.within()[i];
        within.push_back(
            {{"miles", options_.bands_miles[i]},
             {"rows", n},
             {"share", a.rows() ? Json(contract::round_to(
                                      static_cast<double>(n) / static_cast<double>(a.rows()), 4))
                                : Json(nullptr)}});
    }
    return {{"rows", a.rows()}, {"within", std::move(within)}};
}

contract::Json Summary::area_json(const AccessStats& a) const {
    auto j = access_json(a);
    j["distance"] = distance_json(a.distance());
    return j;
}

std::string Summary::to_markdown(const RunInfo& run) const {
    const auto j = to_json(run);
    auto cell = [](const contract::Json& v) -> std::string {
        if (v.is_null()) return "–";
        if (v.is_string()) return v.get<std::string>();
        if (v.is_number_integer() || v.is_number_unsigned())
            return with_commas(v.get<std::uint64_t>());
        return contract::format_fixed(v.get<double>(), 0);
    };
    auto md_escape = [](std::string s) {
        std::string out;
        for (char c : s) {
            // CommonMark's backslash escapes: table and emphasis marks, and < & [ ] too, so a
            // name from a user's file is text, never raw HTML or a link, wherever it is shown.
            if (std::string_view("|`*_\\<>&[]").find(c) != std::string_view::npos) out += '\\';
            out += (c == '\n' || c == '\r') ? ' ' : c;
        }
        return out;
    };
    std::string md;
    md += "# Batch report: nearest " + run.treatment + " sites\n\n";
    md += "- input: `" + run.input + "` (" + run.query_by + ")\n";
    md += "- output: `" + run.output + "`, k = " + std::to_string(run.k) + "\n";
    md += "- index checksum: `" + engine_.info().checksum + "`\n";
    md += "- rows: " + with_commas(rows_) + "\n\n";
    md += "## Rows by status\n\n| status | rows |\n|---|---:|\n";
    for (const auto& [name, n] : j["status"].items()) md += "| " + name + " | " + cell(n) + " |\n";
    if (!j["error_codes"].empty()) {
        md += "\n| error code | rows |\n|---|---:|\n";
        for (const auto& [name, n] : j["error_codes"].items())
            md += "| " + name + " | " + cell(n) + " |\n";
    }
    if (no_site_)
        md += "\n" + with_commas(no_site_) +
              " answered rows had no site within the distance limit.\n";
    auto mi_km = [](const DistanceHistogram& h, double p) {
        if (!h.count()) return std::string("–");
        return miles_km_text(p >= 100 ? h.max_m() : h.percentile_m(p));
    };
    md += "\n## Distance to the nearest site\n\nMiles, and km in brackets.\n\n";
    md += "| nearest site | rows | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n";
    auto dist_row = [&](const std::string& name, const DistanceHistogram& h) {
        return "| " + name + " | " + with_commas(h.count()) + " | " + mi_km(h, 50) + " | " +
               mi_km(h, 90) + " | " + mi_km(h, 99) + " | " + mi_km(h, 100) + " |\n";
    };
    for (const auto& s : j["nearest_site"]) {
        const auto id = s["id"].get<std::string>();
        md += dist_row(md_escape(s["name"].get<std::string>()) + " (`" + id + "`)",
                       per_site_distance_[engine_.find_site(id).value().index]);
    }
    md += dist_row("**all**", all_.distance());
    md += "\nPercentiles are within 0.05% (histogram bins 0.1% wide); maxima are exact.\n";

    md += "\n## Access\n\nOf the " + with_commas(all_.rows()) +
          " rows answered (ok or approximate), those whose nearest site is within:\n\n";
    for (std::size_t i = 0; i < bands_m_.size(); ++i) {
        md += "- " + band_text(options_.bands_miles[i]) +
              (options_.bands_miles[i] == 1 ? " mile (" : " miles (") +
              contract::format_fixed(bands_m_[i] / 1000.0, 1) +
              " km): " + with_commas(all_.within()[i]) + " rows, " +
              percent_text(all_.within()[i], all_.rows()) + "\n";
    }
    // One table per grouping: distances in miles (km), then the share within each band.
    auto area_table = [&](const std::string& title, const std::string& first_column,
                          const contract::Json& groups, const char* key, bool named,
                          const std::string& none) {
        std::string t = "\n## " + title + "\n\n| " + first_column + (named ? " | code" : "") +
                        " | rows | p50 | p90 | max |";
        std::string rule = named ? "|---|---|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|";
        for (double miles : options_.bands_miles) {
            t += " within " + band_text(miles) + " mi |";
            rule += "---:|";
        }
        t += "\n" + rule + "\n";
        auto row = [&](const std::string& label, const std::string& code,
                       const AccessStats& stats) {
            t += "| ";
            t += label;
            if (named) t += " | " + code;
            t += " | " + with_commas(stats.rows());
            for (double p : {50.0, 90.0, 100.0}) t += " | " + mi_km(stats.distance(), p);
            t += " |";
            for (std::size_t i = 0; i < bands_m_.size(); ++i) {
                t += ' ';
                t += percent_text(stats.within()[i], stats.rows());
                t += " |";
            }
            t += "\n";
        };
        for (const auto& g : groups) {
            const std::string k = g[key].is_null() ? "" : g[key].get<std::string>();
            const auto& stats = (named ? by_district_ : by_country_).at(k);
            if (k.empty()) {
                row(none, "–", stats);
            } else if (named) {
                row(g["name"].is_null() ? "–" : md_escape(g["name"].get<std::string>()), k, stats);
            } else {
                row(md_escape(k), "", stats);
            }
        }
        row("**all**", "", all_);
        return t;
    };
    md += area_table("By country", "country", j["by_country"], "country", false,
                     "(a point: no country)");
    if (!engine_.has_admin_districts()) {
        md +=
            "\n## By local authority district\n\nThis index holds no admin district codes "
            "(it was built before they were stored): rebuild it to have this table.\n";
    } else {
        md += area_table("By local authority district", "district",
                         j["by_admin_district"]["districts"], "code", true,
                         "(none: a point, a sector or district centroid, or a postcode "
                         "Code-Point gives no district)");
        md +=
            "\nDistricts are Code-Point Open's admin district codes (GSS) of the rows' "
            "postcodes; ";
        md += options_.district_names_file.empty()
                  ? "give `--district-names FILE` (Code-Point's `Doc/Codelist.xlsx`, or an ONS "
                    "code list) for their names.\n"
                  : "names from `" + md_escape(options_.district_names_file) + "`.\n";
    }
    if (!farthest_.empty()) {
        md +=
            "\n## Farthest rows\n\n| row | input | nearest site | miles (km) |\n"
            "|---:|---|---|---:|\n";
        for (const auto& f : j["farthest"]) {
            const double m = f["metres"].get<double>();
            md += "| " + cell(f["row"]) + " | " + md_escape(f["input"].get<std::string>()) + " | " +
                  f.value("site", std::string("")) + " | " + miles_km_text(m) + " |\n";
        }
    }
    md += "\n## Timing\n\n";
    md += "- " + contract::format_fixed(run.seconds, 2) + " s on " + std::to_string(run.threads) +
          " threads\n";
    md += "- slowest rows (microseconds):";
    for (const auto& s : j["timing"]["slowest"]) {
        md += " row " + cell(s["row"]) + " " +
              contract::format_fixed(s["microseconds"].get<double>(), 1) + ";";
    }
    md += "\n";
    return md;
}

std::string Summary::to_html(const RunInfo& run, std::string_view map_png, int map_width_px,
                             int map_height_px) const {
    return report_markdown_to_html(to_markdown(run), map_png, map_width_px, map_height_px);
}

std::string Summary::short_text(const RunInfo& run) const {
    std::string s = "batch: " + with_commas(rows_) + " rows in " +
                    contract::format_fixed(run.seconds, 2) + " s";
    if (run.seconds > 0)
        s += " (" +
             with_commas(static_cast<std::uint64_t>(static_cast<double>(rows_) / run.seconds)) +
             " rows/s)";
    s += " -> " + run.output + "\n ";
    for (int i = 0; i < contract::kRowStatusCount; ++i) {
        s += std::string(" ") + std::string(contract::status_name(static_cast<RowStatus>(i))) +
             " " + with_commas(status_[i]);
    }
    s += "\n";
    if (all_.distance().count()) {
        s += "  distance to the nearest site: p50 " + miles_text(all_.distance().percentile_m(50)) +
             ", p90 " + miles_text(all_.distance().percentile_m(90)) + ", p99 " +
             miles_text(all_.distance().percentile_m(99)) + ", max " +
             miles_text(all_.distance().max_m()) + "\n";
    }
    return s;
}

}  // namespace hloc::batch
