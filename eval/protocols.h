// The sparse-view evaluation protocols exactly as RegNeRF, FreeNeRF, SparseNeRF, DNGaussian, FSGS
// and CoR-GS use them: LLFF (every 8th image held out, n training views by np.linspace + Python
// round) and DTU (pixelNeRF split of 15 scans, masked metrics). sparse_view_methods.md section 2.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace glimpse {

enum class Suite { Llff, Dtu };

// "llff" / "dtu".
const char* suite_name(Suite suite);
// Inverse of suite_name (case-sensitive); throws glimpse::Error naming the accepted values.
Suite suite_from_name(std::string_view name);

// Image indices into a scene's images in sorted file-name order (LLFF), or 0-based DTU view ids
// (view k is rect_{k+1:03d}_3_r5000.png).
struct SplitIds {
  std::vector<int> train;
  std::vector<int> test;
};

// [SECTION] LLFF ---------------------------------------------------------------------------------

// nerf_llff_data at factor 8: 4032x3024 -> 504x378 (CoR-GS: "378x504"; FSGS v1's "503x381" is a
// known inconsistency). Report which image pipeline produced them: the shipped images_8 PNGs
// (NeRF family, FSGS) or the full-size JPEGs resized by PIL (DNGaussian, CoR-GS, DropGaussian),
// which reads ~0.5 dB higher.
inline constexpr int kLlffTestEvery = 8;
inline constexpr int kLlffFactor = 8;
inline constexpr int kLlffWidth = 504;
inline constexpr int kLlffHeight = 378;

// The 8 LLFF scenes of every paper: fern flower fortress horns leaves orchids room trex.
std::span<const std::string_view> llff_scenes();

// Test = every i with i % 8 == 0 (all of them, not only the unused training images); train
// views = remaining[round(x)] for x in np.linspace(0, len(remaining) - 1, n_views), with
// np.linspace's arithmetic (x_i = i * step, the last one exactly len - 1) and Python's round
// (half to even: 17.5 -> 18, 12.5 -> 12), so x.5 cases (horns, leaves at 3 views) match.
// e.g. fern (20 images), 3 views: train {1, 10, 19}, test {0, 8, 16}.
// Any n_views >= 1 up to the number of remaining images; throws glimpse::Error otherwise.
SplitIds llff_split(int num_images, int n_views);

// [SECTION] DTU ----------------------------------------------------------------------------------

// DTU "Rectified" images, light 3, 1600x1200 at factor 4: 400x300; 49 views per scan.
inline constexpr int kDtuFactor = 4;
inline constexpr int kDtuWidth = 400;
inline constexpr int kDtuHeight = 300;
inline constexpr int kDtuNumImages = 49;

// The 15 evaluation scans (pixelNeRF/RegNeRF): 8 21 30 31 34 38 40 41 45 55 63 82 103 110 114.
std::span<const int> dtu_scans();
// Training view order; n views use the first n: 25 22 28 40 44 48 0 8 13.
std::span<const int> dtu_train_ids();
// Views never used: 3 4 5 6 7 16 17 18 19 20 21 36 37 38 39.
std::span<const int> dtu_excluded_ids();
// The 25 test views: every view that is neither a training candidate nor excluded:
// 1 2 9 10 11 12 14 15 23 24 26 27 29 30 31 32 33 34 35 41 42 43 45 46 47.
std::span<const int> dtu_test_ids();

// train = dtu_train_ids()[:n_views], test = dtu_test_ids(); 1 <= n_views <= 9, else throws.
SplitIds dtu_split(int n_views);

// [SECTION] Protocol specification ---------------------------------------------------------------

// The view counts the papers report.
inline constexpr int kProtocolViewCounts[] = {3, 6, 9};

struct ProtocolSpec {
  std::string name;            // "llff-3view", "dtu-6view", ...
  Suite suite = Suite::Llff;   // dataset family
  int n_views = 3;             // training views: 3, 6 or 9
  int num_images = 0;          // images of the scene the ids index (DTU: 49)
  int downsample_factor = 8;   // from the full-resolution images (LLFF 8, DTU 4)
  int image_width = 0;         // evaluation resolution (LLFF 504x378, DTU 400x300)
  int image_height = 0;        //
  std::vector<int> train_ids;  // in protocol order
  std::vector<int> test_ids;   // ascending
  // DTU: PSNR over the object mask (psnr_masked), SSIM and LPIPS on renders and ground truth
  // composited onto white outside it (composite_background); masks are evaluation-only.
  bool masked = false;

  // Throws glimpse::Error naming the problem: n_views not 3/6/9, train_ids.size() != n_views,
  // an id outside [0, num_images), duplicate ids, a view both in train and test, no test view,
  // or a non-positive factor/size.
  void check() const;
};

// The protocol for a scene of num_images images (LLFF: the scene's image count, e.g. fern 20;
// DTU: must be 49). n_views must be 3, 6 or 9. The result passes check().
ProtocolSpec make_protocol(Suite suite, int n_views, int num_images);

// One line for reports, e.g. "llff-3view: 504x378 (factor 8), 20 images, train [1, 10, 19],
// test [0, 8, 16], full-image metrics".
std::string describe_protocol(const ProtocolSpec& spec);

}  // namespace glimpse
