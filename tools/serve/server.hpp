// The HTTP/1.1 server: one acceptor, N worker threads each running its own io_context, and
// connections that live on exactly one worker (so a connection's state needs no locks).
//
// Life cycle, all driven from the thread that calls run():
//   SIGHUP            reload the index on a thread of its own (opened and verified first;
//                     refused files are logged and the old index keeps serving)
//   SIGTERM, SIGINT   stop accepting, close idle keep-alive connections, let every request
//                     already being read or answered finish, then return (exit 0); a second
//                     signal, or shutdown_timeout, cuts the wait short, and run()'s report
//                     counts what was cut (exit 1).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <vector>

#include "access_log.hpp"
#include "config.hpp"
#include "index_holder.hpp"
#include "router.hpp"

namespace hloc::serve {

struct Worker;

// How run() ended. Clean when the drain finished every request; otherwise what was lost.
struct StopReport {
    bool forced = false;             // a second SIGTERM/SIGINT stopped the workers where they stood
    bool timed_out = false;          // shutdown_timeout did
    std::uint64_t answers_cut = 0;   // answers not sent whole once stopping had begun
    std::uint64_t requests_cut = 0;  // requests being read when the workers were stopped
    bool clean() const { return answers_cut == 0 && requests_cut == 0; }
};

class Server {
  public:
    Server(const ServerConfig& config, IndexHolder& holder, AccessLog* access_log);
    ~Server();

    // Binds and listens; throws boost::system::system_error (address in use ...).
    boost::asio::ip::tcp::endpoint listen();
    // Serves until SIGTERM/SIGINT and the drain that follows, and says what the stop cut off.
    StopReport run();

    const ServerConfig& config() const { return config_; }
    const Router& router() const { return router_; }
    IndexHolder& holder() { return holder_; }
    AccessLog* access_log() const { return access_log_; }
    bool stopping() const { return stopping_.load(std::memory_order_acquire); }
    std::atomic<std::size_t>& open_connections() { return open_connections_; }
    void count_cut_in_drain() { answers_cut_in_drain_.fetch_add(1, std::memory_order_relaxed); }

  private:
    struct Control;
    std::string render_metrics() const;
    // The parts of run(): all but run_worker are on the thread that called run().
    void accept_next();
    void accept_failed(boost::system::error_code ec);
    bool shed_idle_connection();
    void wait_for_signal();
    void queue_reload();
    void reload_index();
    void begin_drain();
    void run_worker(Worker& worker);

    const ServerConfig& config_;
    IndexHolder& holder_;
    AccessLog* access_log_;
    Router router_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> open_connections_{0};
    std::atomic<std::uint64_t> reloads_{0};
    std::atomic<std::uint64_t> answers_cut_in_drain_{0};
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    // Last, so destroyed first: their queued handlers refer to the members above.
    std::unique_ptr<Control> control_;
    std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace hloc::serve
