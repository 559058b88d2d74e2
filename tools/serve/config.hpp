// The service's settings: every limit and timeout has a flag (main.cpp) and a default here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace hloc::serve {

struct ServerConfig {
    std::filesystem::path index_file;
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8080;  // 0 = an ephemeral port (the chosen one is logged)
    unsigned threads = 0;              // 0 = one per core
    std::filesystem::path access_log;  // empty = no access log

    // Request bounds. A bulk body of 1,000 postcodes is ~15 KB and of 1,000 query objects
    // ~100 KB, so 1 MiB leaves room for generous formatting without inviting abuse.
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_url_bytes = 2048;     // request target: 414 beyond
    std::size_t max_header_bytes = 8192;  // header fields beyond the request line: 431 beyond
    std::size_t max_bulk_items = 1000;
    // Open connections. main caps it at the descriptor limit (soft raised to hard) less a
    // reserve of 32 + 3 per event loop. Past it the longest-idle keep-alive connection is shed
    // to make room; with none idle, new ones are answered 503 and closed.
    std::size_t max_connections = 4096;

    std::chrono::milliseconds read_timeout{10'000};  // first byte to last byte of a request: 408
    std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
    // Writing an answer: the longest wait for the client to take *any* bytes. The deadline is
    // re-armed whenever the answer makes progress (nginx's send_timeout, measured closer to
    // the client): a write completing, or the client acknowledging bytes from the socket's
    // send queue (SIOCOUTQ, checked at the 100 ms sweep). So a slow but steady reader gets its
    // whole answer however long it takes (any rate above one byte per write_timeout), and a
    // connection is cut only after write_timeout in which the client took nothing.
    std::chrono::milliseconds write_timeout{10'000};
    std::chrono::milliseconds shutdown_timeout{30'000};  // SIGTERM: longest wait for in-flight work

    int cache_max_age_s = 300;    // data changes only on reload
    std::string cors_origin;      // empty = no CORS headers
    bool admin_reload = false;    // POST /admin/reload, from loopback clients only
    bool wait_for_index = false;  // start unready if the index cannot be opened; SIGHUP retries
    bool resident = false;        // read the index into private huge pages instead of mapping it
};

}  // namespace hloc::serve
