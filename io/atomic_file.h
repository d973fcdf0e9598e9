// Atomic file output: write to a temporary sibling, then rename over the target, so that a crash
// or a failed write never leaves a half-written file under the final name.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

namespace glimpse {

// "<path>.tmp.<pid><extension>": a sibling in the same folder (so the rename stays on one file
// system). `extension` lets encoders that pick the format by extension (OpenCV) see the right one.
std::string temporary_sibling_path(const std::string& path, const std::string& extension = "");

// Renames `temporary` to `path`, replacing `path`. On failure removes `temporary` and throws
// glimpse::Error naming `path`.
void commit_temporary_file(const std::string& temporary, const std::string& path);

// Opens a temporary sibling of `path` in binary mode, calls write(stream), flushes, and commits it.
// If write throws or the stream fails, the temporary file is removed and an Error naming `path` is
// thrown (write's own Error is rethrown unchanged). Checks that the parent folder exists.
void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write);

}  // namespace glimpse
