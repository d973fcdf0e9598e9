#!/usr/bin/env bash
# The README's main command: builds Glimpse, then renders the bundled demo (LLFF fern, 6 views):
# Gaussians initialised from the 3 training views, every view rendered on the CPU, PSNR reported.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/build.sh
out=out/demo
build/app/glimpse render assets/demo -o "$out"

echo
echo "Demo outputs in $(pwd)/$out:"
echo "  renders/     rendered views"
echo "  depth/       expected depth (turbo colour map: near bound blue, far bound red)"
echo "  alpha/       accumulated opacity"
echo "  compare/     ground truth | render"
echo "  report.md    per-view PSNR, split and render time"
echo "  report.json  the same, with the resolved options"
