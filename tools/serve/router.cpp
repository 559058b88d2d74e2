#include "router.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <mutex>
#include <optional>
#include <vector>

#include "hloc/contract/json_writer.hpp"
#include "hloc/contract/request.hpp"
#include "hloc/parallel.hpp"
#include "openapi.hpp"

namespace hloc::serve {

namespace {

using contract::Json;

Response json_response(unsigned status, std::string body, Route route, bool cacheable) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.route = route;
    r.cacheable = cacheable;
    return r;
}

Response engine_error(const Error& e, Route route) {
    return json_response(static_cast<unsigned>(http_status(e.code())),
                         contract::to_text(contract::error_json(e)), route, false);
}

Response invalid_parameter(std::string message, Route route) {
    return engine_error(Error(ErrorCode::invalid_parameter, std::move(message)), route);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RFC 3986 percent-decoding; in a query string '+' is a space too (HTML forms send
// "CH4+7QP"). False for a malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return true;
}

struct Param {
    std::string name, value;
};

// "a=1&b=2" -> pairs, decoded. Names must be unique: "k=1&k=5" is ambiguous, so refused.
Result<std::vector<Param>> parse_query(std::string_view query) {
    std::vector<Param> params;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty()) continue;
        const auto eq = item.find('=');
        Param p;
        if (!percent_decode(item.substr(0, eq), p.name, true) ||
            (eq != std::string_view::npos && !percent_decode(item.substr(eq + 1), p.value, true))) {
            return Error(ErrorCode::invalid_parameter, "the query string has a malformed %-escape");
        }
        for (const auto& q : params) {
            if (q.name == p.name) {
                return Error(ErrorCode::invalid_parameter,
                             "parameter '" + p.name + "' is given more than once");
            }
        }
        params.push_back(std::move(p));
    }
    return params;
}

using contract::shown;

// The parameters a nearest request takes, by name: the text ones, then the numbers.
using NR = contract::NearestRequest;
constexpr std::string_view kNearestParams = "postcode, lat, lon, k, treatment, max_miles, max_km";
constexpr std::pair<std::string_view, std::optional<double> NR::*> kNearestNumbers[] = {
    {"lat", &NR::lat},
    {"lon", &NR::lon},
    {"k", &NR::k},
    {"max_miles", &NR::max_miles},
    {"max_km", &NR::max_km}};

std::optional<double> NR::*nearest_number(std::string_view name) {
    for (const auto& [known, field] : kNearestNumbers) {
        if (known == name) return field;
    }
    return nullptr;
}

// A query string into the contract's request: names checked, numbers read, nothing validated.
Result<NR> nearest_request(const std::vector<Param>& params) {
    NR request;
    for (const auto& [name, value] : params) {
        if (name == "postcode") {
            request.postcode = value;
        } else if (name == "treatment") {
            request.treatment = value;
        } else if (const auto field = nearest_number(name)) {
            auto number = contract::parse_number(name, value);
            if (!number) return number.error();
            request.*field = *number;
        } else {
            return Error(ErrorCode::invalid_parameter, "unknown parameter " + shown(name) +
                                                           " (expected " +
                                                           std::string(kNearestParams) + ")");
        }
    }
    return request;
}

// One item of a bulk body into the contract's request.
Result<NR> nearest_request(const nlohmann::json& item) {
    if (!item.is_object()) {
        return Error(ErrorCode::invalid_parameter,
                     "an item must be an object with a postcode, or lat and lon");
    }
    NR request;
    for (const auto& [name, value] : item.items()) {
        if (name == "postcode" || name == "treatment") {
            if (!value.is_string())
                return Error(ErrorCode::invalid_parameter, name + " must be a string");
            (name == "postcode" ? request.postcode.emplace() : request.treatment) =
                value.get<std::string>();
        } else if (const auto field = nearest_number(name)) {
            if (!value.is_number())
                return Error(ErrorCode::invalid_parameter, name + " must be a number");
            request.*field = value.get<double>();
        } else {
            return Error(
                ErrorCode::invalid_parameter,
                "unknown field " + shown(name) + " (expected " + std::string(kNearestParams) + ")");
        }
    }
    return request;
}

Result<contract::ReverseRequest> reverse_request(const std::vector<Param>& params) {
    contract::ReverseRequest request;
    for (const auto& [name, value] : params) {
        auto* field = name == "lat"     ? &request.lat
                      : name == "lon"   ? &request.lon
                      : name == "limit" ? &request.limit
                                        : nullptr;
        if (field == nullptr) {
            return Error(ErrorCode::invalid_parameter,
                         "unknown parameter " + shown(name) + " (expected lat, lon, limit)");
        }
        auto number = contract::parse_number(name, value);
        if (!number) return number.error();
        *field = *number;
    }
    return request;
}

// Media type without parameters, compared case-insensitively: "Application/JSON; charset=utf-8".
bool is_json_media_type(std::string_view content_type) {
    auto semi = content_type.find(';');
    auto type = content_type.substr(0, semi);
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    constexpr std::string_view want = "application/json";
    return type.size() == want.size() &&
           std::equal(type.begin(), type.end(), want.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           });
}

struct RouteMatch {
    Route route = Route::not_found;
    std::string_view allow;  // the methods the path accepts
    std::string segment;     // {postcode} or {id}, decoded
    bool bad_escape = false;
};

// The path's route for `method`; `allow` is set whenever the path exists, so a wrong method
// becomes 405 with Allow.
RouteMatch match_route(std::string_view method, std::string_view path, bool admin_enabled) {
    RouteMatch m;
    const bool get = method == "GET" || method == "HEAD";
    const bool post = method == "POST";
    auto pick = [&](std::string_view allow, Route on_get, Route on_post) {
        m.allow = allow;
        if (get && on_get != Route::not_found)
            m.route = on_get;
        else if (post && on_post != Route::not_found)
            m.route = on_post;
        else if (method == "OPTIONS")
            m.route = Route::options;
        else
            m.route = Route::unrouted;  // the path exists; the method does not: 405
    };
    constexpr auto none = Route::not_found;
    if (path == "/v1/nearest")
        pick("GET, HEAD, POST, OPTIONS", Route::nearest_get, Route::nearest_post);
    else if (path == "/v1/postcodes")
        pick("GET, HEAD, POST, OPTIONS", Route::postcodes_reverse, Route::postcodes_post);
    else if (path == "/v1/sites")
        pick("GET, HEAD, OPTIONS", Route::sites, none);
    else if (path == "/v1/treatments")
        pick("GET, HEAD, OPTIONS", Route::treatments, none);
    else if (path == "/v1/info")
        pick("GET, HEAD, OPTIONS", Route::info, none);
    else if (path == "/healthz")
        pick("GET, HEAD, OPTIONS", Route::healthz, none);
    else if (path == "/readyz")
        pick("GET, HEAD, OPTIONS", Route::readyz, none);
    else if (path == "/metrics")
        pick("GET, HEAD, OPTIONS", Route::metrics, none);
    else if (path == "/openapi.json")
        pick("GET, HEAD, OPTIONS", Route::openapi, none);
    else if (path == "/admin/reload" && admin_enabled)
        pick("POST", none, Route::admin_reload);
    else {
        constexpr std::string_view postcodes = "/v1/postcodes/", sites = "/v1/sites/";
        const bool is_postcode = path.starts_with(postcodes) && path.size() > postcodes.size();
        const bool is_site = path.starts_with(sites) && path.size() > sites.size();
        if (is_postcode || is_site) {
            const auto seg = path.substr(is_postcode ? postcodes.size() : sites.size());
            if (seg.find('/') != std::string_view::npos) return m;  // deeper paths do not exist
            m.bad_escape = !percent_decode(seg, m.segment, false);
            pick("GET, HEAD, OPTIONS", is_postcode ? Route::postcode_get : Route::site, none);
        }
    }
    return m;
}

bool needs_index(Route r) {
    switch (r) {
        case Route::healthz:
        case Route::readyz:
        case Route::metrics:
        case Route::openapi:
        case Route::admin_reload:
        case Route::options:
        case Route::not_found:
        case Route::unrouted:
            return false;
        default:
            return true;
    }
}

// ---- the routes that answer from the index: parse -> contract -> engine -> writer ----------

Response ok(std::string body, Route route, bool cacheable) {
    return json_response(200, std::move(body), route, cacheable);
}

Response nearest_get(std::string_view query, const LoadedIndex& index, Route route) {
    auto params = parse_query(query);
    if (!params) return engine_error(params.error(), route);
    auto request = nearest_request(*params);
    if (!request) return engine_error(request.error(), route);
    auto q = contract::validate(index.engine, *request);
    if (!q) return engine_error(q.error(), route);
    auto answer = index.engine.nearest(*q);
    if (!answer) return engine_error(answer.error(), route);
    return ok(index.json.nearest(*answer), route, true);
}

Response postcodes_reverse(std::string_view query, const LoadedIndex& index, Route route) {
    auto params = parse_query(query);
    if (!params) return engine_error(params.error(), route);
    auto request = reverse_request(*params);
    if (!request) return engine_error(request.error(), route);
    auto q = contract::validate(index.engine, *request);
    if (!q) return engine_error(q.error(), route);
    auto hits = index.engine.reverse(*q);
    if (!hits) return engine_error(hits.error(), route);
    return ok(contract::to_text(contract::reverse_json(q->point, *hits)), route, true);
}

Response postcode_get(const std::string& postcode, const LoadedIndex& index, Route route) {
    auto record = index.engine.lookup(postcode);
    if (!record) return engine_error(record.error(), route);
    return ok(contract::to_text(contract::lookup_json(*record, postcode)), route, true);
}

Response site_get(const std::string& id, const LoadedIndex& index, Route route) {
    auto site = index.engine.find_site(id);
    if (!site) return engine_error(site.error(), route);
    return ok(index.json.site(site->index), route, true);
}

// Each item of a bulk body answered on its own, appended to `out`: one bad item never fails the
// others.
void nearest_item(std::string& out, const nlohmann::json& item, const LoadedIndex& index) {
    auto request = nearest_request(item);
    if (!request) {
        out += contract::to_text(contract::error_json(request.error()));
        return;
    }
    auto q = contract::validate(index.engine, *request);
    if (!q) {
        out += contract::to_text(contract::error_json(q.error()));
        return;
    }
    auto answer = index.engine.nearest(*q);
    if (!answer) {
        out += contract::to_text(contract::error_json(answer.error()));
        return;
    }
    index.json.append_nearest(out, *answer);
}

void lookup_item(std::string& out, const nlohmann::json& item, const LoadedIndex& index) {
    if (!item.is_string()) {
        out += contract::to_text(contract::error_json(
            Error(ErrorCode::invalid_parameter, "an item must be a postcode string")));
        return;
    }
    const auto& text = item.get_ref<const std::string&>();
    auto record = index.engine.lookup(text);
    out += record ? contract::to_text(contract::lookup_json(*record, text))
                  : contract::to_text(contract::error_json(record.error()));
}

// The items' answers, comma-separated, in order. A large body is answered on the server's
// `threads` (--threads; 0: one per core), each writing its own run of items: a bulk request's
// time is its answers', and the engine and the writer are safe to share.
std::string bulk_answers(const nlohmann::json& items, const LoadedIndex& index, bool nearest,
                         unsigned threads) {
    constexpr std::size_t kItemsPerRun = 128;
    const std::size_t n = items.size();
    std::vector<std::string> runs((n + kItemsPerRun - 1) / kItemsPerRun);
    std::exception_ptr failure;
    std::mutex failure_mutex;
    // Never more threads than cores: --threads may ask for more workers than there are cores.
    const unsigned cores = worker_count(0);
    const unsigned use = n < 2 * kItemsPerRun ? 1 : threads == 0 ? cores : std::min(threads, cores);
    parallel_for(n, use, kItemsPerRun, [&](std::size_t begin, std::size_t end) {
        try {
            auto& run = runs[begin / kItemsPerRun];
            run.reserve((end - begin) * (nearest ? 1600 : 256));
            for (std::size_t i = begin; i < end; ++i) {
                if (i > 0) run += ',';
                nearest ? nearest_item(run, items[i], index) : lookup_item(run, items[i], index);
            }
        } catch (...) {  // parallel_for's work must not throw; rethrown below
            std::lock_guard lock(failure_mutex);
            if (!failure) failure = std::current_exception();
        }
    });
    if (failure) std::rethrow_exception(failure);
    std::size_t size = 2;
    for (const auto& run : runs) size += run.size();
    std::string out;
    out.reserve(size);
    out += '[';
    for (const auto& run : runs) out += run;
    out += ']';
    return out;
}

Response bulk_post(std::string_view body, const LoadedIndex& index, std::size_t max_items,
                   unsigned threads, Route route) {
    nlohmann::json items;
    try {
        items = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception& e) {  // syntax, and numbers out of range
        std::string why = e.what();
        if (const auto at = why.find("] "); at != std::string::npos) why = why.substr(at + 2);
        return http_error(400, "invalid_json", "the body is not JSON: " + why, route);
    }
    const bool nearest = route == Route::nearest_post;
    if (!items.is_array()) {
        return http_error(400, "invalid_json",
                          nearest ? "the body must be a JSON array of query objects"
                                  : "the body must be a JSON array of postcode strings",
                          route);
    }
    if (items.size() > max_items) {
        return http_error(413, "too_many_items",
                          "at most " + std::to_string(max_items) + " items per request (got " +
                              std::to_string(items.size()) + ")",
                          route);
    }
    return ok(bulk_answers(items, index, nearest, threads), route, false);
}

}  // namespace

Response http_error(unsigned status, std::string_view code, std::string_view message, Route route) {
    return json_response(status, contract::to_text(contract::error_json(status, code, message)),
                         route, false);
}

Router::Router(const ServerConfig& config, IndexHolder& holder, MetricsRenderer render_metrics)
    : config_(config),
      holder_(holder),
      render_metrics_(std::move(render_metrics)),
      openapi_body_(openapi_document()) {}

Response Router::handle(const Request& request, const LoadedIndex* index) const {
    auto r = checked_answer(request, index);
    r.head_only = request.method == "HEAD";  // errors too: a HEAD answer never has a body
    return r;
}

Response Router::checked_answer(const Request& request, const LoadedIndex* index) const {
    if (auto refused = answer_before_body(request, index)) return std::move(*refused);
    const auto query_at = request.target.find('?');
    const auto query = query_at == std::string_view::npos ? std::string_view{}
                                                          : request.target.substr(query_at + 1);
    const auto m =
        match_route(request.method, request.target.substr(0, query_at), config_.admin_reload);
    try {
        return answer(m.route, m.segment, query, request, index);
    } catch (const Error& e) {
        return engine_error(e, m.route);
    } catch (const std::exception& e) {
        return engine_error(Error(ErrorCode::internal, e.what()), m.route);
    }
}

// The checks every route shares (route found, method allowed, index loaded, body type); none
// needs the body.
std::optional<Response> Router::answer_before_body(const Request& request,
                                                   const LoadedIndex* index) const {
    const auto path = request.target.substr(0, request.target.find('?'));
    const auto m = match_route(request.method, path, config_.admin_reload);
    if (m.route == Route::not_found) {
        return http_error(
            404, "not_found",
            "no route " + std::string(contract::clipped(path, 200)) + "; see /openapi.json",
            Route::not_found);
    }
    if (m.route == Route::unrouted) {
        auto r =
            http_error(405, "method_not_allowed",
                       std::string(contract::clipped(request.method, 32)) + " is not allowed on " +
                           std::string(path) + " (allowed: " + std::string(m.allow) + ")",
                       Route::not_found);
        r.allow = m.allow;
        return r;
    }
    if (m.route == Route::options) {
        Response r;
        r.status = 204;
        r.allow = m.allow;
        r.route = Route::options;
        return r;
    }
    if (m.bad_escape) return invalid_parameter("the path has a malformed %-escape", m.route);
    if (needs_index(m.route) && index == nullptr) {
        return http_error(503, "not_ready", "no index is loaded yet", m.route);
    }
    const bool is_post = m.route == Route::nearest_post || m.route == Route::postcodes_post;
    if (is_post && !is_json_media_type(request.content_type)) {
        return http_error(
            415, "unsupported_media_type",
            "the body must be application/json (got " +
                shown(request.content_type.empty() ? "no Content-Type" : request.content_type) +
                ")",
            m.route);
    }
    return std::nullopt;
}

Response Router::answer(Route route, const std::string& segment, std::string_view query,
                        const Request& request, const LoadedIndex* index) const {
    switch (route) {
        case Route::nearest_get:
            return nearest_get(query, *index, route);
        case Route::postcodes_reverse:
            return postcodes_reverse(query, *index, route);
        case Route::postcode_get:
            return postcode_get(segment, *index, route);
        case Route::nearest_post:
        case Route::postcodes_post:
            return bulk_post(request.body, *index, config_.max_bulk_items, config_.threads, route);
        case Route::sites:
            return ok(index->json.sites(), route, true);
        case Route::site:
            return site_get(segment, *index, route);
        case Route::treatments:
            return ok(index->treatments_body, route, true);
        case Route::info:
            return ok(index->info_body, route, true);
        case Route::healthz:
            return ok(R"({"status":"ok"})", route, false);
        case Route::readyz:
            if (index == nullptr)
                return http_error(503, "not_ready", "no index is loaded yet", route);
            return ok(index->ready_body, route, false);
        case Route::metrics: {
            auto r = ok(render_metrics_(), route, false);
            r.kind = BodyKind::prometheus_text;
            return r;
        }
        case Route::openapi:
            return ok(openapi_body_, route, true);
        case Route::admin_reload:
            return admin_reload(request, route);
        default:
            break;
    }
    return engine_error(Error(ErrorCode::internal, "unhandled route"), route);
}

Response Router::admin_reload(const Request& request, Route route) const {
    if (!request.from_loopback) {
        return http_error(403, "forbidden", "index reload is allowed from loopback clients only",
                          route);
    }
    try {
        const auto loaded = holder_.reload();
        const Json body = {{"status", "reloaded"},
                           {"checksum", loaded->info.checksum},
                           {"file", loaded->file.string()}};
        return ok(contract::to_text(body), route, false);
    } catch (const Error& e) {
        return engine_error(e, route);
    }
}

}  // namespace hloc::serve
