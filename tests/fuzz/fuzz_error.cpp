// libFuzzer: the error renderers on arbitrary bytes in every field. An error's code (any 16-bit
// value, the unknown ones too), message and suggestion, and a free-form HTTP status, code name
// and message, go through every way an error is written out:
//   - the error JSON, compact and indented (CLI stderr, HTTP bodies, Python's .to_dict());
//   - its "error" member alone (a batch JSON Lines row);
//   - a CSV field (a batch CSV row's error_message);
//   - the suggestion, replaced (Error::with_suggestion);
//   - a caller's text quoted for a message (shown, clipped).
// Properties: never a crash or an exception; every JSON text parses, and gives back each field
// byte for byte when the field was UTF-8 (U+FFFD in its place otherwise); the indented text
// means the same as the compact; a CSV field unquotes to the same bytes; a clipped text is a
// start of the text, within 3 bytes of the limit, and still UTF-8 when the text was.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "hloc/contract/csv_writer.hpp"
#include "hloc/contract/json_writer.hpp"
#include "hloc/contract/request.hpp"

namespace {

using hloc::contract::Json;

void require(bool ok) {
    if (!ok) std::abort();
}

bool valid_utf8(const std::string& text) {
    try {
        (void)Json(text).dump();  // the strict handler throws on invalid UTF-8
        return true;
    } catch (const Json::type_error&) {
        return false;
    }
}

// Parses `text` and checks `value` came through: exactly when it was UTF-8.
void check_string(const Json& parsed, const std::string& value) {
    require(parsed.is_string());
    const auto& back = parsed.get_ref<const std::string&>();
    require(valid_utf8(back));
    if (valid_utf8(value)) require(back == value);
}

Json parse_checked(const std::string& text) {
    require(Json::accept(text));
    return Json::parse(text);
}

// The RFC 4180 reading of one field as csv_append writes it.
std::string unquote(const std::string& field) {
    if (field.empty() || field.front() != '"') return field;
    require(field.size() >= 2 && field.back() == '"');
    std::string out;
    for (std::size_t i = 1; i + 1 < field.size(); ++i) {
        out += field[i];
        if (field[i] == '"') {
            require(field[i + 1] == '"');
            ++i;
        }
    }
    return out;
}

void check_error(const hloc::Error& error) {
    const std::string compact = hloc::contract::to_text(hloc::contract::error_json(error));
    const Json parsed = parse_checked(compact);
    const Json& body = parsed.at("error");
    require(body.at("code").get<std::string>() == hloc::error_code_name(error.code()));
    require(body.at("status").get<int>() == hloc::http_status(error.code()));
    check_string(body.at("message"), error.message());
    require(body.contains("suggestion") == !error.suggestion().empty());
    if (!error.suggestion().empty()) check_string(body.at("suggestion"), error.suggestion());
    // Indented for people: the same JSON.
    const std::string indented = hloc::contract::to_pretty_text(hloc::contract::error_json(error));
    require(parse_checked(indented) == parsed);
    require(hloc::contract::pretty(compact) == indented);
    // A batch JSON Lines row's "error" member.
    const auto member = hloc::contract::to_text(hloc::contract::error_json(error)["error"]);
    require(parse_checked(member) == body);
    // A batch CSV row's error_message field.
    std::string field;
    hloc::contract::csv_append(field, error.message());
    require(unquote(field) == error.message());
}

void check_clipped(const std::string& text, std::size_t limit) {
    const auto clip = hloc::contract::clipped(text, limit);
    require(std::string_view(text).substr(0, clip.size()) == clip);
    require(clip.size() <= limit);
    require(clip.size() == text.size() || clip.size() + 3 >= limit);
    if (valid_utf8(text)) require(valid_utf8(std::string(clip)));
    const auto quoted = hloc::contract::shown(text);
    if (valid_utf8(text)) require(valid_utf8(quoted));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const auto code = static_cast<hloc::ErrorCode>(in.ConsumeIntegral<std::uint16_t>());
    const auto status = in.ConsumeIntegral<unsigned>();
    const auto limit = in.ConsumeIntegralInRange<std::size_t>(0, 80);
    const std::string code_name = in.ConsumeRandomLengthString(64);
    const std::string message = in.ConsumeRandomLengthString(4096);
    const std::string suggestion = in.ConsumeRandomLengthString(64);
    const std::string replacement = in.ConsumeRemainingBytesAsString();

    const hloc::Error plain(code, message);
    require(plain.message() == message && plain.suggestion().empty());
    check_error(plain);

    const hloc::Error suggested(code, message, suggestion);
    if (!suggestion.empty()) {
        require(suggested.message() == message + "; did you mean '" + suggestion + "'?");
    }
    check_error(suggested);
    const auto replaced = suggested.with_suggestion(replacement);
    require(replaced.suggestion() == replacement);
    require(replaced.message() ==
            (replacement.empty() ? message : message + "; did you mean '" + replacement + "'?"));
    check_error(replaced);

    // Errors with no engine code: the service's own (not_found, payload_too_large ...).
    const Json other = hloc::contract::error_json(status, code_name, message);
    const Json back = parse_checked(hloc::contract::to_text(other)).at("error");
    check_string(back.at("code"), code_name);
    check_string(back.at("message"), message);
    require(back.at("status").get<unsigned>() == status);

    check_clipped(message, limit);
    return 0;
}
