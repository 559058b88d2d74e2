// libFuzzer: the index reader on damaged files. The checksums are recomputed before opening,
// so that the fuzzer reaches the structural checks behind them (a file that only fails its
// checksum teaches nothing). Property: open refuses with bad_index or the queries answer,
// never reading out of bounds (AddressSanitizer) and never crashing.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "hloc/checksum.hpp"
#include "hloc/engine.hpp"
#include "hloc/index_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace fmt = hloc::format;
    std::vector<std::uint8_t> bytes(data, data + size);
    if (bytes.size() >= fmt::kHeaderBytes) {
        fmt::FileHeader h;
        std::memcpy(&h, bytes.data(), sizeof h);
        h.file_size = bytes.size();
        h.payload_checksum =
            hloc::checksum(std::as_bytes(std::span(bytes)).subspan(fmt::kHeaderBytes));
        h.header_checksum = 0;
        h.header_checksum = hloc::checksum(std::as_bytes(std::span(&h, 1)));
        std::memcpy(bytes.data(), &h, sizeof h);
    }
    static const auto path = std::filesystem::temp_directory_path() /
                             ("hloc-fuzz-" + std::to_string(::getpid()) + ".hlx");
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
    }
    try {
        const auto engine = hloc::Engine::open(path, {.verify_checksum = true});
        for (auto pc : {"CH4 7QP", "CH1 1ZZ", "CM15", "G1 1", "SO53 2DW", "TS20 1PX"}) {
            (void)engine.lookup(pc);
            if (auto loc = engine.resolve(pc)) {
                for (const auto& t : engine.treatments()) {
                    hloc::NearestQuery q;
                    q.origin = *loc;
                    q.treatment = std::string(t.name);
                    q.k = 5;
                    (void)engine.nearest(q);
                }
            }
        }
        (void)engine.reverse({{53.2, -2.9}, 3});
        (void)engine.info();
        (void)engine.sites();
        for (std::uint32_t r = 0; r < engine.located_count() && r < 64; ++r)
            (void)engine.located_postcode(r);
    } catch (const hloc::Error& e) {
        if (e.code() != hloc::ErrorCode::bad_index) std::abort();
    }
    return 0;
}
