// HTTP/1.1 message framing a request must pass before its body is read (RFC 9112 6.1, 6.3) and
// the 100-continue expectation (RFC 9110 10.1.1). No sockets: the fuzz target runs these on
// Beast's parse of arbitrary bytes.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "router.hpp"

namespace hloc::serve {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

// What makes the request's length ambiguous, or "" when nothing does. A server and a proxy in
// front of it must agree where a request ends, or the bytes after it can be read as a request
// of the attacker's (smuggling). So anything but at most one plain Content-Length, or one
// Transfer-Encoding of exactly "chunked" in HTTP/1.1 without a Content-Length, is refused; the
// caller answers 400 and closes. Beast 1.74 alone accepts "chunked, identity" (as no body),
// "gzip, chunked" (as chunked) and repeated equal Content-Lengths.
std::string framing_fault(const HttpRequest& header);

// `Expect: 100-continue` in HTTP/1.1. An HTTP/1.0 client cannot read 100 Continue, so there the
// expectation is ignored.
bool expects_continue(const HttpRequest& header);

// The router's view of a parsed request (views into `msg`, which must outlive it).
Request request_of(const HttpRequest& msg, bool from_loopback);

}  // namespace hloc::serve
