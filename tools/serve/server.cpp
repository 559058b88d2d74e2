#include "server.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <charconv>
#include <csignal>
#include <ctime>
#include <iostream>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "framing.hpp"
#include "hloc/contract/json_writer.hpp"

namespace hloc::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

class Connection;

namespace {

// How often each worker looks for connections past their deadline: timeouts are accurate to
// this, and no timer is touched per request.
constexpr auto kSweepInterval = std::chrono::milliseconds(100);
// After an error answer that closes the connection: how long, and how much, to keep reading
// (and discarding) so the client sees the answer instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 1 << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// accept() failing (out of descriptors: EMFILE, ENFILE) is retried after a wait that doubles
// from the first to the last, and logged at most once per kAcceptLogInterval with a count of
// the failures not logged: a full table must cost neither a spinning core nor a flooded log.
constexpr auto kAcceptRetryFirst = std::chrono::milliseconds(10);
constexpr auto kAcceptRetryLast = std::chrono::milliseconds(1000);
constexpr auto kAcceptLogInterval = std::chrono::seconds(10);

std::string_view status_line(unsigned status) {
    switch (status) {
        case 200:
            return "HTTP/1.1 200 OK\r\n";
        case 204:
            return "HTTP/1.1 204 No Content\r\n";
        case 400:
            return "HTTP/1.1 400 Bad Request\r\n";
        case 403:
            return "HTTP/1.1 403 Forbidden\r\n";
        case 404:
            return "HTTP/1.1 404 Not Found\r\n";
        case 405:
            return "HTTP/1.1 405 Method Not Allowed\r\n";
        case 408:
            return "HTTP/1.1 408 Request Timeout\r\n";
        case 413:
            return "HTTP/1.1 413 Content Too Large\r\n";
        case 414:
            return "HTTP/1.1 414 URI Too Long\r\n";
        case 415:
            return "HTTP/1.1 415 Unsupported Media Type\r\n";
        case 422:
            return "HTTP/1.1 422 Unprocessable Content\r\n";
        case 431:
            return "HTTP/1.1 431 Request Header Fields Too Large\r\n";
        case 503:
            return "HTTP/1.1 503 Service Unavailable\r\n";
        default:
            return "HTTP/1.1 500 Internal Server Error\r\n";
    }
}

void log_line(const std::string& text) {
    // One write per line: several threads may log at once.
    std::cerr << (text + "\n") << std::flush;
}

}  // namespace

struct Worker {
    Worker(Server& s, unsigned n)
        : server(s), id(n), ioc(1), guard(asio::make_work_guard(ioc)), sweep(ioc) {
        cache_control =
            "Cache-Control: public, max-age=" + std::to_string(s.config().cache_max_age_s) + "\r\n";
        if (!s.config().cors_origin.empty()) {
            cors = "Access-Control-Allow-Origin: " + s.config().cors_origin +
                   "\r\nAccess-Control-Allow-Methods: GET, HEAD, POST, OPTIONS"
                   "\r\nAccess-Control-Allow-Headers: Content-Type\r\nAccess-Control-Max-Age: "
                   "86400\r\nVary: Origin\r\n";
        }
    }

    // The index for the next request: a cached shared_ptr, refreshed only when a reload has
    // bumped the generation, so requests do not contend on one reference count.
    const LoadedIndex* current_index() {
        const auto g = server.holder().generation();
        if (g != generation) {
            index = server.holder().current();
            generation = g;
        }
        return index.get();
    }

    std::string_view date_header() {
        const std::time_t now = std::time(nullptr);
        if (now != date_second) {
            date_second = now;
            std::tm tm{};
            gmtime_r(&now, &tm);
            date_len = std::strftime(date, sizeof date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        }
        return {date, date_len};
    }

    void start_sweep();
    void stop_connections();
    void shed_oldest_idle();

    // Steady-clock nanoseconds since the oldest idle connection began waiting (max: none).
    std::int64_t oldest_idle_ns() const {
        return idle_count.load(std::memory_order_relaxed) == 0
                   ? std::numeric_limits<std::int64_t>::max()
                   : idle_since_ns.load(std::memory_order_relaxed);
    }

    Server& server;
    unsigned id;
    WorkerMetrics metrics;
    std::unordered_set<Connection*> connections;
    // Keep-alive connections waiting for a request, oldest first: the ones shed, front first,
    // when the server is full. Its size and the front's age are published for the acceptor.
    std::list<Connection*> idle;
    std::atomic<std::int64_t> idle_since_ns{std::numeric_limits<std::int64_t>::max()};
    std::atomic<std::size_t> idle_count{0};
    std::atomic<bool> shed_pending{false};  // the acceptor has asked for one to be shed
    std::uint64_t generation = 0;
    std::shared_ptr<const LoadedIndex> index;
    std::string cache_control, cors;
    std::time_t date_second = 0;
    char date[64] = {};
    std::size_t date_len = 0;
    // Last, so destroyed first: handlers still queued (after a forced stop) hold connections
    // whose destructors touch the members above.
    asio::io_context ioc;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
    asio::steady_timer sweep;
};

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(Worker& worker, tcp::socket socket, bool reject)
        : worker_(worker),
          socket_(std::move(socket)),
          reject_(reject),
          buffer_(worker.server.config().max_url_bytes + worker.server.config().max_header_bytes +
                  worker.server.config().max_body_bytes + 4096) {
        worker_.server.open_connections().fetch_add(1, std::memory_order_relaxed);
        error_code ec;
        const auto remote = socket_.remote_endpoint(ec);
        if (!ec) {
            loopback_ = remote.address().is_loopback();
            remote_ = remote.address().to_string();
        }
        head_.reserve(512);
    }

    ~Connection() {
        set_phase(Phase::closed);
        worker_.connections.erase(this);
        worker_.metrics.connection_closed();
        worker_.server.open_connections().fetch_sub(1, std::memory_order_relaxed);
    }

    // On the worker's thread.
    void start() {
        worker_.connections.insert(this);
        worker_.metrics.connection_opened();
        // Non-blocking for the connection's whole life: answer() first writes at once, and
        // setting the mode there, per answer, cost an ioctl per request (asio issues one each
        // time). Asynchronous operations behave the same in either mode.
        error_code ec;
        socket_.non_blocking(true, ec);
        if (ec) return close();
        read_next();
    }

    // SIGTERM: a connection waiting for its next request goes now; one reading or answering
    // a request finishes it first (on_write then closes, since the server is stopping).
    void on_stop() {
        if (phase_ == Phase::idle) close();
    }

    // The server is full and this is its worker's longest-idle connection: closed to make room.
    void shed() {
        worker_.metrics.connection_shed();
        close();
    }

    void on_sweep(Clock::time_point now) {
        if (phase_ == Phase::closed || now < deadline_) return;
        if (phase_ == Phase::writing) {
            // The client took bytes since the deadline was set, though no write completed (a
            // large send buffer wakes the writer only once it is half empty): still progress.
            const auto acked = acked_bytes();
            if (acked > acked_at_deadline_) {
                acked_at_deadline_ = acked;
                deadline_ = now + config().write_timeout;
                return;
            }
        }
        if (phase_ == Phase::reading) {
            // Too slow a client (slowloris): stop reading, answer 408 from on_read.
            timed_out_ = true;
            error_code ec;
            socket_.cancel(ec);
            deadline_ = Clock::time_point::max();
        } else {
            close();
        }
    }

    // After a forced stop (second signal, shutdown timeout), on the thread that ran run(),
    // with every worker ended: an answer being written is cut (and logged so). True when a
    // request was being read and will never be answered.
    bool abandon() {
        if (phase_ == Phase::writing) finish_answer();
        return phase_ == Phase::reading;
    }

  private:
    enum class Phase : std::uint8_t { idle, reading, writing, lingering, closed };

    const ServerConfig& config() const { return worker_.server.config(); }

    // Every phase change: entering idle queues the connection at the back of its worker's idle
    // list, leaving it takes it out, and the list's front age and size are republished.
    void set_phase(Phase next) {
        auto& w = worker_;
        if (next == Phase::idle && !idle_pos_) {
            idle_pos_ = w.idle.insert(w.idle.end(), this);
            if (w.idle.size() == 1)
                w.idle_since_ns.store(Clock::now().time_since_epoch().count(),
                                      std::memory_order_relaxed);
        } else if (next != Phase::idle && idle_pos_) {
            const bool was_front = *idle_pos_ == w.idle.begin();
            w.idle.erase(*idle_pos_);
            idle_pos_.reset();
            if (was_front && !w.idle.empty())
                w.idle_since_ns.store(w.idle.front()->idle_since_ns_, std::memory_order_relaxed);
        }
        if (next == Phase::idle) idle_since_ns_ = Clock::now().time_since_epoch().count();
        w.idle_count.store(w.idle.size(), std::memory_order_relaxed);
        phase_ = next;
    }

    void read_next() {
        if (worker_.server.stopping()) return linger_close();
        if (buffer_.size() > 0) return read_request();  // a pipelined request is already here
        set_phase(Phase::idle);
        deadline_ = Clock::now() + config().idle_timeout;
        socket_.async_read_some(buffer_.prepare(4096),
                                [self = shared_from_this()](error_code ec, std::size_t n) {
                                    self->buffer_.commit(n);
                                    if (ec || self->phase_ == Phase::closed) return self->close();
                                    self->read_request();
                                });
    }

    void read_request() {
        set_phase(Phase::reading);
        deadline_ = Clock::now() + config().read_timeout;
        parser_.emplace();
        // The request line and headers together; on_read tells 414 from 431 by the line's length.
        parser_->header_limit(
            static_cast<std::uint32_t>(config().max_url_bytes + config().max_header_bytes));
        parser_->body_limit(config().max_body_bytes);
        // The header first: its framing is checked, and a held-back body is asked for (or
        // refused), before any body byte is read.
        // Most requests arrive whole in one read: their header is parsed here, at once, as
        // beast's read would parse it (one put of the buffered bytes), without the posted
        // completion that costs a turn of the event loop, and an epoll_wait, per request. A
        // header not yet whole is read on asynchronously from where this put stopped.
        if (buffer_.size() > 0) {
            error_code ec;
            buffer_.consume(parser_->put(buffer_.data(), ec));
            if (ec != http::error::need_more && (ec || parser_->is_header_done()))
                return on_header(ec);
        }
        http::async_read_header(
            socket_, buffer_, *parser_,
            [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(error_code ec) {
        if (phase_ == Phase::closed) return;
        if (ec || timed_out_) return on_read(ec);
        const auto& msg = parser_->get();
        start_request(msg);
        if (target_.size() > config().max_url_bytes) {
            return respond(http_error(414, "uri_too_long",
                                      "the request target is longer than " +
                                          std::to_string(config().max_url_bytes) + " bytes"),
                           true);
        }
        if (reject_) {
            return respond(http_error(503, "too_many_connections",
                                      "the server has " + std::to_string(config().max_connections) +
                                          " connections open; retry later"),
                           true);
        }
        if (const auto fault = framing_fault(msg); !fault.empty()) {
            return respond(http_error(400, "bad_request", "malformed HTTP request: " + fault),
                           true);
        }
        if (parser_->is_done()) return on_read({});
        if (!expects_continue(msg)) return read_body();
        // RFC 9110 10.1.1: the client waits for 100 Continue before sending the body, so a
        // request refused whatever its body says is answered now, unread, and the connection
        // closed (its body may still come; linger_close discards it).
        if (auto refused = worker_.server.router().answer_before_body(request_of(msg, loopback_),
                                                                      worker_.current_index())) {
            return respond(std::move(*refused), true);
        }
        asio::async_write(socket_, asio::buffer(kContinue),
                          [self = shared_from_this()](error_code e, std::size_t) {
                              if (self->phase_ == Phase::closed) return;
                              if (e && !self->timed_out_) return self->close();
                              if (e) return self->on_read(e);
                              self->read_body();
                          });
    }

    void read_body() {
        http::async_read(
            socket_, buffer_, *parser_,
            [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
    }

    void start_request(const HttpRequest& msg) {
        request_start_ = Clock::now();
        worker_.metrics.request_started();
        in_request_ = true;
        // Views into the parsed message, which lives until the next request is read.
        method_ = {msg.method_string().data(), msg.method_string().size()};
        target_ = {msg.target().data(), msg.target().size()};
    }

    void on_read(error_code ec) {
        if (phase_ == Phase::closed) return;
        if (timed_out_) {
            return respond(http_error(408, "request_timeout",
                                      "the request was not received within " +
                                          std::to_string(config().read_timeout.count()) + " ms"),
                           true);
        }
        if (ec) {
            if (ec == http::error::body_limit) {
                return respond(http_error(413, "payload_too_large",
                                          "the body is larger than " +
                                              std::to_string(config().max_body_bytes) + " bytes"),
                               true);
            }
            if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
                return respond(
                    request_line_too_long()
                        ? http_error(414, "uri_too_long",
                                     "the request target is longer than " +
                                         std::to_string(config().max_url_bytes) + " bytes")
                        : http_error(431, "headers_too_large",
                                     "the request headers are larger than " +
                                         std::to_string(config().max_header_bytes) + " bytes"),
                    true);
            }
            if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
                ec != http::error::end_of_stream && ec != http::error::partial_message) {
                return respond(
                    http_error(400, "bad_request", "malformed HTTP request: " + ec.message()),
                    true);
            }
            return close();  // the client went away
        }
        // on_header has started the request and made the checks that need no body.
        auto& msg = parser_->get();
        const bool keep_alive = msg.keep_alive();
        // HTTP/1.0 closes by default: a connection kept open must say so (RFC 9112 9.3).
        say_keep_alive_ = keep_alive && msg.version() < 11;
        respond(worker_.server.router().handle(request_of(msg, loopback_), worker_.current_index()),
                !keep_alive);
    }

    // Whether the request line exceeds the URL limit. Beast consumes a complete request line
    // before it reads the fields, so a parsed target says the line was whole; otherwise the
    // line is what the buffer holds up to its first CRLF.
    bool request_line_too_long() const {
        const auto target = parser_->get().target();
        if (!target.empty()) return target.size() > config().max_url_bytes;
        const auto data = buffer_.cdata();
        const std::string_view text(static_cast<const char*>(data.data()), data.size());
        const auto eol = text.find("\r\n");
        return (eol == std::string_view::npos ? text.size() : eol) > config().max_url_bytes + 16;
    }

    void respond(Response response, bool close_after) {
        if (!in_request_) {  // refused before a request was complete: still counted and timed
            request_start_ = Clock::now();
            worker_.metrics.request_started();
            in_request_ = true;
            if (method_.empty()) method_ = "-";
        }
        close_after_write_ = close_after || response.close || worker_.server.stopping();
        route_ = response.route;
        status_ = response.status;
        body_ = std::move(response.body);
        // The router marks HEAD answers; the refusals made here (413, 431, 400 ...) are marked
        // by the method read so far. Either way a HEAD answer has no body, or a keep-alive
        // client would read it as the start of the next answer.
        const bool send_body =
            !response.head_only && !(parser_ && parser_->get().method() == http::verb::head);

        head_.clear();
        head_ += status_line(response.status);
        head_ += "Server: hospital-locator\r\n";
        head_ += worker_.date_header();
        if (!response.allow.empty()) {
            head_ += "Allow: ";
            head_ += response.allow;
            head_ += "\r\n";
        }
        head_ += worker_.cors;
        if (response.status != 204) {
            head_ += response.kind == BodyKind::json
                         ? std::string_view("Content-Type: application/json\r\n")
                         : std::string_view(
                               "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
            head_ += response.cacheable ? std::string_view(worker_.cache_control)
                                        : std::string_view("Cache-Control: no-store\r\n");
            head_ += "Content-Length: ";
            char digits[24];  // to_chars, not snprintf: a printf parse per answer (1 % of CPU)
            head_.append(digits, std::to_chars(digits, digits + sizeof digits, body_.size()).ptr);
            head_ += "\r\n";
        } else {
            body_.clear();
        }
        if (close_after_write_)
            head_ += "Connection: close\r\n";
        else if (say_keep_alive_)
            head_ += "Connection: keep-alive\r\n";
        say_keep_alive_ = false;
        head_ += "\r\n";

        set_phase(Phase::writing);
        const auto now = Clock::now();
        deadline_ = now + config().write_timeout;
        bytes_ = send_body ? body_.size() : 0;
        // Counted and logged as the answer is handed to the socket, not when the write
        // completes: a client may read it and send its next request (to another worker, say
        // GET /metrics) before this one resumes, and must find it counted.
        const auto micros = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - request_start_).count());
        worker_.metrics.count(route_, status_, micros);
        worker_.metrics.request_finished();
        in_request_ = false;
        micros_ = micros;
        answering_ = true;
        sent_ = 0;
        due_ = head_.size() + bytes_;
        // Most answers fit the socket's buffer: written at once, they are logged at once, and
        // under the log's lock, so the access log keeps the order in which clients got their
        // answers (a client may read this one and send its next request, to another worker,
        // before this thread wrote the line).
        std::unique_lock<std::recursive_mutex> in_order;
        if (auto* log = worker_.server.access_log()) in_order = std::unique_lock(log->order());
        error_code ec;
        sent_ = socket_.write_some(unsent(), ec);  // 0 on an error, which write_more then meets
        if (sent_ == due_) {
            finish_answer();
            in_order = {};
            return asio::post(socket_.get_executor(),
                              [self = shared_from_this()] { self->on_write({}); });
        }
        // The write deadline's progress baseline (on_sweep), only for an answer still being
        // written: SIOCOUTQ is a system call, and most answers never need it.
        acked_at_deadline_ = acked_bytes();
        write_more();
    }

    // What is left of the answer: the rest of the head, then the rest of the body.
    std::array<asio::const_buffer, 2> unsent() const {
        const std::size_t head_sent = std::min(sent_, head_.size());
        const std::size_t body_sent = sent_ - head_sent;
        return {asio::buffer(head_.data() + head_sent, head_.size() - head_sent),
                asio::buffer(body_.data() + body_sent, bytes_ - body_sent)};
    }

    // Bytes of this answer the client has acknowledged: those handed to the socket less those
    // still in its send queue (SIOCOUTQ). Only its growth matters; it may start below zero
    // while a previous answer's tail is still queued.
    std::int64_t acked_bytes() {
        int queued = 0;
        if (ioctl(socket_.native_handle(), SIOCOUTQ, &queued) != 0) queued = 0;
        return static_cast<std::int64_t>(sent_) - queued;
    }

    // The write deadline follows progress, as nginx's send_timeout does: it is re-armed each
    // time bytes are taken by the socket, so a slow but steady reader gets its whole answer
    // and only a client that takes nothing for write_timeout is cut off.
    void write_more() {
        socket_.async_write_some(
            unsent(), [self = shared_from_this()](error_code ec, std::size_t n) {
                self->sent_ += n;
                if (n > 0 && self->phase_ == Phase::writing) {
                    self->deadline_ = Clock::now() + self->config().write_timeout;
                    self->acked_at_deadline_ = self->acked_bytes();
                }
                if (!ec && self->sent_ < self->due_) return self->write_more();
                self->on_write(ec);
            });
    }

    // The answer's end, whole or cut: the access log line is written now, so it can say which
    // (the status was counted, and the request timed, as the answer was handed over).
    void finish_answer() {
        if (!answering_) return;
        answering_ = false;
        const bool cut = sent_ < due_;
        if (cut) {
            worker_.metrics.answer_cut(due_ - sent_);
            if (worker_.server.stopping()) worker_.server.count_cut_in_drain();
        }
        if (auto* log = worker_.server.access_log()) {
            const std::size_t body_sent = sent_ > head_.size() ? sent_ - head_.size() : 0;
            log->write(method_, target_, status_, body_sent, bytes_, cut, micros_, remote_);
        }
    }

    void on_write(error_code ec) {
        finish_answer();
        method_ = {};
        target_ = {};
        if (ec) return close();
        if (close_after_write_) return linger_close();
        read_next();
    }

    // Half-close, then read and discard what the client still sends, briefly: closing with
    // unread data would reset the connection and could destroy the answer in flight.
    void linger_close() {
        if (phase_ == Phase::closed) return;
        error_code ec;
        socket_.shutdown(tcp::socket::shutdown_send, ec);
        if (ec) return close();
        set_phase(Phase::lingering);
        deadline_ = Clock::now() + kLingerTime;
        buffer_.consume(buffer_.size());
        linger();
    }

    void linger() {
        socket_.async_read_some(buffer_.prepare(4096),
                                [self = shared_from_this()](error_code ec, std::size_t n) {
                                    self->lingered_ += n;
                                    if (ec || self->lingered_ > kLingerBytes) return self->close();
                                    self->linger();
                                });
    }

    void close() {
        if (phase_ == Phase::closed) return;
        set_phase(Phase::closed);
        error_code ec;
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
    }

    Worker& worker_;
    tcp::socket socket_;
    bool reject_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Phase phase_ = Phase::idle;
    std::optional<std::list<Connection*>::iterator> idle_pos_;  // in worker_.idle while idle
    std::int64_t idle_since_ns_ = 0;
    Clock::time_point deadline_ = Clock::time_point::max();
    bool timed_out_ = false;
    bool close_after_write_ = false;
    bool in_request_ = false;
    bool loopback_ = false;
    bool say_keep_alive_ = false;
    bool answering_ = false;  // an answer handed to the socket, not yet logged
    std::uint64_t micros_ = 0;
    std::string remote_;
    std::string head_, body_;
    std::string_view method_, target_;
    Clock::time_point request_start_;
    Route route_ = Route::unrouted;
    unsigned status_ = 0;
    std::size_t bytes_ = 0;               // body bytes due (none for HEAD)
    std::size_t sent_ = 0;                // head and body bytes the socket has taken
    std::size_t due_ = 0;                 // head and body bytes of the answer
    std::int64_t acked_at_deadline_ = 0;  // acked_bytes() when the write deadline was last set
    std::size_t lingered_ = 0;
};

void Worker::start_sweep() {
    sweep.expires_after(kSweepInterval);
    sweep.async_wait([this](error_code ec) {
        if (ec) return;
        const auto now = Clock::now();
        // Copy first: acting on a connection may end it, which erases it from the set.
        std::vector<std::shared_ptr<Connection>> live;
        live.reserve(connections.size());
        for (auto* c : connections) live.push_back(c->shared_from_this());
        for (auto& c : live) c->on_sweep(now);
        live.clear();
        if (!(server.stopping() && connections.empty())) start_sweep();
    });
}

void Worker::shed_oldest_idle() {
    shed_pending.store(false, std::memory_order_relaxed);
    if (idle.empty()) return;
    idle.front()->shared_from_this()->shed();
}

void Worker::stop_connections() {
    std::vector<std::shared_ptr<Connection>> live;
    for (auto* c : connections) live.push_back(c->shared_from_this());
    for (auto& c : live) c->on_stop();
    guard.reset();
}

struct Server::Control {
    Control() : acceptor(ioc), signals(ioc, SIGTERM, SIGINT, SIGHUP), retry(ioc), drain(ioc) {}
    asio::io_context ioc{1};
    tcp::acceptor acceptor;
    asio::signal_set signals;
    asio::steady_timer retry;
    asio::steady_timer drain;
    std::size_t next_worker = 0;
    std::chrono::milliseconds accept_retry{0};  // 0 after a success
    Clock::time_point accept_logged{};          // the last "accept failed" line
    std::uint64_t accept_failures_unlogged = 0;
    std::size_t workers_done = 0;
    bool drained = true;
    bool forced = false;  // a second signal stopped the workers
    // Reloads run here, one at a time, never on the control thread: opening and verifying a
    // 45 MB file (or one on a slow disk) must not hold up accepting connections or a SIGTERM.
    asio::thread_pool reloader{1};
    // A reload is queued and not yet started: more SIGHUPs join it, since it opens the file as
    // it is when it starts. A SIGHUP during a reload queues one more.
    std::atomic<bool> reload_queued{false};
};

Server::Server(const ServerConfig& config, IndexHolder& holder, AccessLog* access_log)
    : config_(config),
      holder_(holder),
      access_log_(access_log),
      router_(config, holder, [this] { return render_metrics(); }),
      control_(std::make_unique<Control>()) {
    const unsigned n =
        config.threads != 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(*this, i));
}

Server::~Server() = default;

std::string Server::render_metrics() const {
    std::vector<const WorkerMetrics*> metrics;
    for (const auto& w : workers_) metrics.push_back(&w->metrics);
    IndexGauge gauge;
    if (const auto index = holder_.current()) {
        gauge.loaded = true;
        gauge.checksum = index->info.checksum;
        gauge.built_at = index->info.built_at;
        gauge.file = index->file.string();
        gauge.postcodes = index->info.postcodes;
        gauge.located = index->info.located;
        gauge.sites = index->info.sites;
        gauge.treatments = index->info.treatments.size();
        gauge.file_bytes = index->info.file_bytes;
    }
    return serve::render_metrics(metrics, gauge, reloads_.load(), holder_.reloads_failed(),
                                 started_);
}

tcp::endpoint Server::listen() {
    auto& acceptor = control_->acceptor;
    asio::ip::tcp::resolver resolver(control_->ioc);
    const auto endpoints = resolver.resolve(
        config_.listen_host, std::to_string(config_.listen_port),
        asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service);
    const tcp::endpoint endpoint = *endpoints.begin();
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    return acceptor.local_endpoint();
}

StopReport Server::run() {
    accept_next();
    wait_for_signal();
    std::vector<std::thread> threads;
    for (auto& w : workers_) threads.emplace_back([this, &w = *w] { run_worker(w); });
    control_->ioc.run();
    for (auto& t : threads) t.join();
    // A reload already opening its file finishes (the file is read, not waited on); one still
    // queued sees stopping() and does nothing.
    control_->reloader.join();
    StopReport report;
    report.forced = control_->forced;
    report.timed_out = !control_->drained;
    // Every worker has ended: what a forced stop left behind is still here, and is cut now.
    for (auto& w : workers_) {
        std::vector<std::shared_ptr<Connection>> left;
        for (auto* c : w->connections) left.push_back(c->shared_from_this());
        for (auto& c : left) report.requests_cut += c->abandon() ? 1 : 0;
    }
    report.answers_cut = answers_cut_in_drain_.load();
    return report;
}

// Takes the next connection for the next worker in turn, then waits for another. The handler
// runs on the control thread; the connection starts on its worker's. Over max_connections it
// is still accepted, to be answered 503 rather than left waiting in the backlog.
void Server::accept_next() {
    auto& c = *control_;
    auto& worker = *workers_[c.next_worker++ % workers_.size()];
    c.acceptor.async_accept(worker.ioc, [this, &c, &worker](error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !c.acceptor.is_open()) return;
        if (ec) return accept_failed(ec);
        c.accept_retry = std::chrono::milliseconds(0);
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        // Full: the longest-idle keep-alive connection makes room; with none, this one is
        // refused (503).
        const bool reject =
            open_connections_.load(std::memory_order_relaxed) >= config_.max_connections &&
            !shed_idle_connection();
        // Moved, never copied: the worker must hold the last reference, since ~Connection edits
        // the worker's connection set. (A copy kept here ended a connection the worker had
        // already finished on this thread, racing the worker's sweep: ThreadSanitizer.)
        auto conn = std::make_shared<Connection>(worker, std::move(socket), reject);
        asio::post(worker.ioc, [conn = std::move(conn)] { conn->start(); });
        accept_next();
    });
}

// Out of descriptors, most likely. Waits (doubling, kAcceptRetryFirst to kAcceptRetryLast)
// before accepting again, and sheds an idle connection to free one; logs at a bounded rate.
void Server::accept_failed(error_code ec) {
    auto& c = *control_;
    c.accept_retry =
        c.accept_retry.count() == 0
            ? std::chrono::milliseconds(kAcceptRetryFirst)
            : std::min(c.accept_retry * 2, std::chrono::milliseconds(kAcceptRetryLast));
    shed_idle_connection();
    const auto now = Clock::now();
    if (c.accept_logged == Clock::time_point{} || now - c.accept_logged >= kAcceptLogInterval) {
        log_line("accept failed: " + ec.message() + "; retrying in " +
                 std::to_string(c.accept_retry.count()) + " ms (" +
                 std::to_string(c.accept_failures_unlogged) +
                 " more failures since the last such line)");
        c.accept_logged = now;
        c.accept_failures_unlogged = 0;
    } else {
        ++c.accept_failures_unlogged;
    }
    c.retry.expires_after(c.accept_retry);
    c.retry.async_wait([this](error_code e) {
        if (!e) accept_next();
    });
}

// Asks the worker whose oldest idle connection has waited longest to close it. False when no
// connection is idle (or every worker that has one is already shedding).
bool Server::shed_idle_connection() {
    Worker* oldest = nullptr;
    for (auto& w : workers_) {
        if (w->idle_count.load(std::memory_order_relaxed) == 0 ||
            w->shed_pending.load(std::memory_order_relaxed))
            continue;
        if (oldest == nullptr || w->oldest_idle_ns() < oldest->oldest_idle_ns()) oldest = w.get();
    }
    if (oldest == nullptr) return false;
    oldest->shed_pending.store(true, std::memory_order_relaxed);
    asio::post(oldest->ioc, [oldest] { oldest->shed_oldest_idle(); });
    return true;
}

// One signal at a time, on the control thread: SIGHUP reloads, the first SIGTERM or SIGINT
// starts the drain, a second one stops every worker where it stands.
void Server::wait_for_signal() {
    control_->signals.async_wait([this](error_code ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
            queue_reload();
            return wait_for_signal();
        }
        if (stopping()) {
            log_line("second signal: stopping now");
            control_->forced = true;
            for (auto& w : workers_) w->ioc.stop();
            return;
        }
        begin_drain();
        wait_for_signal();
    });
}

void Server::queue_reload() {
    auto& c = *control_;
    if (c.reload_queued.exchange(true)) return;
    asio::post(c.reloader, [this, &c] {
        c.reload_queued.store(false);
        if (!stopping()) reload_index();
    });
}

// On the reloader thread. The holder opens and verifies the file before swapping it in, so a
// refused file is only logged: the index being served keeps serving.
void Server::reload_index() {
    log_line("reloading " + holder_.file().string());
    const auto started = Clock::now();
    const auto took = [&started] {
        using std::chrono::milliseconds;
        const auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
        return std::to_string(ms.count()) + " ms";
    };
    try {
        const auto loaded = holder_.reload();
        reloads_.fetch_add(1);
        log_line("reloaded " + loaded->file.string() + " in " + took() + ": checksum " +
                 loaded->info.checksum + ", " + std::to_string(loaded->info.postcodes) +
                 " postcodes, " + std::to_string(loaded->info.sites) + " sites");
    } catch (const Error& e) {
        log_line("reload refused after " + took() + ", the previous index keeps serving: " +
                 contract::to_text(contract::error_json(e)));
    }
}

// No new connections; each worker closes its idle ones and finishes the rest, its io_context
// returning once they are gone. The drain timer bounds the wait: past shutdown_timeout every
// worker is stopped and run() reports that requests were cut off.
void Server::begin_drain() {
    auto& c = *control_;
    log_line("stopping: no new connections; finishing requests in flight");
    stopping_.store(true, std::memory_order_release);
    error_code ignored;
    c.acceptor.close(ignored);
    c.retry.cancel();
    for (auto& w : workers_) asio::post(w->ioc, [&w = *w] { w.stop_connections(); });
    c.drain.expires_after(config_.shutdown_timeout);
    c.drain.async_wait([this, &c](error_code e) {
        if (e) return;
        log_line("shutdown timeout: closing the remaining connections");
        c.drained = false;
        for (auto& w : workers_) w->ioc.stop();
    });
}

// A worker's thread. When the last one ends, whatever still holds the control thread's
// io_context open (the signal wait, the timers, the acceptor) is cancelled so run() returns.
void Server::run_worker(Worker& worker) {
    auto& c = *control_;
    worker.start_sweep();
    try {
        worker.ioc.run();
    } catch (const std::exception& e) {
        // Handlers catch their own errors; this is a bug, reported, never a silent exit.
        log_line(std::string("worker stopped by an exception: ") + e.what());
    }
    asio::post(c.ioc, [this, &c] {
        if (++c.workers_done == workers_.size()) {
            c.drain.cancel();
            c.signals.cancel();
            c.retry.cancel();
            error_code ignored;
            c.acceptor.close(ignored);
        }
    });
}

}  // namespace hloc::serve
