// .npy reader (versions 1.0-3.0, numeric dtypes, C and Fortran order) and float64 writer.
#include "io/npy.h"

#include "core/check.h"
#include "io/atomic_file.h"
#include "io/binary_scalar.h"
#include "io/input_file.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <sstream>

namespace glimpse {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// numpy.lib.format refuses headers above 10000 bytes by default; allow more, but stop a corrupt
// length field from asking for gigabytes.
constexpr size_t kMaxHeaderSize = size_t{1} << 20;
// Data is read in chunks so that a corrupt shape cannot trigger a huge allocation up front.
constexpr size_t kReadChunkBytes = size_t{1} << 20;

std::string shape_string(const std::vector<size_t>& shape) {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) s << ",";
  s << ")";
  return s.str();
}

std::string printable_bytes(const char* bytes, size_t n) {
  std::ostringstream s;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (std::isprint(c) && c != '\\') {
      s << static_cast<char>(c);
    } else {
      static const char* kHex = "0123456789abcdef";
      s << "\\x" << kHex[c >> 4] << kHex[c & 15];
    }
  }
  return s.str();
}

template <typename T>
void store_le(std::ostream& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(bytes, bytes + sizeof(T));
  out.write(bytes, sizeof(T));
}

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<size_t> shape;
};

// Parses the Python dict literal of a .npy header, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (20, 17), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  Header parse() {
    Header h;
    bool has_descr = false, has_fortran = false, has_shape = false;
    skip_space();
    expect('{');
    for (;;) {
      skip_space();
      if (consume('}')) break;
      const std::string key = parse_string();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        check_new(has_descr, key);
        if (peek() == '[') {
          GLIMPSE_FAIL()
              << context()
              << "structured dtypes (a descr list) are not supported; save a plain numeric array";
        }
        h.descr = parse_string();
      } else if (key == "fortran_order") {
        check_new(has_fortran, key);
        h.fortran_order = parse_bool();
      } else if (key == "shape") {
        check_new(has_shape, key);
        h.shape = parse_shape();
      } else {
        GLIMPSE_FAIL() << context() << "unexpected key '" << key << "' in the header";
      }
      skip_space();
      if (consume(',')) continue;
      expect('}');
      break;
    }
    skip_space();
    if (pos_ != s_.size())
      GLIMPSE_FAIL() << context() << "unexpected text after the header dictionary";
    if (!has_descr) GLIMPSE_FAIL() << context() << "the header has no 'descr'";
    if (!has_fortran) GLIMPSE_FAIL() << context() << "the header has no 'fortran_order'";
    if (!has_shape) GLIMPSE_FAIL() << context() << "the header has no 'shape'";
    return h;
  }

 private:
  // Prefix of every header error: the file, the header text and the position.
  std::string context() const {
    std::ostringstream m;
    m << what_ << ": malformed .npy header \"" << printable_bytes(s_.data(), s_.size())
      << "\" at character " << pos_ << ": ";
    return m.str();
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!consume(c)) GLIMPSE_FAIL() << context() << "expected '" << c << "'";
  }
  void check_new(bool& seen, const std::string& key) {
    if (seen) GLIMPSE_FAIL() << context() << "duplicate key '" << key << "'";
    seen = true;
  }
  std::string parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') GLIMPSE_FAIL() << context() << "expected a quoted string";
    ++pos_;
    const size_t end = s_.find(quote, pos_);
    if (end == std::string::npos) GLIMPSE_FAIL() << context() << "unterminated string";
    std::string r = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return r;
  }
  bool parse_bool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    GLIMPSE_FAIL() << context() << "fortran_order must be True or False";
    return false;
  }
  std::vector<size_t> parse_shape() {
    std::vector<size_t> shape;
    expect('(');
    for (;;) {
      skip_space();
      if (consume(')')) break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) {
        GLIMPSE_FAIL() << context() << "shape entries must be non-negative integers";
      }
      size_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        const size_t digit = static_cast<size_t>(s_[pos_++] - '0');
        if (v > (std::numeric_limits<size_t>::max() - digit) / 10)
          GLIMPSE_FAIL() << context() << "shape entry too large";
        v = v * 10 + digit;
      }
      consume('L');  // Python 2 longs
      shape.push_back(v);
      skip_space();
      if (consume(',')) continue;
      expect(')');
      break;
    }
    return shape;
  }

  const std::string& s_;
  const std::string& what_;
  size_t pos_ = 0;
};

using Kind = ScalarKind;

struct DType {
  Kind kind = Kind::Float;
  size_t itemsize = 0;
};

DType parse_dtype(const std::string& descr, const std::string& what) {
  std::string code = descr;
  char order = '=';
  if (!code.empty() && std::string("<>|=").find(code[0]) != std::string::npos) {
    order = code[0];
    code = code.substr(1);
  }
  static const struct {
    const char* code;
    Kind kind;
    size_t size;
  } kTypes[] = {{"f8", Kind::Float, 8}, {"f4", Kind::Float, 4}, {"i8", Kind::Int, 8},
                {"i4", Kind::Int, 4},   {"i2", Kind::Int, 2},   {"i1", Kind::Int, 1},
                {"u8", Kind::UInt, 8},  {"u4", Kind::UInt, 4},  {"u2", Kind::UInt, 2},
                {"u1", Kind::UInt, 1},  {"b1", Kind::Bool, 1}};
  for (const auto& t : kTypes) {
    if (code != t.code) continue;
    GLIMPSE_CHECK(order != '>' || t.size == 1)
        << what << ": big-endian dtype '" << descr
        << "' is not supported; re-save the array little-endian (numpy: a.astype('<" << code
        << "'))";
    if constexpr (std::endian::native == std::endian::big) {
      GLIMPSE_CHECK(order != '=' || t.size == 1)
          << what << ": native-order dtype '" << descr << "' on a big-endian host is not supported";
    }
    return {t.kind, t.size};
  }
  GLIMPSE_FAIL() << what << ": unsupported dtype '" << descr
                 << "' (supported: f8 f4 i8 i4 i2 i1 u8 u4 u2 u1 b1, little-endian)";
  return {};
}

double load_value(const char* p, const DType& t) {
  return load_scalar(p, ScalarFormat{t.kind, t.itemsize});
}

// Reorders a column-major (Fortran) buffer to row-major (C) order, in place.
void fortran_to_c(std::vector<double>& data, const std::vector<size_t>& shape) {
  const size_t ndim = shape.size();
  if (data.empty() || ndim < 2) return;  // 0-d and 1-d arrays have one order
  std::vector<size_t> stride(ndim, 1);   // Fortran strides in elements
  for (size_t k = 1; k < ndim; ++k) stride[k] = stride[k - 1] * shape[k - 1];
  std::vector<size_t> index(ndim, 0);  // C-order odometer
  std::vector<double> c(data.size());
  for (size_t i = 0; i < c.size(); ++i) {
    size_t offset = 0;
    for (size_t k = 0; k < ndim; ++k) offset += index[k] * stride[k];
    c[i] = data[offset];
    for (size_t k = ndim; k-- > 0;) {
      if (++index[k] < shape[k]) break;
      index[k] = 0;
    }
  }
  data.swap(c);
}

}  // namespace

NpyArray read_npy(std::istream& in, const std::string& what) {
  // Preamble: magic, version, header length.
  char preamble[12] = {};
  in.read(preamble, 8);
  const auto got = static_cast<size_t>(in.gcount());
  GLIMPSE_CHECK(got > 0) << what << ": not a .npy file (it is empty)";
  const size_t magic_got = std::min(got, kMagicSize);
  GLIMPSE_CHECK(std::memcmp(preamble, kMagic, magic_got) == 0)
      << what << ": not a .npy file (bad magic: expected \\x93NUMPY, found \""
      << printable_bytes(preamble, magic_got) << "\")";
  GLIMPSE_CHECK(got == 8) << what << ": truncated header: the file ends after " << got
                          << " bytes, inside the preamble";
  const int major = static_cast<unsigned char>(preamble[6]);
  const int minor = static_cast<unsigned char>(preamble[7]);
  GLIMPSE_CHECK((major == 1 || major == 2 || major == 3) && minor == 0)
      << what << ": unsupported .npy format version " << major << "." << minor
      << " (supported: 1.0, 2.0, 3.0)";
  const size_t length_bytes = major == 1 ? 2 : 4;
  in.read(preamble + 8, static_cast<std::streamsize>(length_bytes));
  GLIMPSE_CHECK(static_cast<size_t>(in.gcount()) == length_bytes)
      << what << ": truncated header: the file ends inside the header length field";
  const size_t header_size = major == 1 ? load_le<uint16_t>(preamble + 8)
                                        : static_cast<size_t>(load_le<uint32_t>(preamble + 8));
  GLIMPSE_CHECK(header_size <= kMaxHeaderSize)
      << what << ": header length " << header_size << " bytes is implausible (corrupt file?)";

  std::string header_text(header_size, '\0');
  in.read(header_text.data(), static_cast<std::streamsize>(header_size));
  const auto header_got = static_cast<size_t>(in.gcount());
  GLIMPSE_CHECK(header_got == header_size)
      << what << ": truncated header: expected " << header_size << " bytes, got " << header_got;

  const Header header = HeaderParser(header_text, what).parse();
  const DType dtype = parse_dtype(header.descr, what);

  size_t count = 1;
  for (size_t d : header.shape) {
    GLIMPSE_CHECK(d == 0 || count <= std::numeric_limits<size_t>::max() / dtype.itemsize / d)
        << what << ": shape " << shape_string(header.shape) << " is too large";
    count *= d;
  }
  const size_t total_bytes = count * dtype.itemsize;

  NpyArray array;
  array.shape = header.shape;
  array.dtype = header.descr;
  // Read in chunks of whole items; grow the output only as data actually arrives.
  const size_t chunk_items = std::max<size_t>(1, kReadChunkBytes / dtype.itemsize);
  std::vector<char> buffer;
  size_t read_bytes = 0;
  while (read_bytes < total_bytes) {
    const size_t want = std::min(total_bytes - read_bytes, chunk_items * dtype.itemsize);
    buffer.resize(want);
    in.read(buffer.data(), static_cast<std::streamsize>(want));
    const auto n = static_cast<size_t>(in.gcount());
    read_bytes += n;
    GLIMPSE_CHECK(n == want) << what << ": truncated data: expected " << total_bytes
                             << " bytes for shape " << shape_string(header.shape) << " of '"
                             << header.descr << "', got " << read_bytes;
    const size_t items = want / dtype.itemsize;
    const size_t base = array.data.size();
    array.data.resize(base + items);
    for (size_t i = 0; i < items; ++i) {
      array.data[base + i] = load_value(buffer.data() + i * dtype.itemsize, dtype);
    }
  }
  if (header.fortran_order) fortran_to_c(array.data, array.shape);
  return array;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in = open_input_file(path);
  return read_npy(in, path);
}

void write_npy(std::ostream& out, const std::vector<size_t>& shape,
               const std::vector<double>& data) {
  size_t count = 1;
  for (size_t d : shape) count *= d;
  GLIMPSE_CHECK_EQ(count, data.size()) << "write_npy: shape " << shape_string(shape) << " holds "
                                       << count << " values but " << data.size() << " were given";
  std::string dict =
      "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape_string(shape) + ", }";
  // Version 1.0 has a 2-byte header length; very long shapes need version 2.0.
  const bool v1 = dict.size() + 1 + 10 <= 65535;
  const size_t preamble = v1 ? 10 : 12;
  const size_t padded = (preamble + dict.size() + 1 + 63) / 64 * 64;
  dict.append(padded - preamble - dict.size() - 1, ' ');
  dict.push_back('\n');
  out.write(kMagic, kMagicSize);
  out.put(v1 ? 1 : 2);
  out.put(0);
  if (v1) {
    store_le<uint16_t>(out, static_cast<uint16_t>(dict.size()));
  } else {
    store_le<uint32_t>(out, static_cast<uint32_t>(dict.size()));
  }
  out.write(dict.data(), static_cast<std::streamsize>(dict.size()));
  for (double v : data) store_le<double>(out, v);
  GLIMPSE_CHECK(out.good()) << "write_npy: the output stream failed";
}

void write_npy(const std::string& path, const std::vector<size_t>& shape,
               const std::vector<double>& data) {
  write_file_atomically(path, [&](std::ostream& out) { write_npy(out, shape, data); });
}

}  // namespace glimpse
