// Files that are not files. The engine refuses an index, and batch an input, that is a FIFO, a
// device or a directory, without blocking on it; both say what it is in the same words.
#pragma once

#include <sys/types.h>

#include <string_view>

namespace hloc {

// "a directory", "a FIFO (named pipe)", "a character device", "a block device", "a socket", or
// "not a plain file": what a path whose st_mode is `mode` is, when it is not a regular file.
std::string_view file_kind(mode_t mode);

}  // namespace hloc
