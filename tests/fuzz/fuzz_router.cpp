// libFuzzer: the service's request path without sockets. Two views of the same bytes:
//   1. split at the first three '\n' into method, target, Content-Type and body, through
//      Router::handle, with the index of $HLOC_FUZZ_INDEX (the tiny test index) and with none
//      ("not ready");
//   2. as raw HTTP/1.1 through Beast's request parser, under the server's limits; a header that
//      parses goes through framing_fault and expects_continue, a whole request through the router.
// Properties: never 500 (every failure is the client's, with its own code), every JSON answer
// parses, a HEAD answer is marked head-only, and nothing reads out of bounds (AddressSanitizer)
// or crashes.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "config.hpp"
#include "framing.hpp"
#include "index_holder.hpp"
#include "router.hpp"

namespace {

using hloc::serve::Request;
using hloc::serve::Response;

struct Fixture {
    hloc::serve::ServerConfig config;
    std::unique_ptr<hloc::serve::IndexHolder> holder;
    std::shared_ptr<const hloc::serve::LoadedIndex> index;
    std::unique_ptr<hloc::serve::Router> router;

    Fixture() {
        config.max_bulk_items = 50;  // the bulk routes' work stays small per input
        const char* file = std::getenv("HLOC_FUZZ_INDEX");
        holder = std::make_unique<hloc::serve::IndexHolder>(file != nullptr ? file : "", false);
        if (file != nullptr) index = holder->reload();  // throws (and stops) on a bad file
        router = std::make_unique<hloc::serve::Router>(config, *holder,
                                                       [] { return std::string("# metrics\n"); });
    }
};

void check(const Response& response) {
    if (response.status == 500) std::abort();
    if (response.status == 204) return;
    if (response.kind == hloc::serve::BodyKind::json && !nlohmann::json::accept(response.body)) {
        std::abort();
    }
}

void route(const Fixture& f, const Request& request) {
    for (const auto* index :
         {f.index.get(), static_cast<const hloc::serve::LoadedIndex*>(nullptr)}) {
        const auto response = f.router->handle(request, index);
        check(response);
        if (response.head_only != (request.method == "HEAD")) std::abort();
    }
    // Before the body (Expect: 100-continue): head_only is handle()'s to set.
    if (auto early = f.router->answer_before_body(request, f.index.get())) check(*early);
}

std::string_view next_field(std::string_view& rest) {
    const auto eol = rest.find('\n');
    const auto field = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    return field;
}

void parse_raw(const Fixture& f, std::string_view bytes) {
    namespace http = boost::beast::http;
    http::request_parser<http::string_body> parser;
    parser.header_limit(2048 + 8192);
    parser.body_limit(f.config.max_body_bytes);
    parser.eager(true);
    boost::system::error_code ec;
    std::size_t used = 0;
    while (used < bytes.size() && !parser.is_done()) {
        const auto n =
            parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        if (ec || n == 0) break;
        used += n;
    }
    if (!parser.is_header_done()) return;
    const auto& msg = parser.get();
    const auto fault = hloc::serve::framing_fault(msg);
    (void)hloc::serve::expects_continue(msg);
    if (!fault.empty() || ec || !parser.is_done()) return;
    route(f, hloc::serve::request_of(msg, false));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Fixture fixture;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::string_view rest = bytes;
    Request request;
    request.method = next_field(rest);
    request.target = next_field(rest);
    request.content_type = next_field(rest);
    request.body = rest;
    request.from_loopback = true;
    route(fixture, request);
    parse_raw(fixture, bytes);
    return 0;
}
