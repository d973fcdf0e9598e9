// Dataset validation shared by the commands that train on or render a dataset.
#include "core/dataset.h"

#include "core/check.h"

#include <cmath>

namespace glimpse {

void check_dataset_for_rendering(const Dataset& dataset, const std::string& dir,
                                 const std::string& who) {
  const int n = static_cast<int>(dataset.views.size());
  GLIMPSE_CHECK(n > 0) << who << ": dataset " << dir << " has no views";
  GLIMPSE_CHECK(std::isfinite(dataset.near_depth) && std::isfinite(dataset.far_depth) &&
                dataset.near_depth > 0.0 && dataset.far_depth > dataset.near_depth)
      << who << ": dataset " << dir << " has invalid depth bounds (near " << dataset.near_depth
      << ", far " << dataset.far_depth << ")";
  for (const View& view : dataset.views)
    GLIMPSE_CHECK(view.image.width() == view.camera.width &&
                  view.image.height() == view.camera.height && view.image.channels() == 3)
        << who << ": image " << view.image_path << " is " << view.image.width() << "x"
        << view.image.height() << "x" << view.image.channels() << ", expected " << view.camera.width
        << "x" << view.camera.height << " RGB";
  for (const std::vector<int>* ids : {&dataset.train_ids, &dataset.test_ids})
    for (int id : *ids)
      GLIMPSE_CHECK(id >= 0 && id < n)
          << who << ": split index " << id << " out of range (" << n << " views)";
}

}  // namespace glimpse
