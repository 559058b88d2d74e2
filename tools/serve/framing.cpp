#include "framing.hpp"

#include <boost/beast/core/string.hpp>
#include <iterator>
#include <string_view>

#include "hloc/contract/request.hpp"

namespace hloc::serve {

namespace beast = boost::beast;
namespace http = boost::beast::http;

std::string framing_fault(const HttpRequest& header) {
    const auto te = header.equal_range(http::field::transfer_encoding);
    const auto cl = header.equal_range(http::field::content_length);
    const auto te_lines = std::distance(te.first, te.second);
    const auto cl_lines = std::distance(cl.first, cl.second);
    if (te_lines > 0) {
        if (header.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
        if (cl_lines > 0) return "both Transfer-Encoding and Content-Length";
        const auto value = te.first->value();
        if (te_lines > 1 || !beast::iequals(value, "chunked")) {
            const std::string_view text(value.data(), value.size());
            return "Transfer-Encoding must be exactly 'chunked' (got '" +
                   std::string(contract::clipped(text, 64)) + (te_lines > 1 ? "', ...)" : "')");
        }
    }
    if (cl_lines > 1) return "Content-Length is given more than once";
    if (cl_lines == 1 && cl.first->value().find(',') != beast::string_view::npos) {
        return "Content-Length is a list";
    }
    return {};
}

bool expects_continue(const HttpRequest& header) {
    const auto expect = header.find(http::field::expect);
    return header.version() >= 11 && expect != header.end() &&
           beast::iequals(expect->value(), "100-continue");
}

Request request_of(const HttpRequest& msg, bool from_loopback) {
    Request request;
    request.method = {msg.method_string().data(), msg.method_string().size()};
    request.target = {msg.target().data(), msg.target().size()};
    const auto ct = msg.find(boost::beast::http::field::content_type);
    if (ct != msg.end()) request.content_type = {ct->value().data(), ct->value().size()};
    request.body = msg.body();
    request.from_loopback = from_loopback;
    return request;
}

}  // namespace hloc::serve
