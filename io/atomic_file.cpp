// Temporary-file-then-rename output used by every writer in io/.
#include "io/atomic_file.h"

#include "core/check.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#if defined(_WIN32)
#include <process.h>
#define GLIMPSE_GETPID _getpid
#else
#include <unistd.h>
#define GLIMPSE_GETPID getpid
#endif

namespace glimpse {

namespace fs = std::filesystem;

std::string temporary_sibling_path(const std::string& path, const std::string& extension) {
  return path + ".tmp." + std::to_string(static_cast<long long>(GLIMPSE_GETPID())) + extension;
}

void commit_temporary_file(const std::string& temporary, const std::string& path) {
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    GLIMPSE_FAIL() << "cannot write " << path << ": renaming the temporary file " << temporary
                   << " failed: " << ec.message();
  }
}

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  GLIMPSE_CHECK(!path.empty()) << "cannot write a file with an empty path";
  const fs::path parent = fs::path(path).parent_path();
  GLIMPSE_CHECK(parent.empty() || fs::is_directory(parent))
      << "cannot write " << path << ": folder " << parent.string() << " does not exist";
  const std::string temporary = temporary_sibling_path(path);
  auto discard = [&temporary] {
    std::error_code ignored;
    fs::remove(temporary, ignored);
  };
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    GLIMPSE_CHECK(out.good()) << "cannot write " << path << ": cannot create " << temporary;
    try {
      write(out);
      out.flush();
    } catch (...) {
      out.close();
      discard();
      throw;
    }
    if (!out.good()) {
      out.close();
      discard();
      GLIMPSE_FAIL() << "cannot write " << path << ": write error (disk full?)";
    }
    out.close();
    if (out.fail()) {
      discard();
      GLIMPSE_FAIL() << "cannot write " << path << ": closing the file failed";
    }
  }
  commit_temporary_file(temporary, path);
}

}  // namespace glimpse
