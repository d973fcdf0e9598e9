// The compressed splat formats the web viewers and editors open, beside the reference 3DGS PLY
// (io/splat_ply.h): antimatter15's .splat rows, Niantic's SPZ and PlayCanvas' compressed PLY, plus
// a dispatcher that picks the format from a file's extension or content.
#pragma once

#include "renderer/gaussians.h"

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace glimpse {

// ------------------------------------------------------------------------------------------------
// Stated round-trip tolerances: the largest difference between what a writer is given and what
// the reader gives back, per quantity, for values inside each format's range. The tests assert
// these and the docs cite them. "Quaternion" bounds are the chord |q' - q| between the unit input
// q and the normalised output q' (sign chosen so that q . q' >= 0); a chord c is an angle between
// the two 4-vectors of about c radians, i.e. a rotation error of about 2c.

// .splat: positions and linear scales are float32 (positions exact, log scales to float rounding).
struct DotSplatQuantisation {
  // RGB = trunc(255 * clamp(0.5 + SH_C0 f_dc, 0, 1)): colour in [0, 1] within 1/255.
  static constexpr double kColour = 1.0 / 255.0;
  // A = trunc(255 sigmoid(opacity)): opacity (sigmoid space) within 1/255.
  static constexpr double kOpacity = 1.0 / 255.0;
  // Each component trunc(128 q + 128), decoded (b - 128) / 128: each within 1/128, the 4-vector
  // within 1/64, so its direction within asin(1/64) and the chord after normalising < 1/63.
  static constexpr double kQuaternion = 1.0 / 63.0;
};

// SPZ (versions 2, 3 and 4, 12 fractional bits; version 4 quantises as version 3).
struct SpzQuantisation {
  // 24-bit fixed point with 12 fractional bits: |x| < 2048 within 2^-13. (Larger scenes are
  // written with fewer fractional bits, see write_spz: the bound doubles per bit given up.)
  static constexpr double kPosition = 1.0 / 8192.0;
  // round(16 (log_scale + 10)) in 0..255: log scales in [-10, 5.9375] within 1/32.
  static constexpr double kLogScale = 1.0 / 32.0;
  static constexpr double kLogScaleMin = -10.0, kLogScaleMax = 5.9375;
  // round(255 (0.15 f_dc + 0.5)): f_dc in [-10/3, 10/3] within 0.5 / (255 * 0.15).
  static constexpr double kColourScale = 0.15;
  static constexpr double kDc = 0.5 / (255.0 * 0.15);
  // round(255 sigmoid(opacity)): opacity (sigmoid space) within 0.5/255.
  static constexpr double kOpacity = 0.5 / 255.0;
  // Version 3 "smallest three": three components in 9 bits + sign, each within
  // d = 0.5 / 511 / sqrt(2); the reconstructed largest one adds at most 3d: chord within 4d.
  static constexpr double kQuaternionV3 = 4.0 * 0.5 / 511.0 * 0.70710678118654752;
  // Version 2: x y z in 8 bits ((q + 1) 127.5), w reconstructed; the chord grows as 1 / w:
  // within 0.012 / w for the normalised w >= 0 (0.03 for w >= 0.4).
  static constexpr double kQuaternionV2TimesW = 0.012;
  // SH (bands 1..3): round(128 x) + 128, then rounded to a bucket centre (8 levels apart for
  // band 1, i.e. 5 bits; 16 apart for bands 2-3, 4 bits); coefficients in [-1, 127/128] within
  // (1 + 8) / 256 and (1 + 16) / 256.
  static constexpr double kShBand1 = 9.0 / 256.0;
  static constexpr double kShBands23 = 17.0 / 256.0;
};

// PlayCanvas compressed PLY: values quantised relative to each chunk's (256 splats) min..max.
struct CompressedPlyQuantisation {
  // Positions and log scales, 11-10-11 bits over the chunk's range per axis: within
  // range / (2 (2^bits - 1)), i.e. range / 4094 for x and z, range / 2046 for y.
  static constexpr double kPositionFractionX = 1.0 / 4094.0;
  static constexpr double kPositionFractionY = 1.0 / 2046.0;
  static constexpr double kPositionFractionZ = 1.0 / 4094.0;
  // Log scales are clamped to [-20, 20] first.
  static constexpr double kLogScaleLimit = 20.0;
  // Colour (0.5 + SH_C0 f_dc) in 8 bits over the chunk's colour range: within range / 510.
  static constexpr double kColourFraction = 1.0 / 510.0;
  // Opacity: round(255 sigmoid(opacity)), within 0.5/255 in sigmoid space.
  static constexpr double kOpacity = 0.5 / 255.0;
  // Smallest three in 10 bits each over [-1/sqrt 2, 1/sqrt 2]: each within d = sqrt(2) / 2 / 1023,
  // the chord within 4d.
  static constexpr double kQuaternion = 4.0 * 0.70710678118654752 / 1023.0;
  // SH: trunc(256 (x / 8 + 0.5)) decoded at bucket centres (x in [-3.96875, 3.96875]) within 1/64.
  static constexpr double kSh = 1.0 / 64.0;
  static constexpr double kShRange = 3.96875;
};

// ------------------------------------------------------------------------------------------------
// .splat (github.com/antimatter15/splat, convert.py): no header, N rows of 32 bytes, little-endian:
//   float32 x y z | float32 scale_0..2 (linear: exp(log scale)) |
//   uint8 R G B A (trunc(255 clamp(0.5 + SH_C0 f_dc, 0, 1)), A = trunc(255 sigmoid(opacity))) |
//   uint8 rot w x y z (trunc(clamp(128 q / |q| + 128, 0, 255)))
// Rows are sorted most important first, by -exp(scale_0 + scale_1 + scale_2) sigmoid(opacity)
// (convert.py's order; ties keep Glimpse's order). Only the SH DC term is stored; a zero
// quaternion is written as the identity. Throws glimpse::Error naming `what` when g fails
// Gaussians::check.
void write_dot_splat(std::ostream& out, const Gaussians& g,
                     const std::string& what = ".splat file");
// Writes atomically (temporary sibling, then rename): a failure leaves no file under `path`.
void write_dot_splat(const std::string& path, const Gaussians& g);

// Reads a .splat file: SH degree 0, f_dc = (c / 255 - 0.5) / SH_C0, opacity =
// logit(clamp(A / 255, 0.5/255, 254.5/255)) (finite for 0 and 255), log scale = log(scale) (a
// zero scale becomes the smallest normal float), quaternion (b - 128) / 128 (not normalised; all
// four 128 gives the identity). Throws glimpse::Error naming `what`: empty file, a size that is
// not a multiple of 32 (with the byte count), negative or non-finite scales or positions.
Gaussians read_dot_splat(std::istream& in, const std::string& what);
Gaussians read_dot_splat(const std::string& path);

// ------------------------------------------------------------------------------------------------
// SPZ (github.com/nianticlabs/spz, src/cc/load-spz.cc). Versions 1-3: a gzip stream of a 16-byte
// little-endian header {uint32 magic 0x5053474e "NGSP", uint32 version, uint32 numPoints, uint8
// shDegree, uint8 fractionalBits, uint8 flags (0x1 antialiased, 0x2 extensions follow), uint8
// reserved} and the attribute blocks, each for all points in turn:
//   positions   3 x 24-bit signed fixed point (fractionalBits), 9 bytes
//   alphas      round(255 sigmoid(opacity)), 1 byte
//   colors      round(255 (0.15 f_dc + 0.5)), 3 bytes
//   scales      round(16 (log_scale + 10)), 3 bytes
//   rotations   v3: "smallest three" (uint32: 2-bit index of the largest of x y z w, then for the
//               others sign bit + 9-bit magnitude |q_i| sqrt 2 511), 4 bytes; v2: round((q / |q|
//               with w >= 0) 127.5 + 127.5) for x y z, 3 bytes
//   sh          bands 1..3, coefficient-major, RGB inner, round(128 x) + 128 snapped to buckets
//               of 8 (band 1) or 16 (bands 2-3), 3 (K - 1) bytes
// Version 4 (the reference saveSpz's current default), not gzipped: a plain 32-byte header {uint32
// magic, version 4, numPoints, uint8 shDegree, fractionalBits, flags, numStreams, uint32
// tocByteOffset, 12 reserved bytes}, extension records up to tocByteOffset (flag 0x2; skipped when
// reading, none written), a table of numStreams {uint64 compressedSize, uint64 uncompressedSize},
// then each non-empty attribute block above (v3 rotations; no sh block at degree 0: 5 or 6 streams)
// as its own ZSTD frame (level 12), ending exactly at the end of the file.
struct SpzOptions {
  // The version written: 3 (gzip, smallest-three quaternions, what the reference writes when asked
  // for the gzip format, readable by every SPZ reader since 2025), 4 (the reference's current
  // default: the same blocks in ZSTD streams, for current readers) or 2 (gzip,
  // first-three quaternions, for older readers). Reading accepts versions 1-4 (and 4 inside gzip,
  // as the reference does).
  int version = 3;
  // Axes. false (the default): Glimpse's axes (x right, y down, z forward, the 3DGS PLY's "RDF")
  // are stored unchanged, as the reference's ply_to_spz / spz_to_ply tools and PlayCanvas'
  // splat-transform do (CoordinateSystem::UNSPECIFIED), so PLY -> SPZ -> PLY round trips through
  // any of them. true: stored in SPZ's nominal RUB axes, as PackOptions{from = RDF} /
  // UnpackOptions{to = RDF} do (y and z negated, quaternion y z negated, SH sign flips per
  // coefficient); use it for files from apps that follow the RUB convention (e.g. Scaniverse).
  bool rub_axes = false;
  // Header flag 0x1 (the splat was trained with mip-splatting's antialiasing); writing only.
  bool antialiased = false;
};

// Writes SPZ exactly as the reference's saveSpz(PackOptions{version = 2, 3 or 4}) (same bytes
// before gzip, deflate level Z_DEFAULT_COMPRESSION, windowBits 15 + 16; for version 4 the same
// header, table and uncompressed streams, ZSTD_compress2 at level 12). fractionalBits is 12 unless
// a coordinate needs more than 24 bits: then the largest count that fits (the reference would
// wrap). Throws glimpse::Error naming `what` for an unsupported version, Gaussians failing check,
// or positions beyond 2^23 (nothing is written).
void write_spz(std::ostream& out, const Gaussians& g, const SpzOptions& options = {},
               const std::string& what = "SPZ file");
void write_spz(const std::string& path, const Gaussians& g, const SpzOptions& options = {});

// Reads SPZ versions 1-3 (inflate with windowBits 15 + 32, so gzip or zlib wrappers) and version 4
// (raw "NGSP" header, ZSTD streams) as the reference's loadSpz, except that opacity bytes 0 and
// 255 decode to finite logits (as read_dot_splat) and a quaternion is renormalised. Throws
// glimpse::Error naming `what`: empty, neither gzip nor "NGSP", corrupt or truncated gzip stream,
// wrong magic, unsupported version, SH degree 4, numPoints zero or not matching the data (with
// both byte counts); for version 4 also a header shorter than 32 bytes, a wrong numStreams, a
// table of contents or stream past the end of the file, bytes after the last stream, a table
// size other than numPoints needs, a corrupt or truncated ZSTD frame, or one that decompresses to
// another size (sizes are checked against the file before anything is allocated).
Gaussians read_spz(std::istream& in, const std::string& what, const SpzOptions& options = {});
Gaussians read_spz(const std::string& path, const SpzOptions& options = {});

// ------------------------------------------------------------------------------------------------
// PlayCanvas compressed PLY (.compressed.ply; github.com/playcanvas/splat-transform,
// src/lib/writers/write-compressed-ply.ts and compressed-chunk.ts): binary little-endian PLY with
//   element chunk ceil(N / 256): float min_x min_y min_z max_x max_y max_z min_scale_x..z
//                                max_scale_x..z min_r min_g min_b max_r max_g max_b
//   element vertex N: uint packed_position (x 11 | y 10 | z 11 bits, unorm over the chunk's range),
//                     packed_rotation (2-bit index of the largest of rot_0..3 = w x y z, then the
//                     others as 10-bit unorm of q sqrt(2)/2 + 0.5), packed_scale (log scales, 11 |
//                     10 | 11 over the chunk's clamped range), packed_color (R G B of
//                     0.5 + SH_C0 f_dc over the chunk's colour range, A = sigmoid(opacity), 8 bits)
//   element sh N (SH degree > 0): uchar f_rest_0.. (3DGS channel-major order),
//                     trunc(256 (x / 8 + 0.5)) clamped to 0..255
// Splats are written in splat-transform's Morton order (recursive 10-bit-per-axis codes, equal
// codes in groups over 256 re-sorted within their own bounds) and chunked by 256; the header has
// "comment Generated by Glimpse". Throws glimpse::Error naming `what` when g fails check.
void write_compressed_ply(std::ostream& out, const Gaussians& g,
                          const std::string& what = "compressed PLY file");
void write_compressed_ply(const std::string& path, const Gaussians& g);

// Reads a compressed PLY by property names (any property order; the older 12-property chunks
// without colour ranges too; little- or big-endian), decoding as splat-transform's
// decompress-ply.ts (opacity bytes 0 and 255 to finite logits, as read_dot_splat). Throws
// glimpse::Error naming `what`: not PLY, ASCII, missing element or property, wrong types, a chunk
// count other than ceil(N / 256), an sh element whose count or f_rest count does not fit, truncated
// data, data after the elements.
Gaussians read_compressed_ply(std::istream& in, const std::string& what);
Gaussians read_compressed_ply(const std::string& path);

// ------------------------------------------------------------------------------------------------
// Dispatch.
enum class SplatFormat { Ply, Splat, Spz, CompressedPly };

// "ply", "splat", "spz", "compressed-ply" (the CLI's names); throws glimpse::Error for others.
SplatFormat splat_format_from_name(const std::string& name);
// The CLI name of a format ("compressed-ply", ...).
const char* splat_format_name(SplatFormat format);

// By extension, case-insensitive: ".compressed.ply" (tested before ".ply"), ".ply", ".splat",
// ".spz"; nullopt for anything else.
std::optional<SplatFormat> splat_format_from_path(const std::string& path);

// By content: "ply" + a line break, then CompressedPly when the header (up to 64 KiB) declares
// 'element chunk' or a 'packed_position' property, else Ply; gzip magic 1f 8b 08, or the raw
// "NGSP" magic of SPZ version 4 -> Spz; otherwise a non-empty size that is a multiple of 32 ->
// Splat; nullopt when none fits. `bytes` is the whole file (its size matters for .splat).
std::optional<SplatFormat> sniff_splat_format(std::string_view bytes);
// Same, for a seekable stream (reads the head and restores the position).
std::optional<SplatFormat> sniff_splat_format(std::istream& in);

// Reads any of the four formats. The content decides; when the extension names a format of another
// family (PLY vs .splat vs SPZ) the error is "<file>: the extension says X but the content is Y".
// A .ply name may hold either PLY kind. When the content fits no format, the extension's reader
// gives its own error; with neither, the error says the format is unknown.
Gaussians read_splat_file(const std::string& path);

// Writes `g` in `format` (SPZ with `spz`, by default SpzOptions{}), atomically.
void write_splat_file(const std::string& path, const Gaussians& g, SplatFormat format,
                      const SpzOptions& spz = {});

}  // namespace glimpse
