// NumPy .npy arrays: a reader for the numeric dtypes the datasets use (LLFF poses_bounds.npy, depth
// maps, masks) and a float64 writer, parsing from std::istream so tests build exact byte cases.
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace glimpse {

// A dense array converted to double, always in C (row-major) order.
struct NpyArray {
  std::vector<size_t> shape;  // empty for a 0-d (scalar) array
  std::string dtype;          // as stored in the file, e.g. "<f8", "|u1", "<i4"
  std::vector<double> data;   // product(shape) values, C order

  size_t size() const { return data.size(); }
  size_t ndim() const { return shape.size(); }
};

// Reads a .npy stream (format versions 1.0, 2.0 and 3.0). Supported dtypes: f8 f4 i8 i4 i2 i1
// u8 u4 u2 u1 b1, little-endian ('<'), native ('=') or byte-order-free ('|'); fortran_order
// True or False (the result is always C order); any shape. Throws glimpse::Error naming `what`
// (usually the file path) and the problem: bad magic, truncated header or data (with the byte
// counts), malformed header, unsupported or big-endian dtype.
NpyArray read_npy(std::istream& in, const std::string& what);

// Opens `path` and reads it with read_npy(stream, path).
NpyArray read_npy(const std::string& path);

// Writes `data` (C order, product(shape) values) as a version 1.0 '<f8' array. The header is
// padded to a multiple of 64 bytes and ends in '\n', like numpy.save.
void write_npy(std::ostream& out, const std::vector<size_t>& shape,
               const std::vector<double>& data);

// Writes a .npy file atomically (temporary file in the same folder, then rename).
void write_npy(const std::string& path, const std::vector<size_t>& shape,
               const std::vector<double>& data);

}  // namespace glimpse
