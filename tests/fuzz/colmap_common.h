// What the COLMAP fuzz targets do with a parsed file: the camera model math (pinhole test,
// pinhole camera, projection, rescaling) for cameras and the view camera for images, as
// read_colmap_dataset uses them.
#pragma once

#include "io/colmap.h"

#include <cstdint>
#include <map>

namespace glimpse::fuzz {

inline void use_colmap_cameras(const std::map<uint32_t, ColmapCamera>& cameras) {
  for (const auto& [id, camera] : cameras) {
    colmap_is_pinhole(camera);
    Vec2<double> pixel;
    for (const Vec3<double>& p : {Vec3<double>(0.1, -0.2, 1.0), Vec3<double>(3.0, 2.0, 0.5),
                                  Vec3<double>(0.0, 0.0, -1.0)}) {
      colmap_img_from_cam(camera, p, &pixel);
    }
    try {
      colmap_pinhole_camera(camera);
      scaled_colmap_camera(camera, camera.width / 2 + 1, camera.height / 2 + 1);
    } catch (const Error&) {
    }
  }
}

inline void use_colmap_images(const std::map<uint32_t, ColmapImage>& images) {
  ColmapCamera camera;
  camera.model = ColmapCameraModel::kPinhole;
  camera.width = 64;
  camera.height = 48;
  camera.params = {50.0, 50.0, 32.0, 24.0};
  for (const auto& [id, image] : images) {
    try {
      colmap_view_camera(image, camera, "fuzz image");
    } catch (const Error&) {
    }
  }
}

}  // namespace glimpse::fuzz
