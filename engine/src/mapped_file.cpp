#include "mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "hloc/error.hpp"
#include "hloc/files.hpp"

namespace hloc {

std::string_view file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a plain file";
}

}  // namespace hloc

namespace hloc::detail {

MappedFile::MappedFile(const std::filesystem::path& path, bool resident) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever, before
    // fstat could refuse it (and a terminal must not become our controlling one: O_NOCTTY).
    // It changes nothing for a regular file, the only kind read past the check below.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        const int err = errno;
        throw Error(err == ENOENT ? ErrorCode::bad_index : ErrorCode::io_error,
                    "cannot open index '" + path.string() + "': " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw Error(ErrorCode::io_error,
                    "cannot read index '" + path.string() + "': " + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(ErrorCode::bad_index, "index '" + path.string() + "' is " +
                                              std::string(file_kind(st.st_mode)) +
                                              ", not a regular file");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ == 0) {
        ::close(fd);
        throw Error(ErrorCode::bad_index, "index '" + path.string() + "' is empty");
    }
    if (resident) {
        // Anonymous memory in 2 MiB huge pages: a random lookup then costs cache misses only,
        // not a page-table walk per 4 KiB page touched (which dominates on virtual machines).
        constexpr std::size_t kHuge = 2u << 20;
        mapped_size_ = (size_ + kHuge - 1) / kHuge * kHuge;
        void* p = ::mmap(nullptr, mapped_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error(ErrorCode::io_error, "cannot allocate memory for index '" + path.string() +
                                                 "': " + std::strerror(err));
        }
        ::madvise(p, mapped_size_, MADV_HUGEPAGE);  // advice only: fine if refused
        std::size_t done = 0;
        while (done < size_) {
            const auto n =
                ::pread(fd, static_cast<char*>(p) + done, size_ - done, static_cast<off_t>(done));
            if (n <= 0) {
                const int err = n < 0 ? errno : EIO;
                ::munmap(p, mapped_size_);
                ::close(fd);
                throw Error(ErrorCode::io_error,
                            "cannot read index '" + path.string() + "': " + std::strerror(err));
            }
            done += static_cast<std::size_t>(n);
        }
        ::close(fd);
        ::mprotect(p, mapped_size_, PROT_READ);
        data_ = static_cast<const std::byte*>(p);
        return;
    }
    mapped_size_ = size_;
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);  // the mapping keeps the file alive
    if (p == MAP_FAILED) {
        throw Error(ErrorCode::io_error,
                    "cannot map index '" + path.string() + "': " + std::strerror(err));
    }
    data_ = static_cast<const std::byte*>(p);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_), size_(other.size_), mapped_size_(other.mapped_size_) {
    other.data_ = nullptr;
    other.size_ = other.mapped_size_ = 0;
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), mapped_size_);
}

}  // namespace hloc::detail
