// A slow disk for one file, loaded with LD_PRELOAD into a real program under test.
//
//   HLOC_SLOW_OPEN_PATH=/path/to/file HLOC_SLOW_OPEN_MS=3000 LD_PRELOAD=libhloc_slow_open.so ...
//
// While a file named /path/to/file.slow exists, every open() of exactly /path/to/file sleeps
// HLOC_SLOW_OPEN_MS milliseconds before it opens the file for real, as a read from a stalled
// network disk would. The program's own code runs unchanged; only the wait is injected, so a
// test can show what a slow reload holds up and what it must not.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace {

void maybe_wait(const char* path) {
    const char* slow = std::getenv("HLOC_SLOW_OPEN_PATH");
    const char* ms = std::getenv("HLOC_SLOW_OPEN_MS");
    if (slow == nullptr || ms == nullptr || path == nullptr || std::strcmp(path, slow) != 0) return;
    struct stat marker {};
    if (::stat((std::string(slow) + ".slow").c_str(), &marker) != 0) return;
    const long wait_ms = std::atol(ms);
    timespec left{wait_ms / 1000, (wait_ms % 1000) * 1000000L};
    while (::nanosleep(&left, &left) != 0) {
    }
}

using OpenFn = int (*)(const char*, int, ...);

int forward(const char* name, const char* path, int flags, va_list args) {
    const auto real = reinterpret_cast<OpenFn>(::dlsym(RTLD_NEXT, name));
    mode_t mode = 0;
    if ((flags & (O_CREAT | O_TMPFILE)) != 0) mode = va_arg(args, mode_t);
    return real(path, flags, mode);
}

}  // namespace

extern "C" int open(const char* path, int flags, ...) {
    maybe_wait(path);
    va_list args;
    va_start(args, flags);
    const int fd = forward("open", path, flags, args);
    va_end(args);
    return fd;
}

extern "C" int open64(const char* path, int flags, ...) {
    maybe_wait(path);
    va_list args;
    va_start(args, flags);
    const int fd = forward("open64", path, flags, args);
    va_end(args);
    return fd;
}
