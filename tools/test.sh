#!/usr/bin/env bash
# The README's test command: checks formatting, builds (installing missing packages), then runs
# every test with ctest. Exits non-zero on any failure; ctest prints its summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install_deps.sh
bash tools/check_format.sh
bash tools/build.sh
ctest --preset default -j "$(nproc)"
