#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hloc/contract/csv_writer.hpp"
#include "hloc/geodesy.hpp"
#include "options.hpp"

namespace hloc::batch {

namespace {

// Bin 0 holds [0, 1 m); bin b >= 1 holds [g^(b-1), g^b) metres with g = 1.001.
const double kLogGrowth = std::log(1.001);
constexpr std::size_t kBins = 17000;  // up to 1.001^16999 m, past any distance on Earth

std::size_t bin_of(double d) {
    if (!(d >= 1)) return 0;
    return std::min(kBins - 1, 1 + static_cast<std::size_t>(std::log(d) / kLogGrowth));
}

double bin_value(std::size_t b) {
    if (b == 0) return 0.5;
    return std::exp((static_cast<double>(b) - 0.5) * kLogGrowth);  // geometric middle
}

std::string miles_text(double m) { return contract::format_fixed(m / kMetresPerMile, 1) + " mi"; }

}  // namespace

DistanceHistogram::DistanceHistogram() = default;

void DistanceHistogram::add(double d) {
    if (bins_.empty()) bins_.assign(kBins, 0);
    ++bins_[bin_of(d)];
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

Summary::Summary(const Engine& engine)
    : engine_(engine), per_site_(engine.site_count(), 0), per_site_distance_(engine.site_count()) {}

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
        if (row.site < 0) {
            ++no_site_;
        } else {
            const auto s = static_cast<std::size_t>(row.site);
            ++per_site_[s];
            overall_.add(row.distance_m);
            per_site_distance_[s].add(row.distance_m);
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
    auto distances = [&](const DistanceHistogram& h) {
        Json d;
        d["rows"] = h.count();
        for (double p : {50.0, 90.0, 99.0}) {
            std::string key = "p";
            key += std::to_string(static_cast<int>(p));
            d[key + "_metres"] = h.count() ? Json(round_to(h.percentile_m(p), 0)) : Json(nullptr);
        }
        d["max_metres"] = h.count() ? Json(round_to(h.max_m(), 1)) : Json(nullptr);
        d["max_miles"] = h.count() ? Json(round_to(h.max_m() / kMetresPerMile, 3)) : Json(nullptr);
        return d;
    };
    out["distance_to_nearest"] = distances(overall_);
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
        s["distance"] = distances(per_site_distance_[i]);
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
    // Everything that varies between identical runs is under "timing".
    out["timing"] = {
        {"seconds", round_to(run.seconds, 3)},
        {"threads", run.threads},
        {"rows_per_second",
         run.seconds > 0 ? round_to(static_cast<double>(rows_) / run.seconds, 0) : 0.0},
        {"slowest", notable(slowest_, true)}};
    return out;
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
            if (c == '|' || c == '`' || c == '*' || c == '_' || c == '\\') out += '\\';
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
    md += "\n## Distance to the nearest site (metres)\n\n";
    md += "| nearest site | rows | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n";
    auto dist_row = [&](const std::string& name, const contract::Json& d) {
        return "| " + name + " | " + cell(d["rows"]) + " | " + cell(d["p50_metres"]) + " | " +
               cell(d["p90_metres"]) + " | " + cell(d["p99_metres"]) + " | " +
               cell(d["max_metres"]) + " |\n";
    };
    for (const auto& s : j["nearest_site"]) {
        md += dist_row(
            md_escape(s["name"].get<std::string>()) + " (`" + s["id"].get<std::string>() + "`)",
            s["distance"]);
    }
    md += dist_row("**all**", j["distance_to_nearest"]);
    md += "\nPercentiles are within 0.05% (histogram bins 0.1% wide); maxima are exact.\n";
    if (!farthest_.empty()) {
        md +=
            "\n## Farthest rows\n\n| row | input | nearest site | metres |\n|---:|---|---|---:|\n";
        for (const auto& f : j["farthest"]) {
            md += "| " + cell(f["row"]) + " | " + md_escape(f["input"].get<std::string>()) + " | " +
                  f.value("site", std::string("")) + " | " +
                  contract::format_fixed(f["metres"].get<double>(), 1) + " |\n";
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
    if (overall_.count()) {
        s += "  distance to the nearest site: p50 " + miles_text(overall_.percentile_m(50)) +
             ", p90 " + miles_text(overall_.percentile_m(90)) + ", p99 " +
             miles_text(overall_.percentile_m(99)) + ", max " + miles_text(overall_.max_m()) + "\n";
    }
    return s;
}

}  // namespace hloc::batch
