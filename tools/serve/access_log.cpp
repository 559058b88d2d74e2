#include "access_log.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "hloc/contract/json_writer.hpp"
#include "hloc/error.hpp"

namespace hloc::serve {

AccessLog::AccessLog(const std::filesystem::path& file) : file_(std::fopen(file.c_str(), "a")) {
    if (file_ == nullptr) {
        throw Error(ErrorCode::io_error,
                    "cannot open the access log " + file.string() + ": " + std::strerror(errno));
    }
}

AccessLog::~AccessLog() {
    if (file_ != nullptr) std::fclose(file_);
}

void AccessLog::write(std::string_view method, std::string_view target, unsigned status,
                      std::uint64_t bytes, std::uint64_t bytes_due, bool cut, std::uint64_t micros,
                      std::string_view remote) {
    const auto now = std::chrono::system_clock::now();
    const auto t = std::chrono::system_clock::to_time_t(now);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char when[64];
    std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    const auto path = target.substr(0, target.find('?'));
    const contract::Json line = {{"time", when},     {"method", method}, {"path", path},
                                 {"status", status}, {"bytes", bytes},   {"bytes_due", bytes_due},
                                 {"cut", cut},       {"us", micros},     {"remote", remote}};
    const auto text = contract::to_text(line);
    std::lock_guard lock(mutex_);
    std::fwrite(text.data(), 1, text.size(), file_);
    std::fputc('\n', file_);
    std::fflush(file_);
}

}  // namespace hloc::serve
