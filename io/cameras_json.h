// cameras.json in the reference 3DGS schema (INRIA utils/camera_utils.py camera_to_JSON), written
// next to every trained model so that SIBR, SuperSplat and other 3DGS tools show our cameras.
#pragma once

#include "core/camera.h"
#include "core/dataset.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace glimpse {

// One entry of a cameras.json file.
struct CamerasJsonEntry {
  int id = 0;            // "id": the index the writer gave it
  std::string img_name;  // "img_name": image file name without its extension
  Camera camera;         // cam_from_world pose and intrinsics
};

// Writes a JSON array with one object per view, keys in the reference order:
//   {"id": i, "img_name": stem of view.name, "width", "height",
//    "position": camera centre in world [3], "rotation": camera-to-world rotation R^T as
//    row-major nested arrays [3][3], "fy", "fx", "cx", "cy"}
// (the reference builds Rt = cam_from_world and writes W2C = inv(Rt)'s [:3, 3] and [:3, :3],
// which despite its name is camera-to-world). The principal point is not in the reference
// schema: it goes under a key of our own, "glimpse": {"cx", "cy"}, which schema readers ignore,
// so that off-centre principal points survive a round trip. Throws glimpse::Error naming `what` and
// the view when a camera fails check_camera.
void write_cameras_json(std::ostream& out, const std::vector<View>& views,
                        const std::string& what = "cameras.json");

// Writes cameras.json atomically (temporary sibling, then rename).
void write_cameras_json(const std::string& path, const std::vector<View>& views);

// Reads a cameras.json array back: cam_from_world rotation = transpose of "rotation", translation
// = -R position; fx, fy from the file; cx, cy from "glimpse" (or, as earlier Glimpse versions
// wrote them, top-level "cx"/"cy") when present, else (width / 2, height / 2) as the reference
// assumes. Throws glimpse::Error naming `what` (the file), the entry
// index and its img_name when the JSON is invalid, a key is missing or has the wrong type, or the
// camera fails check_camera (non-positive size or focal length, rotation not orthonormal).
std::vector<CamerasJsonEntry> read_cameras_json_entries(std::istream& in, const std::string& what);
std::vector<CamerasJsonEntry> read_cameras_json_entries(const std::string& path);

// The cameras of read_cameras_json_entries, in file order.
std::vector<Camera> read_cameras_json(std::istream& in, const std::string& what);
std::vector<Camera> read_cameras_json(const std::string& path);

}  // namespace glimpse
