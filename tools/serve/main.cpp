// hospital-locator serve: the HTTP service over the engine (see tools/serve/server.hpp for the
// life cycle and router.cpp for the routes; /openapi.json describes them).
//
// Exit codes: 0 stopped by SIGTERM/SIGINT after finishing in-flight requests, 1 usage, or a
// stop that cut answers or requests off (a second signal, the shutdown timeout, a client that
// stopped reading during the drain), 2 the index was refused at start or the address could not
// be bound.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "access_log.hpp"
#include "hloc/contract/json_writer.hpp"
#include "hloc/parallel.hpp"
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

// The command line as CLI11 fills it: ServerConfig's own fields where an option maps straight
// onto one, and the text or milliseconds that checked_config turns into the rest.
struct Arguments {
    hloc::serve::ServerConfig config;
    std::string index_file = hloc::paths::default_index().string();
    std::string listen = "127.0.0.1:8080";
    std::string access_log;
    long long read_ms = config.read_timeout.count(), idle_ms = config.idle_timeout.count(),
              write_ms = config.write_timeout.count(),
              shutdown_ms = config.shutdown_timeout.count();
};

// Registers every option (in --help's order), each defaulting to the value `args` holds.
void add_options(CLI::App& app, Arguments& args) {
    auto& config = args.config;
    app.add_option("--index", args.index_file, "the index file (.hlx); SIGHUP reloads it")
        ->capture_default_str();
    app.add_option("--listen", args.listen, "address and port (port 0: any free port, logged)")
        ->capture_default_str();
    // Bounded as batch and the Python binding bound theirs: each worker is a thread with its
    // own event loop and descriptors, and thousands of them only exhaust the process.
    app.add_option(
           "--threads", config.threads,
           "worker threads (0: one per core; at most " + std::to_string(hloc::kMaxThreads) + ")")
        ->capture_default_str()
        ->check(CLI::Range(0u, hloc::kMaxThreads));
    app.add_option("--access-log", args.access_log,
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
    app.add_option("--max-connections", config.max_connections,
                   "open connections, at most the descriptor limit less a reserve (past it the "
                   "longest-idle one is closed, or the new one gets 503)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--read-timeout-ms", args.read_ms,
                   "time to receive a whole request (408 beyond)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--idle-timeout-ms", args.idle_ms, "keep-alive wait for the next request")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--write-timeout-ms", args.write_ms, "time for a client to take its answer")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--shutdown-timeout-ms", args.shutdown_ms,
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
}

// The settings the server runs with: the parsed arguments with --listen split into host and
// port and the timeouts made durations. Throws CLI::ValidationError for a bad --listen, so
// main reports it as it does CLI11's own usage errors.
hloc::serve::ServerConfig checked_config(const Arguments& args) {
    hloc::serve::ServerConfig config = args.config;
    parse_listen(args.listen, config);
    config.index_file = args.index_file;
    config.read_timeout = std::chrono::milliseconds(args.read_ms);
    config.idle_timeout = std::chrono::milliseconds(args.idle_ms);
    config.write_timeout = std::chrono::milliseconds(args.write_ms);
    config.shutdown_timeout = std::chrono::milliseconds(args.shutdown_ms);
    return config;
}

// The DESIGN.md error object, one line on stderr.
void print_error(const Error& e) {
    std::cerr << hloc::contract::to_text(hloc::contract::error_json(e)) << "\n";
}

// The first load. A refused index ends the process (false: exit 2) unless --wait-for-index
// asked to start unready, answering 503 until a SIGHUP loads a good file.
bool load_first_index(hloc::serve::IndexHolder& holder, const hloc::serve::ServerConfig& config) {
    try {
        log_index(*holder.reload());
    } catch (const Error& e) {
        print_error(e);
        if (!config.wait_for_index) return false;
        std::cerr << "not ready: waiting for SIGHUP to load " << config.index_file.string() << "\n";
    }
    return true;
}

// Descriptors kept back from client connections: stdio, the access log, the listening socket,
// the signal pipe, the index file while a reload opens its successor, and the three each event
// loop holds (epoll, its wake-up eventfd, a timerfd): one loop per worker and one for control.
unsigned reserved_descriptors(unsigned threads) { return 32 + 3 * (threads + 1); }

unsigned worker_threads(const hloc::serve::ServerConfig& config) {
    return config.threads != 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
}

// Raises the soft descriptor limit to the hard one (the default soft 1024 is far below the
// default --max-connections) and caps max_connections to what it leaves after the reserve, so
// that the server refuses or sheds connections before accept() runs out of descriptors.
// Returns the descriptor limit in force.
rlim_t fit_connections_to_descriptors(hloc::serve::ServerConfig& config) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return RLIM_INFINITY;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    if (limit.rlim_cur == RLIM_INFINITY) return limit.rlim_cur;
    const rlim_t reserve = reserved_descriptors(worker_threads(config));
    const rlim_t room = limit.rlim_cur > reserve ? limit.rlim_cur - reserve : 1;
    if (config.max_connections > room) config.max_connections = static_cast<std::size_t>(room);
    return limit.rlim_cur;
}

// The address actually bound, IPv6 in brackets as in a URL: with port 0 this line is the only
// place the chosen port is told (the tests read it), so it is flushed at once.
void log_listening(const boost::asio::ip::tcp::endpoint& bound,
                   const hloc::serve::ServerConfig& config, std::size_t asked_connections,
                   rlim_t descriptors) {
    const auto address = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                 : bound.address().to_string();
    std::cerr << "listening on http://" << address << ":" << bound.port() << " with "
              << worker_threads(config) << " threads, at most " << config.max_connections
              << " connections";
    if (config.max_connections < asked_connections) {
        std::cerr << " (--max-connections " << asked_connections << " capped: " << descriptors
                  << " descriptors, " << reserved_descriptors(worker_threads(config))
                  << " reserved)";
    }
    std::cerr << std::endl;
}

// Loads the index, binds, serves until stopped; returns the exit code (see the top of this
// file). `listen` is the --listen text, quoted when it cannot be bound.
int serve(hloc::serve::ServerConfig config, const std::string& listen,
          const std::string& access_log) {
    const auto asked_connections = config.max_connections;
    const auto descriptors = fit_connections_to_descriptors(config);
    try {
        hloc::serve::IndexHolder holder(config.index_file, config.resident);
        if (!load_first_index(holder, config)) return 2;
        std::unique_ptr<hloc::serve::AccessLog> log;
        if (!access_log.empty()) log = std::make_unique<hloc::serve::AccessLog>(access_log);
        hloc::serve::Server server(config, holder, log.get());
        boost::asio::ip::tcp::endpoint bound;
        try {
            bound = server.listen();
        } catch (const boost::system::system_error& e) {
            print_error(Error(ErrorCode::io_error, "cannot listen on " + listen + ": " + e.what()));
            return 2;
        }
        log_listening(bound, config, asked_connections, descriptors);
        const auto report = server.run();
        if (report.clean()) {
            std::cerr << "stopped: every request answered" << std::endl;
            return 0;
        }
        std::cerr << "stopped: "
                  << (report.forced      ? "a second signal"
                      : report.timed_out ? "the shutdown timeout"
                                         : "the drain")
                  << " cut off " << report.answers_cut << " answers and " << report.requests_cut
                  << " requests in flight" << std::endl;
        return 1;
    } catch (const Error& e) {
        print_error(e);
        return 2;
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Serve nearest-hospital queries over HTTP/1.1 (JSON; see GET /openapi.json).",
                 "hospital-locator serve"};
    Arguments args;
    add_options(app, args);
    hloc::serve::ServerConfig config;
    try {
        app.parse(argc, argv);
        config = checked_config(args);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 1;
    }

    // A client that vanishes mid-answer must cost an error code, not the process.
    std::signal(SIGPIPE, SIG_IGN);

    return serve(config, args.listen, args.access_log);
}
