// `glimpse export` on a run folder made in code (the synthetic rig's sphere saved as a trained
// model, its cameras in cameras.json): every splat format, the crop box, a mesh, and bad input.
#include "app/export_command.h"

#include "core/check.h"
#include "io/cameras_json.h"
#include "io/image_io.h"
#include "io/splat_formats.h"
#include "io/splat_ply.h"
#include "tests/app/run_glimpse.h"
#include "tests/support/errors.h"
#include "tests/support/synthetic_rig.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mesh/tsdf_mesh.h"
#include <cmath>
#include <filesystem>
#include <fstream>

namespace glimpse {
namespace {

using glimpse::testing::error_of;

namespace fs = std::filesystem;

// A run folder: point_cloud/iteration_{5,10}/point_cloud.ply and cameras.json of 8 views
// around the sphere (4 above, 4 below), metrics.json naming 6 of them as training views.
struct SphereRun {
  testing::TempDir dir;
  fs::path run;
  Gaussians sphere = testing::textured_sphere(8000, 5);
  SphereRun() {
    run = dir.path() / "run";
    std::vector<View> views;
    for (const double height : {-2.35, 2.35})
      for (int k = 0; k < 4; ++k) {
        View v;
        v.name = "view" + std::to_string(views.size()) + ".png";
        v.camera =
            testing::look_at_camera(2 * M_PI * (k + (height > 0 ? 0.5 : 0)) / 4, 1.85, height, 64);
        views.push_back(v);
      }
    for (const int it : {5, 10}) {
      fs::create_directories(run / "point_cloud" / ("iteration_" + std::to_string(it)));
      write_splat_ply(
          (run / "point_cloud" / ("iteration_" + std::to_string(it)) / "point_cloud.ply").string(),
          sphere);
    }
    write_cameras_json((run / "cameras.json").string(), views);
    std::ofstream(run / "metrics.json") << R"({"train": {"views": [
      {"name": "view0.png"}, {"name": "view1.png"}, {"name": "view2.png"}, {"name": "view4.png"},
      {"name": "view5.png"}, {"name": "view6.png"}]}})";
  }
};

TEST(Export, EverySplatFormatReadsBack) {
  SphereRun r;
  for (const char* name : {"a.ply", "a.splat", "a.spz", "a.compressed.ply"}) {
    ExportOptions o;
    o.input = r.run.string();
    o.output = (r.dir.path() / name).string();
    const ExportReport report = run_export(o);
    EXPECT_EQ(report.exported, r.sphere.size()) << name;
    EXPECT_HAS(report.model, "iteration_10");  // the last saved iteration
    const Gaussians back = read_splat_file(o.output);
    EXPECT_EQ(back.size(), r.sphere.size()) << name;
  }
  // The reference PLY is exact.
  const Gaussians ply = read_splat_ply((r.dir.path() / "a.ply").string());
  EXPECT_EQ(ply.means, r.sphere.means);
  // SPZ: version 3 (gzip) by default, version 4 (zstd streams) on request; both read back.
  for (const int version : {3, 4}) {
    ExportOptions spz;
    spz.input = r.run.string();
    spz.output = (r.dir.path() / ("v" + std::to_string(version) + ".spz")).string();
    spz.spz_version = version;
    run_export(spz);
    std::ifstream in(spz.output, std::ios::binary);
    char head[8] = {};
    in.read(head, 8);
    if (version == 3)
      EXPECT_EQ(static_cast<unsigned char>(head[0]), 0x1f);  // gzip magic
    else
      EXPECT_EQ(static_cast<unsigned char>(head[4]), 4);  // plain header: version 4
    EXPECT_EQ(read_splat_file(spz.output).size(), r.sphere.size());
  }
  // A splat file as the input, and an explicit format with a neutral name.
  ExportOptions o;
  o.input = (r.dir.path() / "a.spz").string();
  o.output = (r.dir.path() / "b.bin").string();
  o.format = "splat";
  EXPECT_EQ(run_export(o).exported, r.sphere.size());
  EXPECT_EQ(fs::file_size(o.output), 32 * r.sphere.size());
}

TEST(Export, CropKeepsTheGaussiansInsideTheBox) {
  SphereRun r;
  ExportOptions o;
  o.input = r.run.string();
  o.output = (r.dir.path() / "half.ply").string();
  o.crop = WorldBox{{0.0, -5.0, -5.0}, {5.0, 5.0, 5.0}};
  const ExportReport report = run_export(o);
  EXPECT_GT(report.exported, r.sphere.size() / 3);
  EXPECT_LT(report.exported, 2 * r.sphere.size() / 3);
  const Gaussians half = read_splat_ply(o.output);
  for (size_t i = 0; i < half.size(); ++i) EXPECT_GE(half.means[3 * i], 0.f);
  // A box with nothing inside: an error and no file.
  o.output = (r.dir.path() / "none.ply").string();
  o.crop = WorldBox{{10.0, 10.0, 10.0}, {11.0, 11.0, 11.0}};
  EXPECT_HAS(error_of([&] { run_export(o); }), "the crop box keeps none of the 8000 Gaussians");
  EXPECT_FALSE(fs::exists(o.output));
}

TEST(Export, MeshFromTheRunsTrainingViews) {
  SphereRun r;
  ExportOptions o;
  o.input = r.run.string();
  o.output = (r.dir.path() / "sphere.obj").string();
  o.mesh.resolution = 48;
  o.mesh.views_between = 1;
  const ExportReport report = run_export(o);
  EXPECT_EQ(report.format, "mesh");
  EXPECT_EQ(report.fusion_views, 6 + 5);  // 6 training views, one between each consecutive pair
  const Mesh mesh = read_mesh_file(o.output);
  EXPECT_EQ(mesh.num_triangles(), report.triangles);
  EXPECT_GT(mesh.num_triangles(), 500u);
  double mean = 0;
  for (size_t v = 0; v < mesh.num_vertices(); ++v)
    mean += std::abs(std::hypot(mesh.vertices[3 * v], mesh.vertices[3 * v + 1],
                                mesh.vertices[3 * v + 2]) -
                     1.0) /
            mesh.num_vertices();
  EXPECT_LT(mean, report.voxel_size);
  // The preview: the sphere in the middle of each 64x64 panel, white around it; top coloured
  // and clay from the first view, bottom clay turned to either side (the sphere stays centred:
  // the turn is about the mesh's median depth on the optical axis, the sphere's centre here).
  o.output = (r.dir.path() / "again.obj").string();
  o.preview = (r.dir.path() / "preview.png").string();
  run_export(o);
  const Image<float> preview = read_image_rgb(o.preview);
  ASSERT_EQ(preview.width(), 128);
  ASSERT_EQ(preview.height(), 128);
  for (int k = 0; k < 4; ++k) {
    const int x0 = (k % 2) * 64, y0 = (k / 2) * 64;
    EXPECT_EQ(preview.at(x0 + 1, y0 + 1, 0), 1.0f) << "panel " << k;
    EXPECT_LT(preview.at(x0 + 32, y0 + 32, 0) + preview.at(x0 + 32, y0 + 32, 1) +
                  preview.at(x0 + 32, y0 + 32, 2),
              2.9f)
        << "panel " << k;
  }
  EXPECT_LT(preview.at(96, 32, 1), 0.95f);
  o.preview.clear();
  // Decimated PLY.
  o.output = (r.dir.path() / "small.ply").string();
  o.format = "mesh";
  o.mesh.target_triangles = 300;
  EXPECT_LE(run_export(o).triangles, 300u);
}

TEST(Export, BadInputIsNamedAndLeavesNothing) {
  SphereRun r;
  ExportOptions o;
  o.output = (r.dir.path() / "out.splat").string();
  // A folder without a model.
  o.input = r.dir.path().string();
  EXPECT_HAS(error_of([&] { run_export(o); }), "holds no trained model");
  // An iteration that was not saved: the saved ones are listed.
  o.input = r.run.string();
  o.iteration = 7;
  EXPECT_HAS(error_of([&] { run_export(o); }), "no model of iteration 7 (saved iterations: 5, 10)");
  o.iteration = -1;
  // A format the output's name contradicts.
  o.format = "spz";
  EXPECT_HAS(error_of([&] { run_export(o); }), "is named like a splat file but --format is spz");
  o.format.clear();
  // A truncated model, an empty model.
  const fs::path ply = r.run / "point_cloud" / "iteration_10" / "point_cloud.ply";
  fs::resize_file(ply, fs::file_size(ply) / 2);
  EXPECT_HAS(error_of([&] { run_export(o); }), ply.string() + ": truncated data");
  write_splat_ply(ply.string(), Gaussians{});
  EXPECT_HAS(error_of([&] { run_export(o); }), ply.string() + ": the file holds no Gaussians");
  // A mesh from a splat file without cameras.
  o.input = (r.run / "point_cloud" / "iteration_5" / "point_cloud.ply").string();
  o.output = (r.dir.path() / "m.obj").string();
  EXPECT_HAS(error_of([&] { run_export(o); }), "a mesh needs cameras");
  for (const char* name : {"out.splat", "m.obj"}) EXPECT_FALSE(fs::exists(r.dir.path() / name));
}

TEST(Export, ThroughTheBinary) {
  SphereRun r;
  const fs::path out = r.dir.path() / "x.spz";
  testing::ProgramRun p = testing::run_glimpse("export " + r.run.string() + " -o " + out.string());
  EXPECT_EQ(p.exit_code, 0) << p.output;
  EXPECT_HAS(p.output, "spz: 8000 of 8000 Gaussians");
  EXPECT_TRUE(fs::is_regular_file(out));
  p = testing::run_glimpse("export " + r.run.string() + " -o " + out.string() + " --crop 1,2,3");
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_HAS(p.output, "glimpse: error: export: --crop takes 6 numbers");
  p = testing::run_glimpse("export " + (r.dir.path() / "nothing").string() + " -o " + out.string());
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_HAS(p.output, "does not exist");
  // A mesh, compared with itself: zero distances, everything within the thresholds.
  const fs::path mesh = r.dir.path() / "m.ply", json = r.dir.path() / "cmp.json";
  p = testing::run_glimpse("export " + r.run.string() + " -o " + mesh.string() +
                           " --format mesh --mesh-resolution 32");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  p = testing::run_glimpse("mesh-compare " + mesh.string() + " " + mesh.string() +
                           " --spacing 0.02 --thresholds 0.01,0.05 --json " + json.string());
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_HAS(p.output, "within 0.050: accuracy 1.000, completeness 1.000");
  std::ifstream in(json);
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_LT(j["accuracy"].get<double>(), 0.02);
  p = testing::run_glimpse("mesh-compare " + mesh.string() + " " + out.string());
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_HAS(p.output, "glimpse: error: " + out.string());
}

}  // namespace
}  // namespace glimpse
