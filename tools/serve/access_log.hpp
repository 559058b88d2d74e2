// The access log: one JSON line per request (time, method, path, status, bytes, and the
// microseconds from the whole request read to its answer ready to send). A line is written
// once the answer is sent or cut: "bytes" are the body bytes sent, "bytes_due" those the
// answer had, and "cut" is true when the client did not get it whole (it stopped reading for
// write_timeout, went away, or shutdown cut it off), whatever "status" says was meant.
// The query string is left out on purpose: it holds callers' postcodes, which are personal
// data in a referral service, and a path is enough to count and time the traffic.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string_view>

namespace hloc::serve {

class AccessLog {
  public:
    explicit AccessLog(const std::filesystem::path& file);  // appends; throws Error{io_error}
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    void write(std::string_view method, std::string_view target, unsigned status,
               std::uint64_t bytes, std::uint64_t bytes_due, bool cut, std::uint64_t micros,
               std::string_view remote);

    // Held by a writer across sending an answer and logging it, so that no answer a client
    // could ask for after reading this one is logged before it (write() locks it again).
    std::recursive_mutex& order() { return mutex_; }

  private:
    std::recursive_mutex mutex_;
    std::FILE* file_ = nullptr;
};

}  // namespace hloc::serve
