// Runs the built `glimpse` program (path from the GLIMPSE_BINARY compile definition), or any
// command line, through the shell and captures its exit code and output, for command-line tests.
#pragma once

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>

namespace glimpse::testing {

struct ProgramRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// 'path' for the shell (test paths contain no single quotes). Built with += to keep GCC 12's
// -Wrestrict false positive on "literal" + std::string away.
inline std::string shell_quoted(const std::filesystem::path& path) {
  std::string s = "'";
  s += path.string();
  s += "'";
  return s;
}

// Runs a shell command line with stderr joined to stdout.
inline ProgramRun run_command(std::string command) {
  command += " 2>&1";
  ProgramRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    run.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

#ifdef GLIMPSE_BINARY
// Runs `glimpse <args>` (args are quoted by the caller where needed).
inline ProgramRun run_glimpse(const std::string& args) {
  std::string command = shell_quoted(GLIMPSE_BINARY);
  command += " ";
  command += args;
  return run_command(command);
}
#endif

}  // namespace glimpse::testing
