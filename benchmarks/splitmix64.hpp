// The benchmarks' random numbers: SplitMix64 gives the same sequence with every standard
// library, so hloc_bench and hloc_peers draw the same query sets on every machine.
#pragma once

#include <cstdint>

namespace hloc::bench {

class SplitMix64 {
  public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1): the top 53 bits, so every value is exact.
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  private:
    std::uint64_t state_;
};

}  // namespace hloc::bench
