#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Glimpse builds and tests with, calling apt-get only when
# something is missing. Uses sudo when not run as root. CUDA (nvcc) is optional and not installed.
set -euo pipefail

# With arguments, installs those packages instead of Glimpse's (tools/fuzz.sh installs clang so).
packages=(
  build-essential
  cmake
  ninja-build
  pkg-config
  clang-format
  libopencv-dev
  libcli11-dev
  nlohmann-json3-dev
  zlib1g-dev
  # ZSTD streams of SPZ version 4 (io/splat_formats.cpp).
  libzstd-dev
  libspdlog-dev
  libgtest-dev
  libbenchmark-dev
  # Meshes from the splats (mesh/): TSDF fusion, marching cubes, clean-up, decimation.
  libopen3d-dev
  # The HTTP link between a headless run and remote viewers (app/http_link.h).
  libcpp-httplib-dev
  # The COLMAP program (run as a child process, not linked): SfM on unposed photographs and the
  # COLMAP initialiser; its tests (ctest -L colmap) need it.
  colmap
  # glimpse-viewer (app/viewer/): GLFW 3.3 windows, Dear ImGui 1.86 (with its GLFW and OpenGL 3
  # backend sources), and for its window tests a virtual X display with Mesa's software OpenGL
  # (xvfb-run needs xauth; libgl1-mesa-dri holds llvmpipe).
  libglfw3-dev
  libimgui-dev
  xvfb
  xauth
  libgl1-mesa-dri
)
if (($# > 0)); then
  packages=("$@")
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg -s "$package" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install_deps: installing ${missing[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_deps: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 1
  fi
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "install_deps: not root and sudo is not available; run as root or install: ${missing[*]}" >&2
      exit 1
    fi
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install_deps: all packages present"
fi

# CMakePresets.json (version 6) needs CMake 3.25; Ubuntu 22.04's apt cmake is 3.22.
cmake_version=$(cmake --version | head -n 1 | awk '{print $3}')
if ! printf '%s\n%s\n' "3.25.0" "$cmake_version" | sort -V -C; then
  echo "install_deps: CMake $cmake_version is too old (need >= 3.25 for the presets)." >&2
  echo "  Install a newer one, e.g. 'pip install --user cmake' or Kitware's APT repository" >&2
  echo "  (https://apt.kitware.com), and make sure it comes first on PATH." >&2
  exit 1
fi
