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

// Every worker's counters summed: render_metrics reads them once, and the families below are
// formatted from these plain numbers.
struct Totals {
    std::array<std::array<std::uint64_t, kStatusSlots>, kRouteCount> requests{};
    std::array<std::array<std::uint64_t, kLatencyBucketsUs.size() + 1>, kRouteCount> buckets{};
    std::array<std::uint64_t, kRouteCount> latency_sum_us{};
    std::uint64_t in_flight = 0, connections = 0, answers_cut = 0, bytes_unsent = 0, shed = 0;
};

// A family's HELP and TYPE lines, which Prometheus wants once, before its samples.
void append_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

// A family with one sample and no labels: every gauge and counter but the per-route ones.
void append_unlabelled(std::string& out, std::string_view name, std::string_view type,
                       std::string_view help, std::string_view value) {
    append_family(out, name, type, help);
    out += name;
    out += ' ';
    out += value;
    out += '\n';
}

// Only the route and status pairs that occurred: most never do, and a series of zeros for each
// would multiply the body for nothing.
void append_request_counts(std::string& out, const Totals& totals) {
    append_family(out, "hloc_http_requests_total", "counter",
                  "HTTP requests answered, by route and status.");
    for (std::size_t r = 0; r < kRouteCount; ++r) {
        for (std::size_t s = 0; s < kStatusSlots; ++s) {
            const std::uint64_t n = totals.requests[r][s];
            if (n == 0) continue;
            // Only the first 0 slot is "other"; any later one is padding, never counted into.
            if (kStatuses[s] == 0 && s != status_slot(0)) continue;
            out += "hloc_http_requests_total{" + route_labels(static_cast<Route>(r)) +
                   ",status=\"" +
                   (kStatuses[s] == 0 ? std::string("other") : std::to_string(kStatuses[s])) +
                   "\"} " + std::to_string(n) + "\n";
        }
    }
}

// One histogram per route that answered anything; buckets are cumulative, as Prometheus
// requires, and in seconds though counted in microseconds.
void append_request_durations(std::string& out, const Totals& totals) {
    append_family(out, "hloc_http_request_duration_seconds", "histogram",
                  "Time from a request read whole to its answer handed to the socket.");
    for (std::size_t r = 0; r < kRouteCount; ++r) {
        const auto& b = totals.buckets[r];
        std::uint64_t total = 0;
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
        out += "hloc_http_request_duration_seconds_sum{" + labels + "} " +
               seconds_text(totals.latency_sum_us[r]) + "\n";
        out += "hloc_http_request_duration_seconds_count{" + labels + "} " + std::to_string(total) +
               "\n";
    }
}

void append_connection_gauges(std::string& out, const Totals& totals) {
    append_unlabelled(out, "hloc_http_requests_in_flight", "gauge",
                      "Requests read and being answered.", std::to_string(totals.in_flight));
    append_unlabelled(out, "hloc_http_connections", "gauge", "Open client connections.",
                      std::to_string(totals.connections));
    append_unlabelled(out, "hloc_http_connections_shed_total", "counter",
                      "Idle keep-alive connections closed to make room for new ones.",
                      std::to_string(totals.shed));
}

// hloc_http_requests_total counts an answer when it is handed to the socket; these say how
// many of those the client never took whole, and how much of them was lost.
void append_cut_answers(std::string& out, const Totals& totals) {
    append_unlabelled(out, "hloc_http_answers_cut_total", "counter",
                      "Answers cut off before every byte was sent (the client stopped reading "
                      "for write_timeout or went away, or shutdown cut them).",
                      std::to_string(totals.answers_cut));
    append_unlabelled(out, "hloc_http_answer_bytes_unsent_total", "counter",
                      "Bytes of those answers (head and body) never sent.",
                      std::to_string(totals.bytes_unsent));
}

// The index's identity and sizes exist only while one is loaded: before that (started with
// --wait-for-index) only hloc_index_info's HELP and TYPE and hloc_index_ready 0 are sent.
void append_index_gauges(std::string& out, const IndexGauge& index) {
    append_family(out, "hloc_index_info", "gauge",
                  "The index being served (value 1), labelled with its checksum, build date and "
                  "file.");
    if (index.loaded) {
        out += "hloc_index_info{checksum=\"" + label_escape(index.checksum) + "\",built_at=\"" +
               label_escape(index.built_at) + "\",file=\"" + label_escape(index.file) + "\"} 1\n";
        append_unlabelled(out, "hloc_index_postcodes", "gauge", "Postcodes in the index.",
                          std::to_string(index.postcodes));
        append_unlabelled(out, "hloc_index_located_postcodes", "gauge",
                          "Postcodes with coordinates.", std::to_string(index.located));
        append_unlabelled(out, "hloc_index_sites", "gauge", "Sites in the index.",
                          std::to_string(index.sites));
        append_unlabelled(out, "hloc_index_treatments", "gauge", "Treatments in the index.",
                          std::to_string(index.treatments));
        append_unlabelled(out, "hloc_index_file_bytes", "gauge", "Size of the index file.",
                          std::to_string(index.file_bytes));
    }
    append_unlabelled(out, "hloc_index_ready", "gauge", "1 once an index is loaded and served.",
                      index.loaded ? "1" : "0");
}

void append_reload_counters(std::string& out, std::uint64_t reloads, std::uint64_t reloads_failed) {
    append_unlabelled(out, "hloc_index_reloads_total", "counter",
                      "Index reloads that swapped in a new index.", std::to_string(reloads));
    append_unlabelled(out, "hloc_index_reload_failures_total", "counter",
                      "Reloads refused (the old index kept serving).",
                      std::to_string(reloads_failed));
}

void append_uptime(std::string& out, std::chrono::steady_clock::time_point started) {
    const auto up_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", up_s);
    append_unlabelled(out, "hloc_uptime_seconds", "gauge", "Seconds since the service started.",
                      buf);
}

}  // namespace

// The one reader of the workers' counters (a friend of WorkerMetrics): each counter is read
// once, relaxed, in the order its family is printed, then formatted from the sums.
std::string render_metrics(std::span<const WorkerMetrics* const> workers, const IndexGauge& index,
                           std::uint64_t reloads, std::uint64_t reloads_failed,
                           std::chrono::steady_clock::time_point started) {
    auto load = [](const std::atomic<std::uint64_t>& a) {
        return a.load(std::memory_order_relaxed);
    };
    Totals totals;
    for (std::size_t r = 0; r < kRouteCount; ++r) {
        for (std::size_t s = 0; s < kStatusSlots; ++s) {
            for (const auto* w : workers) totals.requests[r][s] += load(w->requests_[r][s]);
        }
    }
    for (std::size_t r = 0; r < kRouteCount; ++r) {
        for (const auto* w : workers) {
            for (std::size_t i = 0; i < totals.buckets[r].size(); ++i) {
                totals.buckets[r][i] += load(w->buckets_[r][i]);
            }
            totals.latency_sum_us[r] += load(w->latency_sum_us_[r]);
        }
    }
    for (const auto* w : workers) {
        totals.in_flight += load(w->in_flight_);
        totals.connections += load(w->connections_);
        totals.answers_cut += load(w->answers_cut_);
        totals.shed += load(w->shed_);
        totals.bytes_unsent += load(w->bytes_unsent_);
    }
    std::string out;
    out.reserve(16 * 1024);
    append_request_counts(out, totals);
    append_request_durations(out, totals);
    append_connection_gauges(out, totals);
    append_cut_answers(out, totals);
    append_index_gauges(out, index);
    append_reload_counters(out, reloads, reloads_failed);
    append_uptime(out, started);
    return out;
}

}  // namespace hloc::serve
