// The one parallel-for of the project: the engine's batch call, the batch tool and the Python
// module's vectorised calls all spread their rows with it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace hloc {

// The most worker threads any shell accepts (--threads, threads=): far more than the cores of
// any machine this runs on, and few enough that creating them cannot exhaust a process.
inline constexpr unsigned kMaxThreads = 256;

// `threads` as asked (0 = one per core), capped at kMaxThreads.
inline unsigned worker_count(unsigned threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    return std::min(threads, kMaxThreads);
}

// Runs fn(begin, end) over [0, n) in chunks of `grain` rows on worker_count(threads) threads,
// the calling thread among them; returns when every row is done. fn must not throw: a row
// turns its failure into its own result. If the system refuses a thread, the threads already
// running do the work.
template <class Fn>
void parallel_for(std::size_t n, unsigned threads, std::size_t grain, Fn fn) {
    if (n == 0) return;
    grain = std::max<std::size_t>(grain, 1);
    const std::size_t chunks = (n + grain - 1) / grain;
    const auto workers =
        static_cast<unsigned>(std::min<std::size_t>(worker_count(threads), chunks));
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (;;) {
            const std::size_t begin = next.fetch_add(grain);
            if (begin >= n) return;
            fn(begin, std::min(n, begin + grain));
        }
    };
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < workers; ++i) {
        try {
            pool.emplace_back(work);
        } catch (const std::system_error&) {
            break;
        }
    }
    work();
    for (auto& t : pool) t.join();
}

}  // namespace hloc
