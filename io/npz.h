// NumPy .npz archives (numpy.savez / savez_compressed: a zip file of .npy members) read without
// Python: zip central directory (ZIP64 included), stored or deflated members, CRC-32 checked.
// Zip format: PKWARE APPNOTE.TXT 6.3 (sections 4.3 and 4.5.3).
#pragma once

#include "io/npy.h"

#include <iosfwd>
#include <map>
#include <string>

namespace glimpse {

// Reads every .npy member of a zip archive held in `bytes`, keyed by member name without the
// ".npy" suffix ("world_mat_0.npy" -> "world_mat_0"), like numpy.load(...).files. Members that do
// not end in ".npy" and folder entries are ignored. Supported: compression methods 0 (stored) and
// 8 (deflate), ZIP64 sizes and offsets (numpy writes ZIP64 local headers), data descriptors; not
// supported: encryption, other methods, multi-disk archives. Throws glimpse::Error naming `what`
// (usually the path) and, where it applies, the member: not a zip file, truncated or corrupt
// directory or member, CRC mismatch, duplicate member, or a member that is not a valid .npy.
std::map<std::string, NpyArray> read_npz_bytes(const std::string& bytes, const std::string& what);

// Reads the whole stream and parses it with read_npz_bytes.
std::map<std::string, NpyArray> read_npz(std::istream& in, const std::string& what);

// Opens `path` (errors name it: missing file, folder, unreadable) and reads it.
std::map<std::string, NpyArray> read_npz(const std::string& path);

}  // namespace glimpse
