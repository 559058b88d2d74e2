// Prometheus metrics, kept per worker thread so that counting a request never contends: each
// counter has one writer (its worker) and is read, relaxed, by whoever renders GET /metrics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace hloc::serve {

// Every route the router knows, plus `unrouted` for requests refused before routing
// (malformed HTTP, 408, 413 ...). Labels are the OpenAPI path templates.
enum class Route : std::uint8_t {
    nearest_get,
    nearest_post,
    postcode_get,
    postcodes_post,
    postcodes_reverse,
    sites,
    site,
    treatments,
    info,
    healthz,
    readyz,
    metrics,
    openapi,
    admin_reload,
    options,
    not_found,
    unrouted,
};
inline constexpr std::size_t kRouteCount = static_cast<std::size_t>(Route::unrouted) + 1;
std::string_view route_method(Route route);
std::string_view route_path(Route route);

// The statuses the service sends; anything else is counted as "other".
inline constexpr std::array<unsigned, 16> kStatuses = {200, 204, 400, 403, 404, 405, 408, 413,
                                                       414, 415, 422, 431, 500, 503, 0,   0};
inline constexpr std::size_t kStatusSlots = kStatuses.size();
std::size_t status_slot(unsigned status);

// Latency buckets in microseconds (rendered in seconds).
inline constexpr std::array<std::uint64_t, 14> kLatencyBucketsUs = {
    50,     100,    250,    500,     1'000,   2'500,     5'000,
    10'000, 25'000, 50'000, 100'000, 250'000, 1'000'000, 5'000'000};

class WorkerMetrics {
  public:
    void count(Route route, unsigned status, std::uint64_t micros);
    void connection_opened() { bump(connections_); }
    void connection_closed() { drop(connections_); }
    void request_started() { bump(in_flight_); }
    void request_finished() { drop(in_flight_); }
    // An answer the client did not take whole (it stopped reading, went away, or shutdown
    // cut it): `unsent_bytes` of head and body never reached the socket.
    void connection_shed() { bump(shed_); }
    void answer_cut(std::uint64_t unsent_bytes) {
        bump(answers_cut_);
        bytes_unsent_.store(bytes_unsent_.load(std::memory_order_relaxed) + unsent_bytes,
                            std::memory_order_relaxed);
    }

  private:
    friend std::string render_metrics(std::span<const WorkerMetrics* const> workers,
                                      const struct IndexGauge& index, std::uint64_t reloads,
                                      std::uint64_t reloads_failed,
                                      std::chrono::steady_clock::time_point started);
    // One writer: load+store, no locked read-modify-write on the hot path.
    static void bump(std::atomic<std::uint64_t>& c) {
        c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    static void drop(std::atomic<std::uint64_t>& c) {
        c.store(c.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    }

    std::array<std::array<std::atomic<std::uint64_t>, kStatusSlots>, kRouteCount> requests_{};
    std::array<std::array<std::atomic<std::uint64_t>, kLatencyBucketsUs.size() + 1>, kRouteCount>
        buckets_{};
    std::array<std::atomic<std::uint64_t>, kRouteCount> latency_sum_us_{};
    std::atomic<std::uint64_t> connections_{0};
    std::atomic<std::uint64_t> in_flight_{0};
    std::atomic<std::uint64_t> answers_cut_{0};
    std::atomic<std::uint64_t> shed_{0};
    std::atomic<std::uint64_t> bytes_unsent_{0};
};

struct IndexGauge {
    std::string checksum, built_at, file;
    std::uint64_t postcodes = 0, located = 0, sites = 0, treatments = 0, file_bytes = 0;
    bool loaded = false;
};

// Renders the sum over every worker as Prometheus text format 0.0.4.
std::string render_metrics(std::span<const WorkerMetrics* const> workers, const IndexGauge& index,
                           std::uint64_t reloads, std::uint64_t reloads_failed,
                           std::chrono::steady_clock::time_point started);

}  // namespace hloc::serve
