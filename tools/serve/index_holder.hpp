// The index being served, and its replacement on reload.
//
// A LoadedIndex is immutable: an Engine plus the answers that depend on nothing but the index
// (sites, treatments, info), rendered once. Requests hold a shared_ptr to the LoadedIndex they
// started on, so a reload never pulls an index from under a request: the old one is unmapped
// when its last request (and each worker's cached copy) lets go.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hloc/contract/json_writer.hpp"
#include "hloc/engine.hpp"

namespace hloc::serve {

struct LoadedIndex {
    explicit LoadedIndex(Engine opened, std::filesystem::path path);

    Engine engine;
    IndexInfo info;
    std::filesystem::path file;
    contract::JsonWriter json;    // nearest answers; GET /v1/sites and /v1/sites/{id}
    std::string treatments_body;  // GET /v1/treatments
    std::string info_body;        // GET /v1/info
    std::string ready_body;       // GET /readyz
};

class IndexHolder {
  public:
    IndexHolder(std::filesystem::path file, bool resident);

    // Opens `file_`, verifies its checksum and every structural check, and only then swaps it in.
    // Throws Error (bad_index, io_error) and keeps the current index when the file is refused.
    // Serialised: two reloads at once (SIGHUP and POST /admin/reload) do not interleave.
    std::shared_ptr<const LoadedIndex> reload();

    // The current index, or null before the first successful load. Workers call it only when
    // generation() has moved, so the lock is taken once per reload per worker, not per request.
    std::shared_ptr<const LoadedIndex> current() const {
        std::lock_guard lock(current_mutex_);
        return current_;
    }
    // Bumped by every successful reload: workers compare it to refresh a cached pointer cheaply.
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    std::uint64_t reloads_failed() const { return failed_.load(std::memory_order_relaxed); }
    const std::filesystem::path& file() const { return file_; }

  private:
    std::filesystem::path file_;
    bool resident_;
    std::mutex reload_mutex_;
    // A mutex, not std::atomic<std::shared_ptr>: libstdc++ 12's load() releases its lock bit
    // with memory_order_relaxed, so a reader's copy of the pointer is not ordered before the next
    // store's write of it. ThreadSanitizer reports it, rightly by the letter of the memory model
    // (x86 happens to order it anyway); a mutex is correct everywhere and as cheap here.
    mutable std::mutex current_mutex_;
    std::shared_ptr<const LoadedIndex> current_;
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<std::uint64_t> failed_{0};
};

}  // namespace hloc::serve
