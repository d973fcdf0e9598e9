// The `glimpse` command line: subcommands render, bench-render and info, bound to the Options
// structs of the app library.
#pragma once

#include <string>

namespace glimpse {

// Parses the arguments and runs the chosen subcommand. Returns the process exit code: 0 on
// success, 2 for command-line syntax errors (after CLI11 printed them). Errors of the work itself
// (bad options, unreadable data) propagate as glimpse::Error for main() to report.
int run_cli(int argc, const char* const* argv);

// The part of a glimpse::Error's what() meant for users: without the "file:line: " location and
// the "check failed (<condition>): " prefix of GLIMPSE_CHECK (both stay in the debug log).
std::string user_error_message(const std::string& what);

}  // namespace glimpse
