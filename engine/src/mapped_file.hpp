// A read-only memory mapping of a whole file, released on destruction.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace hloc::detail {

class MappedFile {
  public:
    // Throws Error{bad_index} if the file is missing, empty or not a regular file (a FIFO, a
    // device, a directory, a socket: refused without blocking, the message says which),
    // Error{io_error} otherwise.
    // `resident`: read the file into private memory backed by transparent huge pages instead
    // of mapping it (see OpenOptions::resident).
    explicit MappedFile(const std::filesystem::path& path, bool resident = false);
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&&) = delete;
    MappedFile(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const std::byte> bytes() const { return {data_, size_}; }

  private:
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t mapped_size_ = 0;
};

}  // namespace hloc::detail
