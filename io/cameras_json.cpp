// cameras.json writer and reader (reference 3DGS schema, plus optional cx and cy).
#include "io/cameras_json.h"

#include "core/check.h"
#include "io/atomic_file.h"
#include "io/input_file.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>

namespace glimpse {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

ordered_json camera_entry(int id, const View& view) {
  const Camera& c = view.camera;
  const Vec3<double> position = c.center();
  const Mat3<double> world_from_cam = c.rotation.transposed();
  ordered_json rotation = ordered_json::array();
  for (int i = 0; i < 3; ++i)
    rotation.push_back({world_from_cam.m[i][0], world_from_cam.m[i][1], world_from_cam.m[i][2]});
  ordered_json e;
  e["id"] = id;
  e["img_name"] = fs::path(view.name).filename().stem().string();
  e["width"] = c.width;
  e["height"] = c.height;
  e["position"] = {position.x, position.y, position.z};
  e["rotation"] = rotation;
  e["fy"] = c.fy;
  e["fx"] = c.fx;
  // Our own keys go under "glimpse", where readers of the reference schema do not look (some
  // read a top-level "cx"/"cy" with other conventions): the principal point in pixels, pixel
  // centres at + 0.5.
  e["glimpse"] = {{"cx", c.cx}, {"cy", c.cy}};
  return e;
}

ordered_json cameras_document(const std::vector<View>& views, const std::string& what) {
  ordered_json doc = ordered_json::array();
  for (size_t i = 0; i < views.size(); ++i) {
    check_camera(views[i].camera,
                 what + ": view " + std::to_string(i) + " ('" + views[i].name + "')");
    doc.push_back(camera_entry(static_cast<int>(i), views[i]));
  }
  return doc;
}

// A JSON number as double, or an Error naming the entry and key.
double number(const json& e, const char* key, const std::string& where) {
  GLIMPSE_CHECK(e.contains(key)) << where << ": missing key \"" << key << "\"";
  const json& v = e.at(key);
  GLIMPSE_CHECK(v.is_number()) << where << ": \"" << key << "\" must be a number, found "
                               << v.dump();
  return v.get<double>();
}

int integer(const json& e, const char* key, const std::string& where) {
  GLIMPSE_CHECK(e.contains(key)) << where << ": missing key \"" << key << "\"";
  const json& v = e.at(key);
  const bool fits = v.is_number_unsigned()
                        ? v.get<uint64_t>() <= uint64_t{std::numeric_limits<int>::max()}
                        : v.is_number_integer() &&
                              v.get<int64_t>() >= std::numeric_limits<int>::min() &&
                              v.get<int64_t>() <= std::numeric_limits<int>::max();
  GLIMPSE_CHECK(fits) << where << ": \"" << key << "\" must be an integer, found " << v.dump();
  return static_cast<int>(v.get<int64_t>());
}

Vec3<double> vec3(const json& v, const std::string& where, const std::string& name) {
  GLIMPSE_CHECK(v.is_array() && v.size() == 3)
      << where << ": " << name << " must be an array of 3 numbers, found " << v.dump();
  Vec3<double> r;
  for (int i = 0; i < 3; ++i) {
    GLIMPSE_CHECK(v[static_cast<size_t>(i)].is_number())
        << where << ": " << name << " must be an array of 3 numbers, found " << v.dump();
    r[i] = v[static_cast<size_t>(i)].get<double>();
  }
  return r;
}

CamerasJsonEntry parse_entry(const json& e, size_t index, const std::string& what) {
  std::string where = what + ": entry " + std::to_string(index);
  GLIMPSE_CHECK(e.is_object()) << where << " must be an object, found " << e.dump();
  CamerasJsonEntry entry;
  if (e.contains("img_name")) {
    GLIMPSE_CHECK(e["img_name"].is_string())
        << where << ": \"img_name\" must be a string, found " << e["img_name"].dump();
    entry.img_name = e["img_name"].get<std::string>();
    where += " ('" + entry.img_name + "')";
  }
  entry.id = e.contains("id") ? integer(e, "id", where) : static_cast<int>(index);

  Camera& c = entry.camera;
  c.width = integer(e, "width", where);
  c.height = integer(e, "height", where);
  c.fx = number(e, "fx", where);
  c.fy = number(e, "fy", where);
  // The principal point: ours under "glimpse" (older Glimpse files: top level), else the centre
  // as the reference assumes.
  c.cx = 0.5 * c.width;
  c.cy = 0.5 * c.height;
  if (e.contains("glimpse")) {
    const json& g = e["glimpse"];
    GLIMPSE_CHECK(g.is_object()) << where << ": \"glimpse\" must be an object";
    if (g.contains("cx")) c.cx = number(g, "cx", where + " \"glimpse\"");
    if (g.contains("cy")) c.cy = number(g, "cy", where + " \"glimpse\"");
  } else {
    if (e.contains("cx")) c.cx = number(e, "cx", where);
    if (e.contains("cy")) c.cy = number(e, "cy", where);
  }

  GLIMPSE_CHECK(e.contains("position")) << where << ": missing key \"position\"";
  GLIMPSE_CHECK(e.contains("rotation")) << where << ": missing key \"rotation\"";
  const Vec3<double> position = vec3(e["position"], where, "\"position\"");
  const json& rotation = e["rotation"];
  GLIMPSE_CHECK(rotation.is_array() && rotation.size() == 3)
      << where << ": \"rotation\" must be 3 rows of 3 numbers, found " << rotation.dump();
  Mat3<double> world_from_cam;
  for (int i = 0; i < 3; ++i) {
    const Vec3<double> row =
        vec3(rotation[static_cast<size_t>(i)], where, "\"rotation\" row " + std::to_string(i));
    for (int j = 0; j < 3; ++j) world_from_cam.m[i][j] = row[j];
  }
  c.rotation = world_from_cam.transposed();
  c.translation = -(c.rotation * position);
  check_camera(c, where);
  return entry;
}

}  // namespace

void write_cameras_json(std::ostream& out, const std::vector<View>& views,
                        const std::string& what) {
  out << cameras_document(views, what).dump(2) << "\n";
  GLIMPSE_CHECK(out.good()) << what << ": write failed";
}

void write_cameras_json(const std::string& path, const std::vector<View>& views) {
  const std::string text = cameras_document(views, path).dump(2) + "\n";
  write_file_atomically(path, [&](std::ostream& out) { out << text; });
}

std::vector<CamerasJsonEntry> read_cameras_json_entries(std::istream& in, const std::string& what) {
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    GLIMPSE_FAIL() << what << ": invalid JSON: " << e.what();
  }
  GLIMPSE_CHECK(doc.is_array()) << what
                                << ": expected a JSON array of cameras (the reference 3DGS "
                                   "cameras.json), found a "
                                << doc.type_name();
  std::vector<CamerasJsonEntry> entries;
  entries.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) entries.push_back(parse_entry(doc[i], i, what));
  return entries;
}

std::vector<CamerasJsonEntry> read_cameras_json_entries(const std::string& path) {
  std::ifstream in = open_input_file(path);
  return read_cameras_json_entries(in, path);
}

std::vector<Camera> read_cameras_json(std::istream& in, const std::string& what) {
  std::vector<Camera> cameras;
  for (CamerasJsonEntry& e : read_cameras_json_entries(in, what)) cameras.push_back(e.camera);
  return cameras;
}

std::vector<Camera> read_cameras_json(const std::string& path) {
  std::vector<Camera> cameras;
  for (CamerasJsonEntry& e : read_cameras_json_entries(path)) cameras.push_back(e.camera);
  return cameras;
}

}  // namespace glimpse
