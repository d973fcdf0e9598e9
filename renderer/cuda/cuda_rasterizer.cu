// CUDA rasterizer orchestration (the pipeline of gs_systems.md 5h): preprocess and compact the
// visible Gaussians, 32-bit depth radix sort, instance counts and exclusive scan, instance emission
// in depth order, stable tile-key radix sort, tile ranges, bucket bookkeeping, forward blending
// with per-bucket checkpoints; backward: per-splat bucket kernel, then the per-Gaussian chain. Two
// host syncs per forward (visible count, instance count) plus the downloads; none inside backward.
// All scratch lives in grow-only DeviceBuffers kept across calls.
#include "core/check.h"
#include "renderer/cuda/cuda_check.cuh"
#include "renderer/cuda/cuda_device.h"
#include "renderer/cuda/cuda_rasterizer.h"
#include "renderer/cuda/device_buffer.h"
#include "renderer/cuda/launchers.cuh"
#include "renderer/kernels/gaussian_chain.h"  // kSlotSize

#include <climits>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_select.cuh>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>

namespace glimpse {

using gpu::DeviceBuffer;

struct CudaRasterizer::State {
  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (stream != nullptr) cudaStreamSynchronize(stream);
    for (cudaEvent_t e : events)
      if (e != nullptr) cudaEventDestroy(e);
    if (stream != nullptr) cudaStreamDestroy(stream);
  }

  cudaStream_t stream = nullptr;
  cudaEvent_t events[4] = {nullptr, nullptr, nullptr, nullptr};
  std::string device;

  // Parameters of the last forward (read again by backward).
  DeviceBuffer<float> means{"means"}, log_scales{"log-scales"}, quats{"quaternions"};
  DeviceBuffer<float> opacity_logits{"opacity logits"}, sh{"SH coefficients"};
  // Per Gaussian [N].
  DeviceBuffer<float4> xy_opacity_z{"splat means"}, conic_smax{"splat conics"},
      rgb{"splat colours"};
  DeviceBuffer<int4> box{"splat boxes"};
  DeviceBuffer<int32_t> radii{"radii"};
  DeviceBuffer<uint8_t> visible{"visibility flags"};
  DeviceBuffer<uint32_t> ids{"Gaussian ids"};
  // Per visible Gaussian [V].
  DeviceBuffer<uint32_t> ids_visible{"visible ids"}, ids_sorted{"depth-sorted ids"};
  DeviceBuffer<uint32_t> depth_keys{"depth keys"}, depth_keys_sorted{"sorted depth keys"};
  DeviceBuffer<int64_t> counts{"instance counts"}, offsets{"instance offsets"};
  // Per instance [M].
  DeviceBuffer<uint32_t> tile_keys{"tile keys"}, tile_keys_sorted{"sorted tile keys"};
  DeviceBuffer<uint32_t> instance_ids{"instance ids"}, instance_ids_sorted{"sorted instance ids"};
  // Per tile, per bucket [B], per pixel in tile order [P], per bucket pixel [B, 256].
  DeviceBuffer<int2> ranges{"tile ranges"};
  DeviceBuffer<int32_t> bucket_counts{"bucket counts"}, bucket_offsets{"bucket offsets"};
  DeviceBuffer<int32_t> tile_max_last{"tile contributor counts"}, bucket_tile{"bucket tiles"};
  DeviceBuffer<float4> pix_cd{"pixel colour sums"};
  DeviceBuffer<float> pix_t{"pixel transmittance"};
  DeviceBuffer<int32_t> pix_last{"pixel last contributors"}, pix_median{"pixel median indices"};
  DeviceBuffer<float4> ckpt_cd{"bucket colour checkpoints"};
  DeviceBuffer<float> ckpt_t{"bucket transmittance checkpoints"};
  DeviceBuffer<float> image{"output images"};  // [6, H, W]
  // Backward.
  DeviceBuffer<float> v_rgb{"rgb gradient"}, v_alpha{"alpha gradient"}, v_depth{"depth gradient"},
      v_median{"median depth gradient"};
  DeviceBuffer<float4> pix_v{"pixel gradients"}, pix_k{"pixel gradient constants"};
  DeviceBuffer<float> v2d{"screen-space gradients"}, grads{"parameter gradients"};
  DeviceBuffer<float> pose_partials{"pose gradient partials"}, pose{"pose gradient"};
  // Counters and cub's scratch.
  DeviceBuffer<int32_t> num_selected{"visible count"};
  DeviceBuffer<int64_t> total{"instance count"};
  DeviceBuffer<unsigned long long> evaluations{"evaluation count"};
  DeviceBuffer<char> cub_temp{"cub scratch"};

  // Shape of the last forward; has_forward is false until one completed.
  bool has_forward = false;
  int width = 0, height = 0, tiles_x = 0, tiles_y = 0;
  size_t n = 0;
  int64_t num_instances = 0;
  int bucket_slots = 0;
  CudaTimings forward_timings, backward_timings;

  void* temp(size_t bytes) {
    cub_temp.resize_discard(std::max<size_t>(bytes, 1));
    return cub_temp.data();
  }
  float elapsed(int a, int b) const {
    float ms = 0.f;
    cudaEventElapsedTime(&ms, events[a], events[b]);
    return ms;
  }
  void finish_timings(CudaTimings& t) {
    GLIMPSE_CUDA_CHECK(cudaEventSynchronize(events[3]));
    t.upload_ms = elapsed(0, 1);
    t.compute_ms = elapsed(1, 2);
    t.download_ms = elapsed(2, 3);
  }
};

namespace {

int sh_degree_used(int model_degree, const RenderOptions& options) {
  return std::min(model_degree, std::max(0, options.sh_degree));
}

gpu::PreprocessParams preprocess_params(const Gaussians& g, const Camera& camera,
                                        const RenderOptions& options) {
  gpu::PreprocessParams p;
  p.n = static_cast<int>(g.size());
  p.sh_degree = sh_degree_used(g.sh_degree, options);
  p.sh_stride = 3 * g.sh_coeffs();
  p.camera = camera.cast<float>();
  p.near_plane = options.near_plane;
  p.far_plane = options.far_plane;
  p.blur = options.blur;
  p.antialiased = options.antialiasing == AntiAliasing::MipSplatting;
  p.opacity_aware = options.extent == ExtentMode::OpacityAware;
  return p;
}

gpu::ForwardBlendParams blend_params(int width, int height, const RenderOptions& options) {
  gpu::ForwardBlendParams p;
  p.width = width;
  p.height = height;
  p.tiles_x = (width + kTileSize - 1) / kTileSize;
  p.tiles_y = (height + kTileSize - 1) / kTileSize;
  p.background = make_float3(options.background.x, options.background.y, options.background.z);
  return p;
}

// Radix bits covering tile ids 0..tiles (tiles itself is the emission guard's key).
int tile_key_bits(int tiles) {
  int bits = 1;
  while (bits < 32 && (1ll << bits) <= tiles) ++bits;
  return bits;
}

}  // namespace

CudaRasterizer::CudaRasterizer() : state_(std::make_unique<State>()) {
  GLIMPSE_CHECK(cuda_device_count() > 0) << "no CUDA device is available";
  State& s = *state_;
  GLIMPSE_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
  for (cudaEvent_t& e : s.events) GLIMPSE_CUDA_CHECK(cudaEventCreate(&e));
  s.device = cuda_device_description();
  s.num_selected.resize_discard(1);
  s.total.resize_discard(1);
  s.evaluations.resize_discard(1);
  s.pose.resize_discard(12);
}

CudaRasterizer::~CudaRasterizer() = default;

std::string CudaRasterizer::name() const { return "cuda (" + state_->device + ")"; }

const CudaTimings& CudaRasterizer::last_forward_timings() const { return state_->forward_timings; }
const CudaTimings& CudaRasterizer::last_backward_timings() const {
  return state_->backward_timings;
}

size_t CudaRasterizer::device_bytes() const {
  const State& s = *state_;
  size_t total = 0;
  auto add = [&](const auto& b) { total += b.capacity() * sizeof(*b.data()); };
  add(s.means), add(s.log_scales), add(s.quats), add(s.opacity_logits), add(s.sh);
  add(s.xy_opacity_z), add(s.conic_smax), add(s.rgb), add(s.box), add(s.radii), add(s.visible);
  add(s.ids), add(s.ids_visible), add(s.ids_sorted), add(s.depth_keys), add(s.depth_keys_sorted);
  add(s.counts), add(s.offsets), add(s.tile_keys), add(s.tile_keys_sorted), add(s.instance_ids);
  add(s.instance_ids_sorted), add(s.ranges), add(s.bucket_counts), add(s.bucket_offsets);
  add(s.tile_max_last), add(s.bucket_tile), add(s.pix_cd), add(s.pix_t), add(s.pix_last);
  add(s.pix_median), add(s.ckpt_cd), add(s.ckpt_t), add(s.image), add(s.v_rgb), add(s.v_alpha);
  add(s.v_depth), add(s.v_median), add(s.pix_v), add(s.pix_k), add(s.v2d), add(s.grads);
  add(s.pose_partials), add(s.pose), add(s.cub_temp);
  return total;
}

// [SECTION] forward -------------------------------------------------------------------------------
void CudaRasterizer::forward(const Gaussians& g, const Camera& camera, const RenderOptions& options,
                             RenderOutput& out) {
  check_render_inputs(g, camera, options);
  GLIMPSE_CHECK_LT(g.size(), static_cast<size_t>(INT_MAX / 16))
      << "too many Gaussians for the CUDA rasterizer";
  State& s = *state_;
  s.has_forward = false;
  const size_t n = g.size();
  const int w = camera.width, h = camera.height;
  const cudaStream_t st = s.stream;
  try {
    const gpu::PreprocessParams pp = preprocess_params(g, camera, options);
    const gpu::ForwardBlendParams bp = blend_params(w, h, options);
    const int tiles = bp.tiles_x * bp.tiles_y;
    const size_t tile_pixels = static_cast<size_t>(tiles) * kTilePixels;

    GLIMPSE_CUDA_CHECK(cudaEventRecord(s.events[0], st));
    s.means.upload(g.means, st);
    s.log_scales.upload(g.log_scales, st);
    s.quats.upload(g.quats, st);
    s.opacity_logits.upload(g.opacity_logits, st);
    s.sh.upload(g.sh, st);
    GLIMPSE_CUDA_CHECK(cudaEventRecord(s.events[1], st));

    // 1. Preprocess every Gaussian; compact the visible ones in index order.
    s.xy_opacity_z.resize_discard(n);
    s.conic_smax.resize_discard(n);
    s.rgb.resize_discard(n);
    s.box.resize_discard(n);
    s.radii.resize_discard(n);
    s.visible.resize_discard(n);
    s.ids.resize_discard(n);
    s.ids_visible.resize_discard(n);
    const gpu::SplatArrays splats{s.xy_opacity_z.data(), s.conic_smax.data(), s.rgb.data(),
                                  s.box.data()};
    gpu::launch_preprocess_forward(pp, s.means.data(), s.log_scales.data(), s.quats.data(),
                                   s.opacity_logits.data(), s.sh.data(), splats, s.radii.data(),
                                   s.visible.data(), s.ids.data(), st);
    int visible = 0;
    if (n > 0) {
      size_t bytes = 0;
      GLIMPSE_CUDA_CHECK(cub::DeviceSelect::Flagged(nullptr, bytes, s.ids.data(), s.visible.data(),
                                                    s.ids_visible.data(), s.num_selected.data(),
                                                    static_cast<int>(n), st));
      GLIMPSE_CUDA_CHECK(cub::DeviceSelect::Flagged(
          s.temp(bytes), bytes, s.ids.data(), s.visible.data(), s.ids_visible.data(),
          s.num_selected.data(), static_cast<int>(n), st));
      s.num_selected.download(&visible, 1, st);  // host sync 1
    }

    // 2. Depth sort (32-bit keys, stable: equal depths keep index order, as on the CPU), instance
    // counts in depth order and their exclusive scan.
    int64_t instances = 0;
    if (visible > 0) {
      const int v = visible;
      s.depth_keys.resize_discard(v);
      s.depth_keys_sorted.resize_discard(v);
      s.ids_sorted.resize_discard(v);
      s.counts.resize_discard(v);
      s.offsets.resize_discard(v);
      gpu::launch_gather_depth_keys(v, s.ids_visible.data(), s.xy_opacity_z.data(),
                                    s.depth_keys.data(), st);
      size_t bytes = 0;
      GLIMPSE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
          nullptr, bytes, s.depth_keys.data(), s.depth_keys_sorted.data(), s.ids_visible.data(),
          s.ids_sorted.data(), v, 0, 32, st));
      GLIMPSE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
          s.temp(bytes), bytes, s.depth_keys.data(), s.depth_keys_sorted.data(),
          s.ids_visible.data(), s.ids_sorted.data(), v, 0, 32, st));
      gpu::launch_gather_counts(v, s.ids_sorted.data(), splats, s.counts.data(), st);
      bytes = 0;
      GLIMPSE_CUDA_CHECK(
          cub::DeviceScan::ExclusiveSum(nullptr, bytes, s.counts.data(), s.offsets.data(), v, st));
      GLIMPSE_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(s.temp(bytes), bytes, s.counts.data(),
                                                       s.offsets.data(), v, st));
      gpu::launch_total(v, s.offsets.data(), s.counts.data(), s.total.data(), st);
      s.total.download(&instances, 1, st);  // host sync 2
    }
    GLIMPSE_CHECK_LT(instances, static_cast<int64_t>(INT_MAX) - 1024)
        << "too many (Gaussian, tile) pairs for the CUDA rasterizer (" << n << " Gaussians at " << w
        << "x" << h << ")";
    const int m = static_cast<int>(instances);

    // 3. Instances in depth order, stable sort by tile id, tile ranges.
    s.ranges.resize_discard(tiles);
    s.ranges.fill_bytes(0, st);
    s.tile_keys.resize_discard(m);
    s.tile_keys_sorted.resize_discard(m);
    s.instance_ids.resize_discard(m);
    s.instance_ids_sorted.resize_discard(m);
    if (m > 0) {
      gpu::launch_emit_instances(visible, s.ids_sorted.data(), s.offsets.data(), s.counts.data(),
                                 splats, bp.tiles_x, tiles, s.tile_keys.data(),
                                 s.instance_ids.data(), st);
      const int bits = tile_key_bits(tiles);
      size_t bytes = 0;
      GLIMPSE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
          nullptr, bytes, s.tile_keys.data(), s.tile_keys_sorted.data(), s.instance_ids.data(),
          s.instance_ids_sorted.data(), m, 0, bits, st));
      GLIMPSE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
          s.temp(bytes), bytes, s.tile_keys.data(), s.tile_keys_sorted.data(),
          s.instance_ids.data(), s.instance_ids_sorted.data(), m, 0, bits, st));
      gpu::launch_tile_ranges(m, tiles, s.tile_keys_sorted.data(), s.ranges.data(), st);
    }

    // 4. Buckets of 32 instances per tile: offsets by scan; the total is bounded by
    // m / 32 + tiles, so the checkpoints are sized without another host sync.
    s.bucket_counts.resize_discard(tiles);
    s.bucket_offsets.resize_discard(tiles);
    gpu::launch_bucket_counts(tiles, s.ranges.data(), s.bucket_counts.data(), st);
    {
      size_t bytes = 0;
      GLIMPSE_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, bytes, s.bucket_counts.data(),
                                                       s.bucket_offsets.data(), tiles, st));
      GLIMPSE_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(s.temp(bytes), bytes, s.bucket_counts.data(),
                                                       s.bucket_offsets.data(), tiles, st));
    }
    const int slots = m / gpu::kBucketSize + tiles;
    s.bucket_tile.resize_discard(slots);
    s.bucket_tile.fill_bytes(0xFF, st);
    gpu::launch_bucket_tiles(tiles, s.bucket_offsets.data(), s.bucket_counts.data(),
                             s.bucket_tile.data(), st);

    // 5. Blend.
    s.ckpt_cd.resize_discard(static_cast<size_t>(slots) * kTilePixels);
    s.ckpt_t.resize_discard(static_cast<size_t>(slots) * kTilePixels);
    s.pix_cd.resize_discard(tile_pixels);
    s.pix_t.resize_discard(tile_pixels);
    s.pix_last.resize_discard(tile_pixels);
    s.pix_median.resize_discard(tile_pixels);
    s.tile_max_last.resize_discard(tiles);
    s.image.resize_discard(6 * static_cast<size_t>(w) * h);
    s.evaluations.fill_bytes(0, st);
    gpu::launch_blend_forward(
        bp, s.ranges.data(), s.bucket_offsets.data(), s.instance_ids_sorted.data(), splats,
        s.image.data(), s.pix_cd.data(), s.pix_t.data(), s.pix_last.data(), s.pix_median.data(),
        s.ckpt_cd.data(), s.ckpt_t.data(), s.tile_max_last.data(), s.evaluations.data(), st);
    GLIMPSE_CUDA_CHECK(cudaEventRecord(s.events[2], st));

    // 6. Download.
    const size_t hw = static_cast<size_t>(w) * h;
    out.rgb = Image<float>(w, h, 3);
    out.alpha = Image<float>(w, h, 1);
    out.depth = Image<float>(w, h, 1);
    out.median_depth = Image<float>(w, h, 1);
    s.image.download_range(out.rgb.data(), 0, 3 * hw, st);
    s.image.download_range(out.alpha.data(), 3 * hw, hw, st);
    s.image.download_range(out.depth.data(), 4 * hw, hw, st);
    s.image.download_range(out.median_depth.data(), 5 * hw, hw, st);
    out.radii.resize(n);
    s.radii.download(out.radii.data(), n, st);
    unsigned long long evaluations = 0;
    s.evaluations.download(&evaluations, 1, st);
    GLIMPSE_CUDA_CHECK(cudaEventRecord(s.events[3], st));
    s.finish_timings(s.forward_timings);

    out.num_visible = visible;
    out.num_instances = instances;
    out.num_evaluations = static_cast<int64_t>(evaluations);
    s.width = w, s.height = h, s.tiles_x = bp.tiles_x, s.tiles_y = bp.tiles_y;
    s.n = n;
    s.num_instances = instances;
    s.bucket_slots = slots;
    s.has_forward = true;
  } catch (const gpu::OutOfMemory& e) {
    GLIMPSE_FAIL() << "CUDA rasterizer out of memory rendering " << n << " Gaussians at " << w
                   << "x" << h << ": " << e.what();
  }
}

// [SECTION] backward ------------------------------------------------------------------------------
void CudaRasterizer::backward(const Gaussians& g, const Camera& camera,
                              const RenderOptions& options, const RenderOutputGradients& v_out,
                              GaussianGradients& grads, ScreenGradientStats* stats) {
  State& s = *state_;
  GLIMPSE_CHECK(s.has_forward && camera.width == s.width && camera.height == s.height &&
                g.size() == s.n && g.sh.size() == s.sh.size())
      << "backward() must follow forward() with the same camera and Gaussians";
  auto check_grad = [&](const Image<float>& img, int channels, const char* name) {
    GLIMPSE_CHECK(img.empty() || (img.width() == s.width && img.height() == s.height &&
                                  img.channels() == channels))
        << "gradient image '" << name << "' must be " << s.width << "x" << s.height << "x"
        << channels;
  };
  check_grad(v_out.rgb, 3, "rgb");
  check_grad(v_out.alpha, 1, "alpha");
  check_grad(v_out.depth, 1, "depth");
  check_grad(v_out.median_depth, 1, "median_depth");
  const size_t n = s.n;
  const cudaStream_t st = s.stream;
  try {
    const gpu::PreprocessParams pp = preprocess_params(g, camera, options);
    const gpu::ForwardBlendParams bp = blend_params(s.width, s.height, options);
    const size_t tile_pixels = static_cast<size_t>(bp.tiles_x) * bp.tiles_y * kTilePixels;

    GLIMPSE_CUDA_CHECK(cudaEventRecord(s.events[0], st));
    auto upload = [&](DeviceBuffer<float>& buf, const Image<float>& img) -> const float* {
      if (img.empty()) return nullptr;
      buf.upload(img.data(), img.size(), st);
      return buf.data();
    };
    const float* v_rgb = upload(s.v_rgb, v_out.rgb);
    const float* v_alpha = upload(s.v_alpha, v_out.alpha);
    const float* v_depth = upload(s.v_depth, v_out.depth);
    const float* v_median = upload(s.v_median, v_out.median_depth);
    GLIMPSE_CUDA_CHECK(cudaEventRecord(s.events[1], st));

    // 1. Per pixel constants, then per bucket (per splat) screen-space gradients.
    s.pix_v.resize_discard(tile_pixels);
    s.pix_k.resize_discard(tile_pixels);
    gpu::launch_pixel_gradients(bp, v_rgb, v_alpha, v_depth, v_median, s.pix_cd.data(),
                                s.pix_t.data(), s.pix_last.data(), s.pix_median.data(),
                                s.pix_v.data(), s.pix_k.data(), st);
    s.v2d.resize_discard(kSlotSize * n);
    s.v2d.fill_bytes(0, st);
    const gpu::SplatArrays splats{s.xy_opacity_z.data(), s.conic_smax.data(), s.rgb.data(),
                                  s.box.data()};
    if (s.num_instances > 0)
      gpu::launch_blend_backward(
          s.bucket_slots, bp.tiles_x, s.bucket_tile.data(), s.bucket_offsets.data(),
          s.ranges.data(), s.tile_max_last.data(), s.instance_ids_sorted.data(), splats,
          s.pix_v.data(), s.pix_k.data(), s.ckpt_cd.data(), s.ckpt_t.data(), s.v2d.data(), st);

    // 2. Per Gaussian chain to the parameters; the pose gradient summed in a fixed order.
    const size_t sh_size = g.sh.size();
    const size_t off_means = 0, off_scales = 3 * n, off_quats = 6 * n, off_opacity = 10 * n;
    const size_t off_means2d = 11 * n, off_sh = 13 * n;
    s.grads.resize_discard(off_sh + sh_size);
    s.grads.fill_bytes(0, st);
    float* gp = s.grads.data();
    const gpu::GaussianGradPointers gout{gp + off_means,   gp + off_scales, gp + off_quats,
                                         gp + off_opacity, gp + off_sh,     gp + off_means2d};
    const int blocks = gpu::preprocess_backward_blocks(static_cast<int>(n));
    s.pose_partials.resize_discard(12 * static_cast<size_t>(blocks));
    gpu::launch_preprocess_backward(pp, s.means.data(), s.log_scales.data(), s.quats.data(),
                                    s.opacity_logits.data(), s.sh.data(), s.radii.data(),
                                    s.v2d.data(), gout, s.pose_partials.data(), st);
    gpu::launch_reduce_pose(s.pose_partials.data(), blocks, s.pose.data(), st);
    GLIMPSE_CUDA_CHECK(cudaEventRecord(s.events[2], st));

    // 3. Download.
    grads.resize_like(g);
    s.grads.download_range(grads.means.data(), off_means, 3 * n, st);
    s.grads.download_range(grads.log_scales.data(), off_scales, 3 * n, st);
    s.grads.download_range(grads.quats.data(), off_quats, 4 * n, st);
    s.grads.download_range(grads.opacity_logits.data(), off_opacity, n, st);
    s.grads.download_range(grads.means2d.data(), off_means2d, 2 * n, st);
    s.grads.download_range(grads.sh.data(), off_sh, sh_size, st);
    float pose[12];
    s.pose.download(pose, 12, st);
    GLIMPSE_CUDA_CHECK(cudaEventRecord(s.events[3], st));
    s.finish_timings(s.backward_timings);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) grads.v_rotation[r][c] = pose[3 * r + c];
    for (int c = 0; c < 3; ++c) grads.v_translation[c] = pose[9 + c];
    if (stats) {
      // Not fused on the device yet: the radii come back and the statistics are added here.
      std::vector<int32_t> radii(n);
      s.radii.download(radii.data(), n, st);
      GLIMPSE_CUDA_CHECK(cudaStreamSynchronize(st));
      stats->add_view(radii, grads.means2d, s.width, s.height);
    }
  } catch (const gpu::OutOfMemory& e) {
    GLIMPSE_FAIL() << "CUDA rasterizer out of memory in the backward pass of " << n
                   << " Gaussians at " << s.width << "x" << s.height << ": " << e.what();
  }
}

std::unique_ptr<Rasterizer> make_cuda_rasterizer_impl() {
  return std::make_unique<CudaRasterizer>();
}

}  // namespace glimpse
