// Routing and handlers: a parsed request in, a complete answer out. No sockets here, so every
// route is a plain function of (request, index) and the connection code knows nothing of JSON.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "index_holder.hpp"
#include "metrics.hpp"

namespace hloc::serve {

struct Request {
    std::string_view method;  // as sent: "GET", "POST" ...
    std::string_view target;  // origin-form: "/v1/nearest?postcode=CH4%207QP"
    std::string_view content_type;
    std::string_view body;
    bool from_loopback = false;
};

enum class BodyKind : std::uint8_t { json, prometheus_text };

struct Response {
    unsigned status = 200;
    std::string body;
    BodyKind kind = BodyKind::json;
    bool cacheable = false;  // data that changes only on reload: Cache-Control max-age
    std::string_view allow;  // 405 and OPTIONS: the methods the route accepts
    bool head_only = false;  // HEAD: headers (with the GET body's length), no body
    bool close = false;      // the connection cannot continue (a protocol error)
    Route route = Route::unrouted;
};

// The error object of DESIGN.md for failures the engine has no code for (HTTP-level ones:
// not_found, method_not_allowed, payload_too_large ...). Engine errors use contract::error_json.
Response http_error(unsigned status, std::string_view code, std::string_view message,
                    Route route = Route::unrouted);

class Router {
  public:
    using MetricsRenderer = std::function<std::string()>;
    Router(const ServerConfig& config, IndexHolder& holder, MetricsRenderer render_metrics);

    // `index` is the caller's snapshot of the current index (null before the first load):
    // one request sees one index from start to end, whatever a reload does meanwhile.
    Response handle(const Request& request, const LoadedIndex* index) const;

    // The answer a request gets whatever its body holds (no route, a wrong method, no index
    // yet, a body that is not application/json, OPTIONS), or nothing when the route must read
    // the body. The server asks this before reading a body the client holds back with
    // `Expect: 100-continue`. `request.body` is not looked at.
    std::optional<Response> answer_before_body(const Request& request,
                                               const LoadedIndex* index) const;

  private:
    Response checked_answer(const Request& request, const LoadedIndex* index) const;
    Response answer(Route route, const std::string& segment, std::string_view query,
                    const Request& request, const LoadedIndex* index) const;
    Response admin_reload(const Request& request, Route route) const;

    const ServerConfig& config_;
    IndexHolder& holder_;
    MetricsRenderer render_metrics_;
    std::string openapi_body_;
};

}  // namespace hloc::serve
