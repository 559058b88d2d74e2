// One error type for the whole project.
//
// Codes are explicit and append-only: a number, once shipped, keeps its meaning and its
// spelling, because the CLI, the HTTP service and the Python module expose them to callers.
// Per-input failures (a bad postcode, a bad parameter) travel as values in Result<T>;
// setup failures (a refused index file, an unreadable input) are thrown as Error.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hloc {

enum class ErrorCode : std::uint16_t {
    invalid_postcode = 1,    // not a UK postcode in form; the message says why
    postcode_not_found = 2,  // well formed, but neither it, its sector nor its district is known
    not_covered = 3,         // a real place the loaded data does not cover (Northern Ireland...)
    invalid_parameter = 4,   // k, lat/lon, distance, format...: the message names the parameter
    unknown_treatment = 5,   // the index offers no such treatment
    non_geographic_postcode = 6,  // GIR 0AA, BFPO, overseas territories, ZZ99 pseudo-codes
    bad_index = 7,                // an index file refused: truncated, corrupt, other version
    io_error = 8,                 // a file could not be read or written
    bad_input = 9,                // an input file (listing, directory, Code-Point) is malformed
    unknown_site = 10,            // no site with that id
    internal = 11,                // a bug: reported, never a crash
};

// The stable spelling of a code ("invalid_postcode"), as used in every JSON error object.
std::string_view error_code_name(ErrorCode code);

// The HTTP status that goes with a code (400, 404, 422, 500 ...).
int http_status(ErrorCode code);

class Error : public std::exception {
  public:
    Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
    // An error that proposes a correction of what the caller gave (a postcode with an O/0 slip):
    // the message ends "; did you mean '<suggestion>'?".
    Error(ErrorCode code, std::string message, std::string suggestion)
        : code_(code), base_(std::move(message)), suggestion_(std::move(suggestion)) {
        compose();
    }

    ErrorCode code() const { return code_; }
    // The whole message, the suggestion included when there is one.
    const std::string& message() const { return message_; }
    // The proposed correction, or "" (also in the error's JSON, as "suggestion").
    const std::string& suggestion() const { return suggestion_; }
    // The same error proposing `suggestion` instead.
    Error with_suggestion(std::string suggestion) const {
        return Error(code_, suggestion_.empty() ? message_ : base_, std::move(suggestion));
    }
    const char* what() const noexcept override { return message_.c_str(); }

  private:
    void compose() {
        message_ = base_;
        if (!suggestion_.empty()) message_ += "; did you mean '" + suggestion_ + "'?";
    }

    ErrorCode code_;
    std::string base_;  // without the suggestion (set only when there is one)
    std::string suggestion_;
    std::string message_;
};

// A value or the Error explaining why there is none.
template <class T>
class Result {
  public:
    Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
    Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

    bool has_value() const { return state_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    // Throws the Error when there is no value, so a caller that does not check still fails loudly.
    const T& value() const& {
        if (!has_value()) throw std::get<1>(state_);
        return std::get<0>(state_);
    }
    T& value() & {
        if (!has_value()) throw std::get<1>(state_);
        return std::get<0>(state_);
    }
    // By value, not T&&: `for (auto& r : engine.nearest(q).value().results)` then keeps the
    // answer alive for the loop instead of dangling into a destroyed Result.
    T value() && {
        if (!has_value()) throw std::get<1>(state_);
        return std::get<0>(std::move(state_));
    }
    const Error& error() const { return std::get<1>(state_); }

    const T& operator*() const& { return value(); }
    const T* operator->() const { return &value(); }

  private:
    std::variant<T, Error> state_;
};

}  // namespace hloc
