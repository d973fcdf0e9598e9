// Dataset validation shared by the commands that train on or render a dataset.
#include "core/dataset.h"

#include "core/check.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace glimpse {

void check_dataset_for_rendering(const Dataset& dataset, const std::string& dir,
                                 const std::string& who) {
  const int n = static_cast<int>(dataset.views.size());
  GLIMPSE_CHECK(n > 0) << who << ": dataset " << dir << " has no views";
  GLIMPSE_CHECK(std::isfinite(dataset.near_depth) && std::isfinite(dataset.far_depth) &&
                dataset.near_depth > 0.0 && dataset.far_depth > dataset.near_depth &&
                dataset.far_depth <= kMaxFarOverNear * dataset.near_depth)
      << who << ": dataset " << dir << " has invalid depth bounds (near " << dataset.near_depth
      << ", far " << dataset.far_depth << ")";
  for (const View& view : dataset.views)
    GLIMPSE_CHECK(view.image.width() == view.camera.width &&
                  view.image.height() == view.camera.height && view.image.channels() == 3)
        << who << ": image " << view.image_path << " is " << view.image.width() << "x"
        << view.image.height() << "x" << view.image.channels() << ", expected " << view.camera.width
        << "x" << view.camera.height << " RGB";
  // Every reader's split: indices in range, no view twice, no view both trained on and tested.
  std::vector<int> role(static_cast<size_t>(n), 0);  // 0 none, 1 train, 2 test
  for (int r = 1; r <= 2; ++r)
    for (int id : r == 1 ? dataset.train_ids : dataset.test_ids) {
      GLIMPSE_CHECK(id >= 0 && id < n)
          << who << ": split index " << id << " out of range (" << n << " views)";
      const int seen = role[static_cast<size_t>(id)];
      const std::string& name = dataset.views[static_cast<size_t>(id)].name;
      GLIMPSE_CHECK(seen != r) << who << ": dataset " << dir << ": view " << name
                               << " is listed twice in the " << (r == 1 ? "training" : "test")
                               << " split";
      GLIMPSE_CHECK(seen == 0) << who << ": dataset " << dir << ": view " << name
                               << " is both a training and a test view (a test view must be held "
                                  "out)";
      role[static_cast<size_t>(id)] = r;
    }
}

bool optical_axes_center(const std::vector<View>& views, Vec3<double>& center) {
  if (views.size() < 2) return false;
  Mat3<double> a;
  Vec3<double> b;
  for (const View& v : views) {
    const Vec3<double> c = v.camera.center();
    const Vec3<double> d(v.camera.rotation.m[2][0], v.camera.rotation.m[2][1],
                         v.camera.rotation.m[2][2]);  // optical axis in world
    Mat3<double> p = Mat3<double>::identity();
    const Mat3<double> ddt = outer(d, d);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) p.m[i][j] -= ddt.m[i][j];
    a = a + p;
    b += p * c;
  }
  const double det = a.det();
  if (!(std::abs(det) > 1e-6 * std::pow(static_cast<double>(views.size()), 3))) return false;
  // Cramer's rule on the 3x3 system a x = b.
  for (int k = 0; k < 3; ++k) {
    Mat3<double> ak = a;
    for (int i = 0; i < 3; ++i) ak.m[i][k] = b[i];
    center[k] = ak.det() / det;
  }
  return true;
}

bool estimate_depth_bounds_from_cameras(const std::vector<View>& views, double& near, double& far) {
  Vec3<double> center;
  if (!optical_axes_center(views, center)) return false;
  double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
  for (const View& v : views) {
    const double z = (v.camera.rotation * center + v.camera.translation).z;
    if (!(z > 0.0) || !std::isfinite(z)) return false;
    lo = std::min(lo, z);
    hi = std::max(hi, z);
  }
  near = 0.5 * lo;
  far = 1.5 * hi;
  return true;
}

}  // namespace glimpse
