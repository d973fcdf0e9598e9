#!/usr/bin/env bash
# Installs missing dependencies, configures the default preset (Release, CUDA when nvcc is found,
# tests on) into build/ and builds everything with all cores.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install_deps.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"
