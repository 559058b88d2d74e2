#include "metrics.hpp"

#include <algorithm>

namespace hloc::serve {

std::string_view route_method(Route route) {
    switch (route) {
        case Route::nearest_post:
        case Route::postcodes_post:
        case Route::admin_reload:
            return "POST";
        case Route::options:
            return "OPTIONS";
        case Route::not_found:
        case Route::unrouted:
            return "";
        default:
            return "GET";
    }
}

std::string_view route_path(Route route) {
    switch (route) {
        case Route::nearest_get:
        case Route::nearest_post:
            return "/v1/nearest";
        case Route::postcode_get:
            return "/v1/postcodes/{postcode}";
        case Route::postcodes_post:
        case Route::postcodes_reverse:
            return "/v1/postcodes";
        case Route::sites:
            return "/v1/sites";
        case Route::site:
            return "/v1/sites/{id}";
        case Route::treatments:
            return "/v1/treatments";
        case Route::info:
            return "/v1/info";
        case Route::healthz:
            return "/healthz";
        case Route::readyz:
            return "/readyz";
        case Route::metrics:
            return "/metrics";
        case Route::openapi:
            return "/openapi.json";
        case Route::admin_reload:
            return "/admin/reload";
        case Route::options:
            return "*";
        case Route::not_found:
            return "unknown";
        case Route::unrouted:
            return "none";
    }
    return "none";
}

std::size_t status_slot(unsigned status) {
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
        if (kStatuses[i] == status) return i;
        if (kStatuses[i] == 0) return i;  // the first 0 slot holds "other"
    }
    return kStatusSlots - 1;
}

void WorkerMetrics::count(Route route, unsigned status, std::uint64_t micros) {
    const auto r = static_cast<std::size_t>(route);
    bump(requests_[r][status_slot(status)]);
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(kLatencyBucketsUs.begin(), kLatencyBucketsUs.end(), micros) -
        kLatencyBucketsUs.begin());
    bump(buckets_[r][bucket]);
    auto& sum = latency_sum_us_[r];
    sum.store(sum.load(std::memory_order_relaxed) + micros, std::memory_order_relaxed);
}

namespace {

std::string label_escape(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string seconds_text(std::uint64_t micros) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", static_cast<double>(micros) / 1e6);
    return buf;
}

std::string route_labels(Route r) {
    std::string s = "method=\"";
    s += route_method(r);
    s += "\",route=\"";
    s += route_path(r);
    s += '"';
    return s;
}

}  // namespace

std::string render_metrics(std::span<const WorkerMetrics* const> workers, const IndexGauge& index,
                           std::uint64_t reloads, std::uint64_t reloads_failed,
                           std::chrono::steady_clock::time_point started) {
    auto load = [](const std::atomic<std::uint64_t>& a) {
        return a.load(std::memory_order_relaxed);
    };
    std::string out;
    out.reserve(16 * 1024);
    out +=
        "# HELP hloc_http_requests_total HTTP requests answered, by route and status.\n"
        "# TYPE hloc_http_requests_total counter\n";
    for (std::size_t r = 0; r < kRouteCount; ++r) {
        for (std::size_t s = 0; s < kStatusSlots; ++s) {
            std::uint64_t n = 0;
            for (const auto* w : workers) n += load(w->requests_[r][s]);
            if (n == 0) continue;
            if (kStatuses[s] == 0 && s != status_slot(0)) continue;
            out += "hloc_http_requests_total{" + route_labels(static_cast<Route>(r)) +
                   ",status=\"" +
                   (kStatuses[s] == 0 ? std::string("other") : std::to_string(kStatuses[s])) +
                   "\"} " + std::to_string(n) + "\n";
        }
    }
    out +=
        "# HELP hloc_http_request_duration_seconds Time from a request read whole to its answer "
        "handed to the socket.\n# TYPE hloc_http_request_duration_seconds histogram\n";
    for (std::size_t r = 0; r < kRouteCount; ++r) {
        std::uint64_t total = 0, sum_us = 0;
        std::array<std::uint64_t, kLatencyBucketsUs.size() + 1> b{};
        for (const auto* w : workers) {
            for (std::size_t i = 0; i < b.size(); ++i) b[i] += load(w->buckets_[r][i]);
            sum_us += load(w->latency_sum_us_[r]);
        }
        for (auto v : b) total += v;
        if (total == 0) continue;
        const auto labels = route_labels(static_cast<Route>(r));
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kLatencyBucketsUs.size(); ++i) {
            cumulative += b[i];
            out += "hloc_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
                   seconds_text(kLatencyBucketsUs[i]) + "\"} " + std::to_string(cumulative) + "\n";
        }
        out += "hloc_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
               std::to_string(total) + "\n";
        out +=
            "hloc_http_request_duration_seconds_sum{" + labels + "} " + seconds_text(sum_us) + "\n";
        out += "hloc_http_request_duration_seconds_count{" + labels + "} " + std::to_string(total) +
               "\n";
    }
    std::uint64_t in_flight = 0, connections = 0;
    for (const auto* w : workers) {
        in_flight += load(w->in_flight_);
        connections += load(w->connections_);
    }
    out +=
        "# HELP hloc_http_requests_in_flight Requests read and being answered.\n"
        "# TYPE hloc_http_requests_in_flight gauge\nhloc_http_requests_in_flight " +
        std::to_string(in_flight) + "\n";
    out +=
        "# HELP hloc_http_connections Open client connections.\n"
        "# TYPE hloc_http_connections gauge\nhloc_http_connections " +
        std::to_string(connections) + "\n";
    out +=
        "# HELP hloc_index_info The index being served (value 1), labelled with its checksum, "
        "build date and file.\n# TYPE hloc_index_info gauge\n";
    if (index.loaded) {
        out += "hloc_index_info{checksum=\"" + label_escape(index.checksum) + "\",built_at=\"" +
               label_escape(index.built_at) + "\",file=\"" + label_escape(index.file) + "\"} 1\n";
        out +=
            "# HELP hloc_index_postcodes Postcodes in the index.\n# TYPE hloc_index_postcodes "
            "gauge\n"
            "hloc_index_postcodes " +
            std::to_string(index.postcodes) + "\n";
        out +=
            "# HELP hloc_index_located_postcodes Postcodes with coordinates.\n"
            "# TYPE hloc_index_located_postcodes gauge\nhloc_index_located_postcodes " +
            std::to_string(index.located) + "\n";
        out +=
            "# HELP hloc_index_sites Sites in the index.\n# TYPE hloc_index_sites "
            "gauge\nhloc_index_sites " +
            std::to_string(index.sites) + "\n";
        out +=
            "# HELP hloc_index_treatments Treatments in the index.\n# TYPE hloc_index_treatments "
            "gauge\n"
            "hloc_index_treatments " +
            std::to_string(index.treatments) + "\n";
        out +=
            "# HELP hloc_index_file_bytes Size of the index file.\n# TYPE hloc_index_file_bytes "
            "gauge\n"
            "hloc_index_file_bytes " +
            std::to_string(index.file_bytes) + "\n";
    }
    out +=
        "# HELP hloc_index_ready 1 once an index is loaded and served.\n# TYPE hloc_index_ready "
        "gauge\n"
        "hloc_index_ready " +
        std::string(index.loaded ? "1" : "0") + "\n";
    out +=
        "# HELP hloc_index_reloads_total Index reloads that swapped in a new index.\n"
        "# TYPE hloc_index_reloads_total counter\nhloc_index_reloads_total " +
        std::to_string(reloads) + "\n";
    out +=
        "# HELP hloc_index_reload_failures_total Reloads refused (the old index kept serving).\n"
        "# TYPE hloc_index_reload_failures_total counter\nhloc_index_reload_failures_total " +
        std::to_string(reloads_failed) + "\n";
    const auto up_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", up_s);
    out +=
        "# HELP hloc_uptime_seconds Seconds since the service started.\n# TYPE hloc_uptime_seconds "
        "gauge\n"
        "hloc_uptime_seconds " +
        std::string(buf) + "\n";
    return out;
}

}  // namespace hloc::serve
