#include "index_holder.hpp"

#include <utility>

namespace hloc::serve {

LoadedIndex::LoadedIndex(Engine opened, std::filesystem::path path)
    : engine(std::move(opened)),
      info(engine.info()),
      file(std::move(path)),
      json(engine),
      treatments_body(contract::to_text(contract::treatments_json(engine.treatments()))),
      info_body(contract::to_text(contract::info_json(info))),
      ready_body(
          contract::to_text(contract::Json{{"status", "ready"}, {"checksum", info.checksum}})) {}

IndexHolder::IndexHolder(std::filesystem::path file, bool resident)
    : file_(std::move(file)), resident_(resident) {}

std::shared_ptr<const LoadedIndex> IndexHolder::reload() {
    std::lock_guard lock(reload_mutex_);
    try {
        // Verify the checksum: a reload is rare, and a corrupt file must be refused, not served.
        auto engine = Engine::open(
            file_, {.verify_checksum = true, .preload_reverse = true, .resident = resident_});
        auto loaded = std::make_shared<LoadedIndex>(std::move(engine), file_);
        std::shared_ptr<const LoadedIndex> published = std::move(loaded);
        std::shared_ptr<const LoadedIndex> previous;
        {
            std::lock_guard swap(current_mutex_);
            previous = std::exchange(current_, published);
        }
        generation_.fetch_add(1, std::memory_order_acq_rel);
        return published;  // `previous` is let go here, outside the lock
    } catch (...) {
        failed_.fetch_add(1, std::memory_order_relaxed);
        throw;
    }
}

}  // namespace hloc::serve
