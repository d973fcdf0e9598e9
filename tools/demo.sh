#!/usr/bin/env bash
# The README's main command: builds Glimpse, then reconstructs the bundled demo (LLFF fern, 3
# training views) with `glimpse train` on the CPU, reports the PSNR/SSIM of the 3 held-out
# test views and exports the splats (.splat) and a mesh (PLY and a picture of it). About 2.5 minutes of training on a 2-core CPU (measured: README, "Quick start").
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/build.sh
out=out/demo
build/app/glimpse train assets/demo -o "$out" --iterations 2000
# Export: the splats as .splat (web viewers) and a mesh with a preview image.
build/app/glimpse export "$out" -o "$out/demo.splat"
build/app/glimpse export "$out" -o "$out/mesh.ply" --format mesh --preview "$out/mesh.png"

echo
echo "Demo outputs in $(pwd)/$out:"
echo "  point_cloud/iteration_2000/point_cloud.ply  the trained splats (reference 3DGS PLY layout)"
echo "  test/{renders,gt,depth,error}/              held-out views: render, ground truth,"
echo "                                              depth (turbo), |error| heat map"
echo "  train/...                                   the same for the training views"
echo "  metrics.md, metrics.json                    per-view PSNR/SSIM, means, timing"
echo "  loss_curve.png                              training loss and PSNR per iteration"
echo "  config.json                                 the resolved configuration (--config)"
echo "  cameras.json, checkpoint.bin                cameras (3DGS schema), resumable state"
echo "  demo.splat                                  the splats for web viewers (.splat)"
echo "  mesh.ply, mesh.png                          a mesh fused from the rendered depth, its picture"
