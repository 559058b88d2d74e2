#include "nearest_text.hpp"

#include <charconv>

#include "hloc/geodesy.hpp"
#include "json_format.hpp"

namespace hloc::serve {

namespace {

std::string dump(const api::Json& json) {
    return json.dump(-1, ' ', false, api::Json::error_handler_t::replace);
}

// Numbers through nlohmann's own formatter, so they read exactly as in api::nearest_json.
void append_number(std::string& out, double value) { out += api::Json(value).dump(); }

void append_count(std::string& out, std::uint32_t value) {
    char digits[16];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, end);
}

}  // namespace

NearestText::NearestText(const Engine& engine) {
    for (std::uint32_t i = 0; i < engine.site_count(); ++i)
        site_text_.push_back(dump(api::site_json(engine.site(i))));
    // Offers (a site's phone for one treatment) are numbered treatment by treatment.
    std::uint32_t offers = 0;
    for (const auto& t : engine.treatments()) offers += t.site_count;
    for (std::uint32_t o = 0; o < offers; ++o)
        phone_text_.push_back(dump(api::phone_json(engine.phone(o))));
    enabled_ = true;
}

std::string NearestText::render(const Engine& engine, const NearestAnswer& answer) const {
    if (!enabled_) return {};
    for (const auto& n : answer.results) {
        if (n.site_index >= site_text_.size() || n.offer_index >= phone_text_.size()) return {};
    }
    // The query and treatment from the shared function, over the answer without its results.
    const NearestAnswer frame{answer.origin, answer.treatment, {}};
    std::string head = dump(api::nearest_json(engine, frame));
    constexpr std::string_view empty_tail = "[]}";
    if (!head.ends_with(empty_tail)) return {};
    head.resize(head.size() - 2);  // keep "["
    std::string out = std::move(head);
    out.reserve(out.size() + answer.results.size() * 720 + 2);
    bool first = true;
    for (const auto& n : answer.results) {
        if (!first) out += ',';
        first = false;
        out += "{\"rank\":";
        append_count(out, n.rank);
        out += ",\"site\":";
        out += site_text_[n.site_index];
        out += ",\"phone\":";
        out += phone_text_[n.offer_index];
        // As api::nearest_json: metres, km and miles to the millimetre; bearing to 0.1 degree.
        out += ",\"distance\":{\"metres\":";
        append_number(out, api::round_to(n.distance_m, 3));
        out += ",\"km\":";
        append_number(out, api::round_to(n.distance_m / 1000.0, 3));
        out += ",\"miles\":";
        append_number(out, api::round_to(n.distance_m / kMetresPerMile, 3));
        out += "},\"bearing\":{\"degrees\":";
        append_number(out, api::round_to(n.bearing_deg, 1));
        out += ",\"compass\":";
        out += dump(api::Json(compass_point(n.bearing_deg)));
        out += "}}";
    }
    out += "]}";
    return out;
}

std::string NearestText::verify(const Engine& engine) {
    // Every site's own position, for every treatment, every site ranked: each site and phone
    // object, and distances from zero to the width of the country, rendered both ways.
    for (const auto& t : engine.treatments()) {
        for (std::uint32_t i = 0; i < engine.site_count(); ++i) {
            const auto site = engine.site(i);
            auto origin = engine.locate_point(site.position);
            if (!origin) continue;
            NearestQuery q;
            q.origin = *origin;
            q.treatment = std::string(t.name);
            q.k = std::max<std::uint32_t>(1, std::min<std::uint32_t>(t.site_count, kMaxK));
            const auto answer = engine.nearest(q);
            if (!answer) continue;
            const auto fast = render(engine, *answer);
            const auto shared = dump(api::nearest_json(engine, *answer));
            if (fast != shared) {
                enabled_ = false;
                return "for site " + std::string(site.id) + " and " + std::string(t.name) + ": " +
                       fast.substr(0, 300) + " vs " + shared.substr(0, 300);
            }
        }
    }
    return {};
}

std::string nearest_text(const NearestText& fast, const Engine& engine,
                         const NearestAnswer& answer) {
    auto text = fast.render(engine, answer);
    if (text.empty()) text = dump(api::nearest_json(engine, answer));
    return text;
}

}  // namespace hloc::serve
