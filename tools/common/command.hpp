// The frame every command's main shares, so that every command exits and reports alike.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "hloc/error.hpp"

namespace hloc::tools {

// Parses the arguments (a usage error prints CLI11's message and returns 1; --help returns 0),
// then runs `body`. An Error thrown by it prints the DESIGN.md error object on stderr and
// returns 2; any other exception is reported the same way as `internal`. Exit codes: 0 ok,
// 1 usage, 2 input or data error (or what `body` returns).
int run_command(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

// Prints the error object on stderr; returns 2.
int report(const Error& error);

}  // namespace hloc::tools
