// Compressed fixtures made in code with zlib, for the readers of zip (.npz) and gzip (SPZ) data.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <zlib.h>

namespace glimpse::testing {

// deflate at `level` with zlib's `window_bits` convention: -15 raw deflate (zip members),
// 16 + 15 gzip.
inline std::string zlib_deflate(const std::string& data, int window_bits, int level = 6) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&s, static_cast<uLong>(data.size())) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

}  // namespace glimpse::testing
