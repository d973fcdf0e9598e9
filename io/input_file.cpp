#include "io/input_file.h"

#include "core/check.h"

#include <filesystem>

namespace glimpse {

std::ifstream open_input_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  GLIMPSE_CHECK(fs::exists(path, ec)) << "cannot read " << path << ": file does not exist";
  GLIMPSE_CHECK(!fs::is_directory(path, ec)) << "cannot read " << path << ": it is a folder";
  std::ifstream in(path, std::ios::binary);
  GLIMPSE_CHECK(in.is_open()) << "cannot read " << path << ": cannot open it (permissions?)";
  return in;
}

}  // namespace glimpse
