#include "router.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

#include "hloc/geodesy.hpp"
#include "json_format.hpp"
#include "openapi.hpp"

namespace hloc::serve {

namespace {

using api::Json;

// Every dump replaces rather than throws on invalid UTF-8: a caller's bytes echoed in an answer
// or an error message ("%FF" as a postcode) must not turn a 400 into a 500.

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
                         api::error_json(e).dump(-1, ' ', false, Json::error_handler_t::replace),
                         route, false);
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

std::string shown(std::string_view text) {
    std::string s = "'";
    s += text.substr(0, 64);
    if (text.size() > 64) s += "...";
    s += "'";
    return s;
}

Result<double> parse_number(std::string_view name, std::string_view text) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(value)) {
        std::string m(name);
        m += " must be a number (got ";
        m += shown(text);
        m += ")";
        return Error(ErrorCode::invalid_parameter, std::move(m));
    }
    return value;
}

// k and limit: whole numbers; the engine checks the range 1..kMaxK and says so.
Result<std::uint32_t> parse_count(std::string_view name, std::string_view text) {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end) {
        std::string m(name);
        m += " must be a whole number between 1 and " + std::to_string(kMaxK) + " (got ";
        m += shown(text);
        m += ")";
        return Error(ErrorCode::invalid_parameter, std::move(m));
    }
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(value, 0xFFFFFFFFu));
}

// The inputs of one nearest query, from a query string or a bulk item's JSON object.
struct NearestParams {
    std::optional<std::string> postcode;
    std::optional<double> lat, lon, max_miles, max_km;
    std::optional<std::uint32_t> k;
    std::string treatment;
};

constexpr std::string_view kNearestParams = "postcode, lat, lon, k, treatment, max_miles, max_km";

Result<NearestQuery> build_query(const Engine& engine, const NearestParams& p) {
    NearestQuery q;
    if (p.postcode) {
        if (p.lat || p.lon)
            return Error(ErrorCode::invalid_parameter, "give a postcode or lat and lon, not both");
        auto loc = engine.resolve(*p.postcode);
        if (!loc) return loc.error();
        q.origin = std::move(loc).value();
    } else if (p.lat && p.lon) {
        auto loc = engine.locate_point({*p.lat, *p.lon});
        if (!loc) return loc.error();
        q.origin = std::move(loc).value();
    } else if (p.lat || p.lon) {
        return Error(ErrorCode::invalid_parameter,
                     p.lat ? "lat is given without lon" : "lon is given without lat");
    } else {
        return Error(ErrorCode::invalid_parameter, "give a postcode, or lat and lon");
    }
    if (p.max_miles && p.max_km)
        return Error(ErrorCode::invalid_parameter, "give max_miles or max_km, not both");
    if (p.k) q.k = *p.k;
    q.treatment = p.treatment;
    if (p.max_miles) q.max_distance_m = *p.max_miles * kMetresPerMile;
    if (p.max_km) q.max_distance_m = *p.max_km * 1000.0;
    return q;
}

Result<NearestParams> nearest_params_from_query(const std::vector<Param>& params) {
    NearestParams p;
    for (const auto& [name, value] : params) {
        if (name == "postcode")
            p.postcode = value;
        else if (name == "treatment")
            p.treatment = value;
        else if (name == "k") {
            auto k = parse_count("k", value);
            if (!k) return k.error();
            p.k = *k;
        } else if (name == "lat" || name == "lon" || name == "max_miles" || name == "max_km") {
            auto v = parse_number(name, value);
            if (!v) return v.error();
            (name == "lat"         ? p.lat
             : name == "lon"       ? p.lon
             : name == "max_miles" ? p.max_miles
                                   : p.max_km) = *v;
        } else {
            return Error(ErrorCode::invalid_parameter, "unknown parameter " + shown(name) +
                                                           " (expected " +
                                                           std::string(kNearestParams) + ")");
        }
    }
    return p;
}

Result<NearestParams> nearest_params_from_json(const nlohmann::json& item, std::size_t at) {
    const std::string where = "item " + std::to_string(at);
    if (!item.is_object()) {
        return Error(ErrorCode::invalid_parameter,
                     where + " must be an object with a postcode, or lat and lon");
    }
    NearestParams p;
    for (const auto& [name, value] : item.items()) {
        if (name == "postcode" || name == "treatment") {
            if (!value.is_string())
                return Error(ErrorCode::invalid_parameter,
                             where + ": " + name + " must be a string");
            (name == "postcode" ? p.postcode.emplace() : p.treatment) = value.get<std::string>();
        } else if (name == "k") {
            if (!value.is_number_unsigned()) {
                return Error(
                    ErrorCode::invalid_parameter,
                    where + ": k must be a whole number between 1 and " + std::to_string(kMaxK));
            }
            p.k = static_cast<std::uint32_t>(
                std::min<std::uint64_t>(value.get<std::uint64_t>(), 0xFFFFFFFFu));
        } else if (name == "lat" || name == "lon" || name == "max_miles" || name == "max_km") {
            if (!value.is_number())
                return Error(ErrorCode::invalid_parameter,
                             where + ": " + name + " must be a number");
            (name == "lat"         ? p.lat
             : name == "lon"       ? p.lon
             : name == "max_miles" ? p.max_miles
                                   : p.max_km) = value.get<double>();
        } else {
            return Error(ErrorCode::invalid_parameter, where + ": unknown field " + shown(name) +
                                                           " (expected " +
                                                           std::string(kNearestParams) + ")");
        }
    }
    return p;
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

}  // namespace

Response http_error(unsigned status, std::string_view code, std::string_view message, Route route) {
    const Json body = {{"error", {{"code", code}, {"message", message}, {"status", status}}}};
    return json_response(status, body.dump(-1, ' ', false, Json::error_handler_t::replace), route,
                         false);
}

Router::Router(const ServerConfig& config, IndexHolder& holder, MetricsRenderer render_metrics)
    : config_(config),
      holder_(holder),
      render_metrics_(std::move(render_metrics)),
      openapi_body_(openapi_document()) {}

Response Router::handle(const Request& request, const LoadedIndex* index) const {
    const auto query_at = request.target.find('?');
    const auto path = request.target.substr(0, query_at);
    const auto query = query_at == std::string_view::npos ? std::string_view{}
                                                          : request.target.substr(query_at + 1);

    auto m = match_route(request.method, path, config_.admin_reload);
    if (m.route == Route::not_found) {
        return http_error(404, "not_found",
                          "no route " + std::string(path.substr(0, 200)) + "; see /openapi.json",
                          Route::not_found);
    }
    if (m.route == Route::unrouted) {
        auto r = http_error(405, "method_not_allowed",
                            std::string(request.method.substr(0, 32)) + " is not allowed on " +
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
    const bool head = request.method == "HEAD";
    auto finish = [head](Response r) {
        r.head_only = head;
        return r;
    };
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

    try {
        switch (m.route) {
            case Route::nearest_get: {
                auto params = parse_query(query);
                if (!params) return engine_error(params.error(), m.route);
                auto p = nearest_params_from_query(*params);
                if (!p) return engine_error(p.error(), m.route);
                auto q = build_query(index->engine, *p);
                if (!q) return engine_error(q.error(), m.route);
                auto answer = index->engine.nearest(*q);
                if (!answer) return engine_error(answer.error(), m.route);
                return finish(json_response(
                    200, nearest_text(index->nearest, index->engine, *answer), m.route, true));
            }
            case Route::postcodes_reverse: {
                auto params = parse_query(query);
                if (!params) return engine_error(params.error(), m.route);
                std::optional<double> lat, lon;
                std::uint32_t limit = 1;
                for (const auto& [name, value] : *params) {
                    if (name == "lat" || name == "lon") {
                        auto v = parse_number(name, value);
                        if (!v) return engine_error(v.error(), m.route);
                        (name == "lat" ? lat : lon) = *v;
                    } else if (name == "limit") {
                        auto v = parse_count("limit", value);
                        if (!v) return engine_error(v.error(), m.route);
                        limit = *v;
                    } else {
                        return invalid_parameter(
                            "unknown parameter " + shown(name) + " (expected lat, lon, limit)",
                            m.route);
                    }
                }
                if (!lat || !lon) return invalid_parameter("give lat and lon", m.route);
                if (limit < 1 || limit > kMaxK) {
                    return invalid_parameter("limit must be between 1 and " +
                                                 std::to_string(kMaxK) + " (got " +
                                                 std::to_string(limit) + ")",
                                             m.route);
                }
                const LatLon point{*lat, *lon};
                auto hits = index->engine.reverse({point, limit});
                if (!hits) return engine_error(hits.error(), m.route);
                return finish(
                    json_response(200,
                                  api::reverse_json(point, *hits)
                                      .dump(-1, ' ', false, Json::error_handler_t::replace),
                                  m.route, true));
            }
            case Route::postcode_get: {
                auto record = index->engine.lookup(m.segment);
                if (!record) return engine_error(record.error(), m.route);
                return finish(
                    json_response(200,
                                  api::lookup_json(*record, m.segment)
                                      .dump(-1, ' ', false, Json::error_handler_t::replace),
                                  m.route, true));
            }
            case Route::nearest_post:
            case Route::postcodes_post: {
                nlohmann::json items;
                try {
                    items = nlohmann::json::parse(request.body);
                } catch (const nlohmann::json::parse_error& e) {
                    std::string why = e.what();
                    if (const auto at = why.find("] "); at != std::string::npos)
                        why = why.substr(at + 2);
                    return http_error(400, "invalid_json", "the body is not JSON: " + why, m.route);
                }
                if (!items.is_array()) {
                    return http_error(400, "invalid_json",
                                      m.route == Route::nearest_post
                                          ? "the body must be a JSON array of query objects"
                                          : "the body must be a JSON array of postcode strings",
                                      m.route);
                }
                if (items.size() > config_.max_bulk_items) {
                    return http_error(413, "too_many_items",
                                      "at most " + std::to_string(config_.max_bulk_items) +
                                          " items per request (got " +
                                          std::to_string(items.size()) + ")",
                                      m.route);
                }
                // Each item is answered on its own: one bad item never fails the others.
                std::string body = "[";
                for (std::size_t i = 0; i < items.size(); ++i) {
                    if (i > 0) body += ',';
                    if (m.route == Route::nearest_post) {
                        auto p = nearest_params_from_json(items[i], i);
                        if (!p) {
                            body += api::error_json(p.error()).dump(-1, ' ', false,
                                                                    Json::error_handler_t::replace);
                            continue;
                        }
                        auto q = build_query(index->engine, *p);
                        if (!q) {
                            body += api::error_json(q.error()).dump(-1, ' ', false,
                                                                    Json::error_handler_t::replace);
                            continue;
                        }
                        auto answer = index->engine.nearest(*q);
                        body += answer ? nearest_text(index->nearest, index->engine, *answer)
                                       : api::error_json(answer.error())
                                             .dump(-1, ' ', false, Json::error_handler_t::replace);
                    } else {
                        if (!items[i].is_string()) {
                            body += api::error_json(Error(ErrorCode::invalid_parameter,
                                                          "item " + std::to_string(i) +
                                                              " must be a postcode string"))
                                        .dump(-1, ' ', false, Json::error_handler_t::replace);
                            continue;
                        }
                        const auto& text = items[i].get_ref<const std::string&>();
                        auto record = index->engine.lookup(text);
                        body += record ? api::lookup_json(*record, text)
                                             .dump(-1, ' ', false, Json::error_handler_t::replace)
                                       : api::error_json(record.error())
                                             .dump(-1, ' ', false, Json::error_handler_t::replace);
                    }
                }
                body += ']';
                return json_response(200, std::move(body), m.route, false);
            }
            case Route::sites:
                return finish(json_response(200, index->sites_body, m.route, true));
            case Route::site: {
                auto site = index->engine.find_site(m.segment);
                if (!site) return engine_error(site.error(), m.route);
                return finish(
                    json_response(200, index->site_bodies.at(site->index), m.route, true));
            }
            case Route::treatments:
                return finish(json_response(200, index->treatments_body, m.route, true));
            case Route::info:
                return finish(json_response(200, index->info_body, m.route, true));
            case Route::healthz:
                return finish(json_response(200, R"({"status":"ok"})", m.route, false));
            case Route::readyz:
                if (index == nullptr)
                    return finish(http_error(503, "not_ready", "no index is loaded yet", m.route));
                return finish(json_response(200, index->ready_body, m.route, false));
            case Route::metrics: {
                auto r = json_response(200, render_metrics_(), m.route, false);
                r.kind = BodyKind::prometheus_text;
                return finish(std::move(r));
            }
            case Route::openapi:
                return finish(json_response(200, openapi_body_, m.route, true));
            case Route::admin_reload: {
                if (!request.from_loopback) {
                    return http_error(403, "forbidden",
                                      "index reload is allowed from loopback clients only",
                                      m.route);
                }
                try {
                    const auto loaded = holder_.reload();
                    const Json body = {{"status", "reloaded"},
                                       {"checksum", loaded->info.checksum},
                                       {"file", loaded->file.string()}};
                    return json_response(200,
                                         body.dump(-1, ' ', false, Json::error_handler_t::replace),
                                         m.route, false);
                } catch (const Error& e) {
                    return engine_error(e, m.route);
                }
            }
            default:
                break;
        }
    } catch (const Error& e) {
        return engine_error(e, m.route);
    } catch (const std::exception& e) {
        return engine_error(Error(ErrorCode::internal, e.what()), m.route);
    }
    return engine_error(Error(ErrorCode::internal, "unhandled route"), m.route);
}

}  // namespace hloc::serve
