#include "nearest_csv.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <string>

#include "hloc/contract/csv_writer.hpp"
#include "hloc/contract/status.hpp"
#include "hloc/parallel.hpp"

namespace hloc::python {

namespace {

// Rows formatted per worker task, and per block written between two rounds of formatting:
// a block of text is ~20 MB for k = 3, whatever the batch's size.
constexpr std::size_t kRowsPerTask = 4096;
constexpr std::size_t kRowsPerBlock = 16 * kRowsPerTask;

Error write_error(const std::string& path, int error) {
    return Error(ErrorCode::io_error, "cannot write " + path + ": " + std::strerror(error));
}

// The temporary file beside the target (so that rename is atomic), removed unless committed.
class TempFile {
  public:
    explicit TempFile(const std::string& target) : target_(target) {
        namespace fs = std::filesystem;
        const fs::path t(target);
        if (t.filename().empty()) {
            throw Error(ErrorCode::io_error, "cannot write " + target + ": it names a directory");
        }
        // A name no other writer uses (this process's number and a counter), created with
        // O_EXCL and mode 0666 so that the umask gives it the usual permissions.
        static std::atomic<unsigned> serial{0};
        for (;;) {
            temp_ = (t.parent_path() /
                     ("." + t.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                      std::to_string(serial.fetch_add(1))))
                        .string();
            fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd_ >= 0) break;
            if (errno != EEXIST) throw write_error(target, errno);
        }
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(temp_.c_str());
    }

    void write(const std::string& text) {
        const char* p = text.data();
        std::size_t left = text.size();
        while (left > 0) {
            const ssize_t n = ::write(fd_, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw write_error(target_, errno);
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }

    void commit() {
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) throw write_error(target_, errno);
        if (::rename(temp_.c_str(), target_.c_str()) != 0) throw write_error(target_, errno);
        committed_ = true;
    }

  private:
    std::string target_, temp_;
    int fd_ = -1;
    bool committed_ = false;
};

// One row's line: the key fields, then the contract's batch fields.
void append_line(std::string& out, const contract::NearestRow& writer, const KeyColumns& keys,
                 const NearestRows& rows, std::size_t i, NearestAnswer& answer,
                 std::string& scratch) {
    const std::size_t start = out.size();
    for (std::size_t c = 0; c < keys.columns.size(); ++c) {
        if (c) out += ',';
        contract::csv_append(out, keys.columns[c].row(i, scratch));
    }
    const auto code = rows.status[i];
    if (code != 0) {
        const auto error = static_cast<ErrorCode>(code);
        const auto message = rows.messages->find(i);
        writer.append_batch_csv(
            out, contract::status_for(error),
            Error(error, message == rows.messages->end() ? std::string() : message->second));
    } else {
        answer.origin.match = static_cast<MatchLevel>(rows.match[i]);
        answer.origin.position = {rows.lat[i], rows.lon[i]};
        answer.results.clear();
        for (std::size_t j = i * rows.k; j < (i + 1) * rows.k && rows.site[j] >= 0; ++j) {
            answer.results.push_back({static_cast<std::uint32_t>(j - i * rows.k + 1),
                                      static_cast<std::uint32_t>(rows.site[j]),
                                      rows.offer_of_site[rows.site[j]], rows.distance_m[j], 0.0});
        }
        writer.append_batch_csv(out, answer);
    }
    // The contract writes each field after a comma; with no key column the line starts bare.
    if (keys.columns.empty()) out.erase(start, 1);
}

}  // namespace

void write_nearest_csv(const Engine& engine, const std::string& path, const KeyColumns& keys,
                       const NearestRows& rows, unsigned threads) {
    const contract::NearestRow writer(engine, rows.k);
    TempFile file(path);
    file.write(contract::csv_line(contract::batch_columns(keys.names, rows.k)));
    std::vector<std::string> texts((kRowsPerBlock + kRowsPerTask - 1) / kRowsPerTask);
    for (std::size_t block = 0; block < rows.rows; block += kRowsPerBlock) {
        const std::size_t end = std::min(rows.rows, block + kRowsPerBlock);
        std::exception_ptr failure;  // the first (out of memory): nothing escapes a worker
        std::mutex failure_mutex;
        parallel_for(end - block, threads, kRowsPerTask, [&](std::size_t from, std::size_t to) {
            try {
                auto& text = texts[from / kRowsPerTask];
                text.clear();
                NearestAnswer answer;
                std::string scratch;
                for (std::size_t i = block + from; i < block + to; ++i)
                    append_line(text, writer, keys, rows, i, answer, scratch);
            } catch (...) {
                const std::lock_guard lock(failure_mutex);
                if (!failure) failure = std::current_exception();
            }
        });
        if (failure) std::rethrow_exception(failure);
        for (std::size_t t = 0; t * kRowsPerTask < end - block; ++t) file.write(texts[t]);
    }
    file.commit();
}

}  // namespace hloc::python
