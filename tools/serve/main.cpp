// hospital-locator serve: the HTTP service over the engine (see tools/serve/server.hpp for the
// life cycle and router.cpp for the routes; /openapi.json describes them).
//
// Exit codes: 0 stopped by SIGTERM/SIGINT after finishing in-flight requests, 1 usage,
// 2 the index was refused at start or the address could not be bound.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "access_log.hpp"
#include "hloc/contract/json_writer.hpp"
#include "paths.hpp"
#include "server.hpp"

namespace {

using hloc::Error;
using hloc::ErrorCode;

// "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0" (0 = an ephemeral port, logged once bound).
void parse_listen(const std::string& text, hloc::serve::ServerConfig& config) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size()) {
        throw CLI::ValidationError("--listen", "expected HOST:PORT, got '" + text + "'");
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    const std::string port = text.substr(colon + 1);
    unsigned long value = 0;
    try {
        std::size_t used = 0;
        value = std::stoul(port, &used);
        if (used != port.size() || value > 65535) throw std::out_of_range(port);
    } catch (const std::exception&) {
        throw CLI::ValidationError("--listen", "the port must be 0..65535, got '" + port + "'");
    }
    config.listen_host = host.empty() ? "0.0.0.0" : host;
    config.listen_port = static_cast<std::uint16_t>(value);
}

void log_index(const hloc::serve::LoadedIndex& index) {
    std::string treatments;
    for (const auto& t : index.info.treatments) {
        if (!treatments.empty()) treatments += ", ";
        treatments += std::string(t.name) + " (" + std::to_string(t.site_count) + " sites)";
    }
    std::cerr << "index " << index.file.string() << ": checksum " << index.info.checksum
              << ", built " << index.info.built_at << ", " << index.info.postcodes << " postcodes ("
              << index.info.located << " located), " << index.info.sites
              << " sites; treatments: " << treatments << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Serve nearest-hospital queries over HTTP/1.1 (JSON; see GET /openapi.json).",
                 "hospital-locator serve"};
    hloc::serve::ServerConfig config;
    std::string index_file = hloc::paths::default_index().string();
    std::string listen = "127.0.0.1:8080";
    std::string access_log;
    long long read_ms = config.read_timeout.count(), idle_ms = config.idle_timeout.count(),
              write_ms = config.write_timeout.count(),
              shutdown_ms = config.shutdown_timeout.count();
    app.add_option("--index", index_file, "the index file (.hlx); SIGHUP reloads it")
        ->capture_default_str();
    app.add_option("--listen", listen, "address and port (port 0: any free port, logged)")
        ->capture_default_str();
    app.add_option("--threads", config.threads, "worker threads (0: one per core)")
        ->capture_default_str();
    app.add_option("--access-log", access_log,
                   "append one JSON line per request to this file (off by default)");
    app.add_option("--max-body-bytes", config.max_body_bytes, "largest request body (413 beyond)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--max-url-bytes", config.max_url_bytes, "longest request target (414 beyond)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--max-header-bytes", config.max_header_bytes,
                   "largest header block (431 beyond)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--max-bulk-items", config.max_bulk_items,
                   "most items in a bulk POST (413 beyond)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--max-connections", config.max_connections, "open connections (more get 503)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--read-timeout-ms", read_ms, "time to receive a whole request (408 beyond)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--idle-timeout-ms", idle_ms, "keep-alive wait for the next request")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--write-timeout-ms", write_ms, "time for a client to take its answer")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--shutdown-timeout-ms", shutdown_ms,
                   "SIGTERM: longest wait for in-flight requests")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--cache-max-age", config.cache_max_age_s,
                   "Cache-Control max-age of data answers, seconds")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--cors-origin", config.cors_origin,
                   "send CORS headers allowing this origin (e.g. '*')");
    app.add_flag("--admin-reload", config.admin_reload,
                 "enable POST /admin/reload (loopback clients only)");
    app.add_flag(
        "--wait-for-index", config.wait_for_index,
        "start even if the index cannot be opened: not ready (503) until a SIGHUP loads it");
    app.add_flag("--resident", config.resident,
                 "read the index into private huge pages (~45 MB per process, faster) instead of "
                 "sharing the mapping");
    try {
        app.parse(argc, argv);
        parse_listen(listen, config);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 1;
    }
    config.index_file = index_file;
    config.read_timeout = std::chrono::milliseconds(read_ms);
    config.idle_timeout = std::chrono::milliseconds(idle_ms);
    config.write_timeout = std::chrono::milliseconds(write_ms);
    config.shutdown_timeout = std::chrono::milliseconds(shutdown_ms);

    // A client that vanishes mid-answer must cost an error code, not the process.
    std::signal(SIGPIPE, SIG_IGN);

    try {
        hloc::serve::IndexHolder holder(config.index_file, config.resident);
        try {
            log_index(*holder.reload());
        } catch (const Error& e) {
            std::cerr << hloc::contract::to_text(hloc::contract::error_json(e)) << "\n";
            if (!config.wait_for_index) return 2;
            std::cerr << "not ready: waiting for SIGHUP to load " << config.index_file.string()
                      << "\n";
        }
        std::unique_ptr<hloc::serve::AccessLog> log;
        if (!access_log.empty()) log = std::make_unique<hloc::serve::AccessLog>(access_log);
        hloc::serve::Server server(config, holder, log.get());
        boost::asio::ip::tcp::endpoint bound;
        try {
            bound = server.listen();
        } catch (const boost::system::system_error& e) {
            std::cerr << hloc::contract::to_text(hloc::contract::error_json(Error(
                             ErrorCode::io_error, "cannot listen on " + listen + ": " + e.what())))
                      << "\n";
            return 2;
        }
        const auto address = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                     : bound.address().to_string();
        std::cerr << "listening on http://" << address << ":" << bound.port() << " with "
                  << (config.threads != 0 ? config.threads
                                          : std::max(1u, std::thread::hardware_concurrency()))
                  << " threads" << std::endl;
        const bool drained = server.run();
        std::cerr << (drained ? "stopped: every request answered"
                              : "stopped: the shutdown timeout cut requests off")
                  << std::endl;
        return drained ? 0 : 1;
    } catch (const Error& e) {
        std::cerr << hloc::contract::to_text(hloc::contract::error_json(e)) << "\n";
        return 2;
    }
}
